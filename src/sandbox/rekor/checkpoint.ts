import { sign, type KeyObject } from 'node:crypto';

/**
 * Signed checkpoints in the transparency-dev note format, as Rekor v1 writes them: the body
 * "<origin>\n<size>\n<base64 root>\n", a blank line, then "— <name> <base64(keyhint || signature)>\n",
 * where origin is "<name> - <tree ID>" and the key hint is the first 4 bytes of the log ID. The Rekor v2
 * log signs the same note with Ed25519 (no prehash) under the bare name.
 */
export function checkpointBody(origin: string, size: number, root: Buffer): string {
  return `${origin}\n${size}\n${root.toString('base64')}\n`;
}

export function signCheckpoint(name: string, origin: string, size: number, root: Buffer, key: KeyObject, logId: Buffer): string {
  const body = checkpointBody(origin, size, root);
  const sig = sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', Buffer.from(body, 'utf8'), key);
  const line = Buffer.concat([logId.subarray(0, 4), sig]).toString('base64');
  return `${body}\n\u2014 ${name} ${line}\n`;
}
