import { createHash, type KeyObject } from 'node:crypto';

/**
 * A Rekor v2 log's ID: the C2SP signed-note key ID of its Ed25519 key, SHA-256(name || "\n" || 0x01 ||
 * raw key), so the checkpoint's key hint (its first 4 bytes) and the trusted root's log ID agree.
 */
export function ed25519LogId(name: string, pub: KeyObject): Buffer {
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x as string, 'base64url');
  return createHash('sha256').update(Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([0x01]), raw])).digest();
}
