import { createHash, createPublicKey, type KeyObject, verify as cryptoVerify } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { decodePemAll, encodePem } from '../../cms/pem';
import { dsseBody, intotoBody } from '../../rekor/envelopeEntry';
import { canonicalBody } from '../../rekor/hashedrekord';
import { Certificate } from '../../x509/certificate';
import { verifyDigest } from '../../crypto/prehash';

/**
 * Rekor's handling of proposed entries (hashedrekord, intoto and dsse v0.0.1): decode, cross-field
 * validation, the signature check against the key or certificate inside, canonicalization (key
 * re-encoded as PEM, JCS body; for the DSSE kinds only hashes of the envelope and payload, never the
 * envelope), and the search-index keys (key hash, SAN subjects, artifact or envelope and payload
 * hashes, and an in-toto statement's subject and material digests).
 */
export class EntryRejected extends Error {}

export interface CanonicalEntry {
  body: Buffer;
  indexKeys: string[];
  /** Index keys the body cannot give back (from the envelope's payload): stored with the entry. */
  payloadKeys: string[];
}

const HASH_SIZES: Record<string, number> = { sha256: 32, sha384: 48, sha512: 64 };

const b64 = (v: unknown, what: string): Buffer => {
  if (typeof v !== 'string' || v === '') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v)) throw new EntryRejected(`failed parsing base64 data for ${what}`);
  return Buffer.from(v, 'base64');
};

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

/** A PEM public key or certificate (chain) as Rekor's x509 PKI type reads it. */
export interface PkiKey {
  key: KeyObject;
  canonicalPem: string;
  certificate?: Certificate;
}

export function parsePkiKey(content: Buffer): PkiKey {
  const text = content.toString('utf8');
  const certs = decodePemAll(text, 'CERTIFICATE');
  if (certs.length > 10) throw new EntryRejected('too many certificates in the public key');
  if (certs.length > 0) {
    let certificate: Certificate;
    let key: KeyObject;
    try {
      certificate = new Certificate(certs[0]);
      key = createPublicKey({ key: Buffer.from(certificate.x509.publicKey), format: 'der', type: 'spki' });
    } catch (err) {
      throw new EntryRejected(`invalid public key: ${(err as Error).message}`);
    }
    return { key, certificate, canonicalPem: certs.map((c) => encodePem('CERTIFICATE', c)).join('') };
  }
  const keys = decodePemAll(text, 'PUBLIC KEY');
  if (keys.length === 0) {
    const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
    throw new EntryRejected(label ? `invalid public key: unsupported PEM block type "${label}"` : 'invalid public key: failure decoding PEM');
  }
  try {
    const key = createPublicKey({ key: keys[0], format: 'der', type: 'spki' });
    return { key, canonicalPem: encodePem('PUBLIC KEY', key.export({ type: 'spki', format: 'der' })) };
  } catch (err) {
    throw new EntryRejected(`invalid public key: ${(err as Error).message}`);
  }
}

export function keyIndexKey(k: PkiKey): string {
  return createHash('sha256').update(k.canonicalPem).digest('hex');
}

function hashedRekordV001(spec: Record<string, unknown>): CanonicalEntry {
  const sig = obj(spec.signature);
  if (!sig) throw new EntryRejected('missing signature');
  const signature = b64(sig.content, 'signature content');
  const pk = obj(sig.publicKey);
  if (!pk) throw new EntryRejected('missing public key');
  const keyBytes = b64(pk.content, 'public key content');
  const data = obj(spec.data);
  if (!data) throw new EntryRejected('missing data');
  const hash = obj(data.hash);
  if (!hash) throw new EntryRejected('missing hash');
  if (typeof hash.value !== 'string') throw new EntryRejected('missing hash value');
  const algorithm = hash.algorithm;
  if (typeof algorithm !== 'string' || !(algorithm in HASH_SIZES)) throw new EntryRejected('validation failure: data.hash.algorithm must be one of sha256, sha384, sha512');
  if (!/^[0-9a-fA-F]+$/.test(hash.value) || hash.value.length !== HASH_SIZES[algorithm] * 2) throw new EntryRejected('invalid value for hash');
  if (signature.length === 0) throw new EntryRejected('invalid signature: empty');
  if (keyBytes.length === 0) throw new EntryRejected('invalid public key: empty');
  const key = parsePkiKey(keyBytes);
  let ok: boolean;
  try {
    ok = verifyDigest(key.key, Buffer.from(hash.value, 'hex'), signature);
  } catch (err) {
    throw new EntryRejected(`verifying signature: ${(err as Error).message}`);
  }
  if (!ok) throw new EntryRejected('verifying signature: invalid signature when validating ASN.1 encoded signature');
  const body = canonicalBody({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm, value: hash.value } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(key.canonicalPem).toString('base64') } },
    },
  });
  const subjects = key.certificate ? key.certificate.subjectAlternativeNames : [];
  const indexKeys = [keyIndexKey(key), ...subjects, `${algorithm}:${hash.value}`].map((k) => k.toLowerCase());
  return { body, indexKeys, payloadKeys: [] };
}

