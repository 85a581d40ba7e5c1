import { Certificate } from './certificate';

/**
 * Certificates already read in this process, so a certificate that signs many objects (a credential
 * cache keeps one for ten minutes) is parsed, and has its key made and its issuer's signature checked,
 * once. Found by the exact DER bytes (as a string: a Map compares keys whole), so a certificate that
 * differs in any byte is another entry. Few are kept (each holds a key): the objects one certificate
 * signs are mostly verified close together, and the least recently used is forgotten first.
 */
const MAX_KNOWN = 64;
const known = new Map<string, Certificate>();

export function certificateOf(der: Buffer): Certificate {
  const key = der.toString('latin1');
  const hit = known.get(key);
  if (hit) {
    known.delete(key);
    known.set(key, hit);
    return hit;
  }
  // Its own copy of the bytes: the cached certificate never changes with the buffer it came in.
  const cert = new Certificate(Buffer.from(der));
  if (known.size >= MAX_KNOWN) known.delete(known.keys().next().value as string);
  known.set(key, cert);
  return cert;
}
