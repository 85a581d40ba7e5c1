import { createHash, verify } from 'node:crypto';
import { GitsignError } from '../errors';
import { EC_CURVES, parseSshPublicKey, SK_ECDSA, SK_ED25519, type SshPublicKey } from './publicKey';
import { WireReader, wireString } from './wire';

/**
 * SSH signatures as `ssh-keygen -Y sign` makes them and git stores them (OpenSSH PROTOCOL.sshsig):
 * armored "SSH SIGNATURE" text over a blob of magic, version, public key, namespace, reserved, hash
 * algorithm and signature; the key signs the magic, namespace, reserved, hash algorithm and the
 * message's hash. Verified with node:crypto only.
 */
export const SSH_ARMOR_BEGIN = '-----BEGIN SSH SIGNATURE-----';
const ARMOR_END = '-----END SSH SIGNATURE-----';
const MAGIC = Buffer.from('SSHSIG', 'latin1');
const VERSION = 1;
/** The namespace git signs and verifies objects in (gpg-interface.c). */
export const GIT_NAMESPACE = 'git';
/** An armored signature is a few hundred bytes; an RSA-16384 one about 6 KiB. */
export const MAX_SSH_SIGNATURE = 64 * 1024;

export interface SshSignature {
  key: SshPublicKey;
  namespace: string;
  reserved: Buffer;
  hashAlgorithm: 'sha256' | 'sha512';
  algorithm: string;
  signature: Buffer;
  /**
   * Security keys: the authenticator's flags (0x01 user present, 0x04 user verified) and counter, as
   * signed. Neither is required to be anything: `ssh-keygen -Y verify` (so git) accepts every flag and
   * has no option for them, and a counter can only be judged against state no signature carries.
   */
  sk?: { flags: number; counter: number };
}

const malformed = (detail: string): GitsignError => new GitsignError('SSH_MALFORMED', `the SSH signature ${detail}`);

/** The blob inside the armor: the BEGIN and END lines, base64 lines between them, nothing else. */
function dearmor(text: Buffer): Buffer {
  if (text.length > MAX_SSH_SIGNATURE) throw malformed(`is ${text.length} bytes (at most ${MAX_SSH_SIGNATURE})`);
  const lines = text.toString('latin1').replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines[0] !== SSH_ARMOR_BEGIN) throw malformed(`does not start with ${SSH_ARMOR_BEGIN}`);
  if (lines[lines.length - 1] !== ARMOR_END) throw malformed(`does not end with ${ARMOR_END}`);
  const body = lines.slice(1, -1).join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) throw malformed('is not base64 between its armor lines');
  const blob = Buffer.from(body, 'base64');
  if (blob.toString('base64') !== body) throw malformed('is not canonical base64');
  return blob;
}

function refuseAlgorithm(key: SshPublicKey, algorithm: string): never {
  if (algorithm === 'ssh-rsa') throw new GitsignError('SSH_UNSUPPORTED', 'the SSH signature is ssh-rsa (RSA with SHA-1), which is refused; sign with rsa-sha2-512');
  throw malformed(`is ${JSON.stringify(algorithm.slice(0, 64))}, which a ${key.type} key does not make`);
}

/** Parses an armored SSH signature (no verification yet). */
export function parseSshSignature(armored: Buffer): SshSignature {
  const blob = dearmor(armored);
  const r = new WireReader(blob, 'the SSH signature');
  if (!r.bytes(MAGIC.length).equals(MAGIC)) throw malformed('does not start with SSHSIG');
  const version = r.uint32();
  if (version !== VERSION) throw new GitsignError('SSH_UNSUPPORTED', `the SSH signature is of version ${version}; version ${VERSION} is known`);
  const key = parseSshPublicKey(r.string());
  const namespace = r.name('namespace');
  if (namespace === '') throw malformed('has an empty namespace');
  const reserved = r.string();
  const hashAlgorithm = r.name('hash algorithm');
  if (hashAlgorithm !== 'sha256' && hashAlgorithm !== 'sha512') throw new GitsignError('SSH_UNSUPPORTED', `the SSH signature hashes with ${JSON.stringify(hashAlgorithm.slice(0, 32))} (sha256 and sha512 are known)`);
  const inner = new WireReader(r.string(), 'the SSH signature value');
  r.end();
  const algorithm = inner.name('algorithm');
  const signature = inner.string();
  const isSk = key.type === SK_ECDSA || key.type === SK_ED25519;
  const sk = isSk ? { flags: inner.bytes(1)[0], counter: inner.uint32() } : undefined;
  inner.end();
  const expected = key.type === 'ssh-rsa' ? ['rsa-sha2-256', 'rsa-sha2-512'] : [key.type];
  if (!expected.includes(algorithm)) refuseAlgorithm(key, algorithm);
  return { key, namespace, reserved, hashAlgorithm, algorithm, signature, ...(sk ? { sk } : {}) };
}