const IN_TOTO = 'application/vnd.in-toto+json';

interface ProposedEnvelope {
  raw: Buffer;
  payloadType: string;
  payload: Buffer;
  signatures: { sig: string; bytes: Buffer }[];
}

/** go-securesystemslib's decoding: padded standard base64, else padded URL-safe base64. */
function dsseBase64(v: unknown, what: string): Buffer {
  if (typeof v === 'string' && v.length % 4 === 0) {
    if (/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return Buffer.from(v, 'base64');
    if (/^[A-Za-z0-9_-]*={0,2}$/.test(v)) return Buffer.from(v, 'base64url');
  }
  throw new EntryRejected(`unable to base64 decode ${what} (is ${what} in the right format?)`);
}

function parseEnvelope(text: unknown): ProposedEnvelope {
  if (typeof text !== 'string' || text === '') throw new EntryRejected('missing envelope content');
  let e: { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  try {
    e = JSON.parse(text) as typeof e;
  } catch (err) {
    throw new EntryRejected(`invalid DSSE envelope: ${(err as Error).message}`);
  }
  if (!obj(e)) throw new EntryRejected('invalid DSSE envelope: not an object');
  const payloadType = typeof e.payloadType === 'string' ? e.payloadType : '';
  const payload = typeof e.payload === 'string' ? e.payload : '';
  if (!Array.isArray(e.signatures) || e.signatures.length === 0) throw new EntryRejected('DSSE envelope must contain 1 or more signatures');
  if (payload === '' || payloadType === '') throw new EntryRejected('invalid DSSE envelope');
  const signatures = e.signatures.map((s: unknown) => {
    const sig = obj(s)?.sig;
    return { sig: typeof sig === 'string' ? sig : '', bytes: dsseBase64(sig, 'signature') };
  });
  return { raw: Buffer.from(text, 'utf8'), payloadType, payload: dsseBase64(payload, 'payload'), signatures };
}

/** The envelope's signatures the key verifies over PAE(payloadType, payload), with SHA-256 as Rekor does. */
function verifiedBy(env: ProposedEnvelope, key: PkiKey): string[] {
  const pae = dsse.preAuthEncoding(env.payloadType, env.payload);
  const hash = key.key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return env.signatures
    .filter((s) => {
      try {
        return cryptoVerify(hash, pae, key.key, s.bytes);
      } catch {
        return false;
      }
    })
    .map((s) => s.sig);
}

/** An in-toto statement's subject digests and a SLSA predicate's material digests, as "alg:digest". */
function statementKeys(env: ProposedEnvelope): string[] {
  if (env.payloadType !== IN_TOTO) return [];
  let st: { subject?: unknown; predicate?: { materials?: unknown } };
  try {
    st = JSON.parse(env.payload.toString('utf8')) as typeof st;
  } catch {
    return [];
  }
  const digests = (list: unknown): string[] =>
    (Array.isArray(list) ? list : []).flatMap((d) => Object.entries(obj(obj(d)?.digest) ?? {}).map(([alg, v]) => `${alg}:${String(v)}`));
  return [...digests(obj(st)?.subject), ...digests(obj(st?.predicate)?.materials)].map((k) => k.toLowerCase());
}

const sha256Key = (data: Buffer | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

function keyKeys(key: PkiKey): string[] {
  return [`sha256:${keyIndexKey(key)}`, ...(key.certificate ? key.certificate.subjectAlternativeNames : [])];
}

/** intoto 0.0.1: the envelope and one key; hashes given by the client are ignored and recomputed. */
function intotoV001(spec: Record<string, unknown>): CanonicalEntry {
  const content = obj(spec.content);
  if (!content) throw new EntryRejected('missing content in intoto v0.0.1 entry');
  if (spec.publicKey === undefined || spec.publicKey === '') throw new EntryRejected('missing public key in intoto v0.0.1 entry');
  const key = parsePkiKey(b64(spec.publicKey, 'public key'));
  const env = parseEnvelope(content.envelope);
  if (verifiedBy(env, key).length === 0) throw new EntryRejected('Accepted signatures do not match threshold, Found: 0, Expected 1');
  const body = canonicalBody(intotoBody(env.raw, env.payload, key.canonicalPem));
  const payloadKeys = statementKeys(env);
  const indexKeys = [sha256Key(env.raw), ...keyKeys(key), sha256Key(env.payload), ...payloadKeys].map((k) => k.toLowerCase());
  return { body, indexKeys, payloadKeys };
}

/**
 * dsse 0.0.1: every signature must be verified by one of the verifiers, taken in order until all are;
 * each verifier taken must verify at least one.
 */
function dsseV001(spec: Record<string, unknown>): CanonicalEntry {
  const proposed = obj(spec.proposedContent);
  if (!proposed) throw new EntryRejected('either proposedContent or envelopeHash, payloadHash, and signatures must be present');
  if (spec.envelopeHash !== undefined || spec.payloadHash !== undefined || spec.signatures !== undefined) {
    throw new EntryRejected('either proposedContent or envelopeHash, payloadHash, and signatures must be present but not both');
  }
  if (!Array.isArray(proposed.verifiers) || proposed.verifiers.length === 0) throw new EntryRejected('validation failure: proposedContent.verifiers in body should have at least 1 items');
  const env = parseEnvelope(proposed.envelope);
  const keyBySig = new Map<string, PkiKey>();
  for (const v of proposed.verifiers) {
    if (env.signatures.every((s) => keyBySig.has(s.sig))) break;
    const key = parsePkiKey(b64(v, 'verifier'));
    const sigs = verifiedBy(env, key);
    if (sigs.length === 0) throw new EntryRejected('could not verify envelope: Accepted signatures do not match threshold, Found: 0, Expected 1');
    for (const sig of sigs) keyBySig.set(sig, key);
  }
  if (env.signatures.some((s) => !keyBySig.has(s.sig))) throw new EntryRejected('all signatures must have a key that verifies it');
  const signed = [...keyBySig].map(([sig, key]) => ({ sig, canonicalPem: key.canonicalPem }));
  const body = canonicalBody(dsseBody(env.raw, env.payload, signed));
  const payloadKeys = statementKeys(env);
  const indexKeys = [...[...keyBySig.values()].flatMap(keyKeys), sha256Key(env.payload), sha256Key(env.raw), ...payloadKeys].map((k) => k.toLowerCase());
  return { body, indexKeys, payloadKeys };
}

const KINDS: Record<string, (spec: Record<string, unknown>) => CanonicalEntry> = {
  hashedrekord: hashedRekordV001,
  intoto: intotoV001,
  dsse: dsseV001,
};

/**
 * Validates and canonicalizes a proposed entry. Throws EntryRejected (Rekor: 400 "error processing
 * entry: ...") for anything malformed, unsupported, or whose signature does not verify.
 */
export function canonicalizeProposedEntry(proposed: unknown): CanonicalEntry {
  const p = obj(proposed);
  if (!p || typeof p.kind !== 'string') throw new EntryRejected('kind is required');
  const kind = KINDS[p.kind];
  if (!kind) throw new EntryRejected(`unsupported kind ${JSON.stringify(p.kind)} in the sandbox (${Object.keys(KINDS).join(', ')})`);
  if (typeof p.apiVersion !== 'string') throw new EntryRejected('apiVersion is required');
  if (p.apiVersion !== '0.0.1') throw new EntryRejected(`${p.kind} implementation for version '${p.apiVersion}' not found`);
  const spec = obj(p.spec);
  if (!spec) throw new EntryRejected('spec is required');
  return kind(spec);
}

/**
 * The search keys of a body the log already holds (replay at start-up; the payload's keys are stored
 * with the entry). The body is canonical, so a key's hash is the hash of its content as stored; keys
 * shared by many entries are parsed once. intoto and dsse prefix the key hash with "sha256:", as Rekor.
 */
export function indexKeysOfLoggedBody(body: Buffer, cache = new Map<string, string[]>()): string[] {
  const keysOf = (content: string): string[] => {
    let keys = cache.get(content);
    if (!keys) {
      const pem = Buffer.from(content, 'base64');
      const certs = decodePemAll(pem.toString('utf8'), 'CERTIFICATE');
      keys = [createHash('sha256').update(pem).digest('hex'), ...(certs.length ? new Certificate(certs[0]).subjectAlternativeNames : [])];
      cache.set(content, keys);
    }
    return keys;
  };
  const prefixed = (keys: string[]): string[] => [`sha256:${keys[0]}`, ...keys.slice(1)];
  type Hash = { algorithm?: string; value?: string };
  const hashKey = (h: Hash | undefined): string[] => (h ? [`${h.algorithm}:${h.value}`] : []);
  try {
    const e = JSON.parse(body.toString('utf8')) as {
      kind?: string;
      spec?: {
        data?: { hash?: Hash };
        signature?: { publicKey?: { content?: string } };
        content?: { hash?: Hash; payloadHash?: Hash };
        publicKey?: string;
        signatures?: { verifier?: string }[];
        envelopeHash?: Hash;
        payloadHash?: Hash;
      };
    };
    const spec = e.spec ?? {};
    let keys: string[];
    if (e.kind === 'intoto') {
      keys = [...hashKey(spec.content?.hash), ...prefixed(keysOf(spec.publicKey ?? '')), ...hashKey(spec.content?.payloadHash)];
    } else if (e.kind === 'dsse') {
      keys = [...(spec.signatures ?? []).flatMap((sig) => prefixed(keysOf(sig.verifier ?? ''))), ...hashKey(spec.payloadHash), ...hashKey(spec.envelopeHash)];
    } else {
      keys = [...keysOf(spec.signature?.publicKey?.content ?? ''), ...hashKey(spec.data?.hash)];
    }
    return keys.map((k) => k.toLowerCase());
  } catch {
    return [];
  }
}
