import { createHash } from 'node:crypto';
import { Certificate } from './certificate';

/**
 * Certificates already read in this process, so a certificate that signs many objects (a credential
 * cache keeps one for ten minutes) is parsed, and has its key made and its issuer's signature checked,
 * once. Found by the SHA-256 of the exact DER and compared byte for byte: a certificate that differs in
 * any byte is another entry. Few are kept (each holds a key): the objects one certificate signs are
 * mostly verified close together, and the least recently used is forgotten first.
 */
const MAX_KNOWN = 64;
const known = new Map<string, Certificate>();

export function certificateOf(der: Buffer): Certificate {
  const key = createHash('sha256').update(der).digest('base64');
  const hit = known.get(key);
  if (hit?.der.equals(der)) {
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