/** The signature bytes node:crypto verifies, and the digest it uses (null: Ed25519 hashes itself). */
function nodeSignature(sig: SshSignature): { bytes: Buffer; digest: string | null; dsaEncoding?: 'ieee-p1363' } {
  const ec = EC_CURVES[sig.key.type === SK_ECDSA ? 'ecdsa-sha2-nistp256' : sig.key.type];
  if (ec) {
    // RFC 5656 3.1.2: mpint r, mpint s; as IEEE P1363 each is left-padded to the curve's size.
    const r = new WireReader(sig.signature, 'the ECDSA signature');
    const parts = [r.unsignedMpint('r'), r.unsignedMpint('s')];
    r.end();
    if (parts.some((p) => p.length > ec.bytes || p.length === 0)) throw new GitsignError('SSH_BAD_SIGNATURE', 'the ECDSA signature values are out of range');
    return { bytes: Buffer.concat(parts.map((p) => Buffer.concat([Buffer.alloc(ec.bytes - p.length), p]))), digest: ec.hash, dsaEncoding: 'ieee-p1363' };
  }
  if (sig.key.type === 'ssh-rsa') {
    const size = sig.key.rsaBytes ?? 0;
    if (sig.signature.length > size || sig.signature.length === 0) throw new GitsignError('SSH_BAD_SIGNATURE', 'the RSA signature is longer than its key');
    // OpenSSH accepts a signature shorter than the modulus and left-pads it; so do we.
    return { bytes: Buffer.concat([Buffer.alloc(size - sig.signature.length), sig.signature]), digest: sig.algorithm === 'rsa-sha2-512' ? 'sha512' : 'sha256' };
  }
  if (sig.signature.length !== 64) throw new GitsignError('SSH_BAD_SIGNATURE', 'the Ed25519 signature is not 64 bytes');
  return { bytes: sig.signature, digest: null };
}

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();

/**
 * What the key signed: SSHSIG's "signed data" over the message's hash; a security key signs instead
 * the hash of its application, its flags and counter, and the hash of that signed data (PROTOCOL.u2f).
 */
function signedData(sig: SshSignature, message: Buffer): Buffer {
  const digest = createHash(sig.hashAlgorithm).update(message).digest();
  const data = Buffer.concat([MAGIC, wireString(sig.namespace), wireString(sig.reserved), wireString(sig.hashAlgorithm), wireString(digest)]);
  if (!sig.sk) return data;
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(sig.sk.counter, 0);
  return Buffer.concat([sha256(sig.key.application ?? Buffer.alloc(0)), Buffer.from([sig.sk.flags]), counter, sha256(data)]);
}

/**
 * Verifies an armored SSH signature over `message` in `namespace`: returns the parsed signature (its
 * key says who signed), or throws SSH_MALFORMED, SSH_UNSUPPORTED, SSH_NAMESPACE or SSH_BAD_SIGNATURE.
 */
export function verifySshSignature(armored: Buffer, message: Buffer, namespace: string = GIT_NAMESPACE): SshSignature {
  const sig = parseSshSignature(armored);
  if (sig.namespace !== namespace) throw new GitsignError('SSH_NAMESPACE', `the SSH signature was made for the namespace ${JSON.stringify(sig.namespace)}, not ${JSON.stringify(namespace)}`);
  const { bytes, digest, dsaEncoding } = nodeSignature(sig);
  let ok = false;
  try {
    ok = verify(digest, signedData(sig, message), dsaEncoding ? { key: sig.key.key, dsaEncoding } : sig.key.key, bytes);
  } catch {
    ok = false;
  }
  if (!ok) throw new GitsignError('SSH_BAD_SIGNATURE', `the SSH signature by ${sig.key.fingerprint} does not match the object`);
  return sig;
}
