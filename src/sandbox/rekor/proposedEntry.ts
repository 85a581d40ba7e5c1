import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { decodePemAll, encodePem } from '../../cms/pem';
import { canonicalBody } from '../../rekor/hashedrekord';
import { Certificate } from '../../x509/certificate';
import { verifyDigest } from '../crypto/prehash';

/**
 * Rekor's handling of a proposed hashedrekord v0.0.1 entry: decode, cross-field validation, the
 * signature check against the key or certificate inside, canonicalization (key re-encoded as PEM, JCS
 * body), and the search-index keys (key hash, SAN subjects, artifact hash).
 */
export class EntryRejected extends Error {}

export interface CanonicalEntry {
  body: Buffer;
  indexKeys: string[];
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
  return { body, indexKeys };
}

/**
 * Validates and canonicalizes a proposed entry. Throws EntryRejected (Rekor: 400 "error processing
 * entry: ...") for anything malformed, unsupported, or whose signature does not verify.
 */
export function canonicalizeProposedEntry(proposed: unknown): CanonicalEntry {
  const p = obj(proposed);
  if (!p || typeof p.kind !== 'string') throw new EntryRejected('kind is required');
  if (p.kind !== 'hashedrekord') throw new EntryRejected(`unsupported kind ${JSON.stringify(p.kind)} in the sandbox (hashedrekord only)`);
  if (typeof p.apiVersion !== 'string') throw new EntryRejected('apiVersion is required');
  if (p.apiVersion !== '0.0.1') throw new EntryRejected(`hashedrekord implementation for version '${p.apiVersion}' not found`);
  const spec = obj(p.spec);
  if (!spec) throw new EntryRejected('spec is required');
  return hashedRekordV001(spec);
}

/**
 * The search keys of a body the log already holds (replay at start-up). The body is canonical, so the
 * key hash is the hash of its key content as stored; keys shared by many entries are parsed once.
 */
export function indexKeysOfLoggedBody(body: Buffer, cache = new Map<string, string[]>()): string[] {
  try {
    const e = JSON.parse(body.toString('utf8')) as {
      spec?: { data?: { hash?: { algorithm?: string; value?: string } }; signature?: { publicKey?: { content?: string } } };
    };
    const content = e.spec?.signature?.publicKey?.content ?? '';
    let keyKeys = cache.get(content);
    if (!keyKeys) {
      const pem = Buffer.from(content, 'base64');
      const certs = decodePemAll(pem.toString('utf8'), 'CERTIFICATE');
      keyKeys = [createHash('sha256').update(pem).digest('hex'), ...(certs.length ? new Certificate(certs[0]).subjectAlternativeNames : [])];
      cache.set(content, keyKeys);
    }
    const hash = e.spec?.data?.hash;
    return [...keyKeys, ...(hash ? [`${hash.algorithm}:${hash.value}`] : [])].map((k) => k.toLowerCase());
  } catch {
    return [];
  }
}
