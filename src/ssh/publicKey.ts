import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { GitsignError } from '../errors';
import { WireReader } from './wire';

/**
 * An SSH public key from its wire blob (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4), as a node:crypto
 * KeyObject built from a JWK: node:crypto checks the numbers (an EC point on its curve), we only
 * move bytes. Key types we do not verify (security keys, certificates, DSA) are refused by name.
 */
export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ecdsa-sha2-nistp521' | 'ssh-rsa' | typeof SK_ECDSA | typeof SK_ED25519;

/** FIDO security keys (OpenSSH PROTOCOL.u2f): the key signs a digest of its application, flags, a counter and the message. */
export const SK_ECDSA = 'sk-ecdsa-sha2-nistp256@openssh.com';
export const SK_ED25519 = 'sk-ssh-ed25519@openssh.com';

export interface SshPublicKey {
  type: SshKeyType;
  key: KeyObject;
  /** As OpenSSH prints it: SHA256: and the unpadded base64 of the blob's SHA-256. */
  fingerprint: string;
  blob: Buffer;
  /** RSA: the modulus length in bytes (a signature is left-padded to it, as OpenSSH does). */
  rsaBytes?: number;
  /** Security keys: the application string the key was made for (its hash is part of what it signs). */
  application?: Buffer;
}

/** Any public key blob is smaller: an RSA key of 16384 bits is about 2 KiB. */
export const MAX_KEY_BLOB = 8192;
const RSA_MIN_BITS = 1024;
const RSA_MAX_BITS = 16384;

export const EC_CURVES: Record<string, { curve: string; jwk: string; bytes: number; hash: string }> = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', jwk: 'P-256', bytes: 32, hash: 'sha256' },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', jwk: 'P-384', bytes: 48, hash: 'sha384' },
  'ecdsa-sha2-nistp521': { curve: 'nistp521', jwk: 'P-521', bytes: 66, hash: 'sha512' },
};

export function sshFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

const b64url = (b: Buffer): string => b.toString('base64url');

function refuseType(type: string): never {
  if (type.startsWith('sk-')) throw new GitsignError('SSH_UNSUPPORTED', `the security key type ${JSON.stringify(type.slice(0, 64))} is not supported (${SK_ECDSA} and ${SK_ED25519} are)`);
  if (type.includes('-cert-v01@openssh.com')) throw new GitsignError('SSH_UNSUPPORTED', `${JSON.stringify(type)} is an OpenSSH certificate: certificates (cert-authority) are not supported; name the key itself`);
  throw new GitsignError('SSH_UNSUPPORTED', `the SSH key type ${JSON.stringify(type.slice(0, 64))} is not supported (ssh-ed25519, ecdsa-sha2-nistp256/384/521 and ssh-rsa are)`);
}

function jwkOf(type: string, r: WireReader): { jwk: Record<string, string>; rsaBytes?: number; application?: Buffer } {
  if (type === 'ssh-ed25519' || type === SK_ED25519) {
    const x = r.string();
    if (x.length !== 32) throw new GitsignError('SSH_MALFORMED', `an ${type} key is 32 bytes, not ${x.length}`);
    return { jwk: { kty: 'OKP', crv: 'Ed25519', x: b64url(x) }, ...(type === SK_ED25519 ? { application: r.string() } : {}) };
  }
  if (type === SK_ECDSA) return { ...jwkOf('ecdsa-sha2-nistp256', r), application: r.string() };
  const ec = EC_CURVES[type];
  if (ec) {
    if (r.name('curve') !== ec.curve) throw new GitsignError('SSH_MALFORMED', `a ${type} key names another curve`);
    const q = r.string();
    if (q.length !== 1 + 2 * ec.bytes || q[0] !== 0x04) throw new GitsignError('SSH_MALFORMED', `a ${type} key's point is not an uncompressed point of ${ec.curve}`);
    return { jwk: { kty: 'EC', crv: ec.jwk, x: b64url(q.subarray(1, 1 + ec.bytes)), y: b64url(q.subarray(1 + ec.bytes)) } };
  }
  if (type === 'ssh-rsa') {
    const e = r.unsignedMpint('RSA exponent');
    const n = r.unsignedMpint('RSA modulus');
    const bits = n.length * 8 - (n.length ? Math.clz32(n[0]) - 24 : 0);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new GitsignError('SSH_UNSUPPORTED', `an RSA key of ${bits} bits is refused (${RSA_MIN_BITS} to ${RSA_MAX_BITS})`);
    if (e.length === 0 || e.length > 8 || !(e[e.length - 1] & 1)) throw new GitsignError('SSH_MALFORMED', 'the RSA exponent is not a small odd number');
    return { jwk: { kty: 'RSA', n: b64url(n), e: b64url(e) }, rsaBytes: n.length };
  }
  return refuseType(type);
}

/** Parses a public key blob (the base64 of an authorized_keys line, or SSHSIG's publickey). */
export function parseSshPublicKey(blob: Buffer): SshPublicKey {
  if (blob.length > MAX_KEY_BLOB) throw new GitsignError('SSH_MALFORMED', `an SSH public key of ${blob.length} bytes is refused (at most ${MAX_KEY_BLOB})`);
  const r = new WireReader(blob, 'the SSH public key');
  const type = r.name('key type');
  const { jwk, rsaBytes, application } = jwkOf(type, r);
  r.end();
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw new GitsignError('SSH_MALFORMED', `the ${type} public key is not a valid key (node:crypto refuses its numbers)`);
  }
  return { type: type as SshKeyType, key, fingerprint: sshFingerprint(blob), blob, ...(rsaBytes ? { rsaBytes } : {}), ...(application ? { application } : {}) };
}
