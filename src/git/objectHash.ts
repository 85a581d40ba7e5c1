import { createHash } from 'node:crypto';
import type { ObjectType } from './rawobj';

/** git's object ID: the hash (SHA-1, or SHA-256 in a SHA-256 repository) of "<type> <size>\0" and the raw bytes. */
function objectId(algorithm: 'sha1' | 'sha256', type: string, raw: Buffer): string {
  return createHash(algorithm).update(`${type} ${raw.length}\0`).update(raw).digest('hex');
}

/** The object's SHA-1 ID (what gitsign's online-mode Rekor entries name, whatever the repository's hash). */
export function objectSha1(type: ObjectType, raw: Buffer): string {
  return objectId('sha1', type, raw);
}

/**
 * Whether `raw` is what the object ID `sha` names (SHA-1 for a 40-digit ID, SHA-256 for 64). git does
 * not check this when it reads an object, so bytes planted under another object's ID (a copied or
 * hostile .git) would pass for that object.
 */
export function objectIdMatches(sha: string, type: string, raw: Buffer): boolean {
  const algorithm = sha.length === 40 ? 'sha1' : sha.length === 64 ? 'sha256' : null;
  return algorithm !== null && objectId(algorithm, type, raw) === sha;
}

/** A payload starting with "object " is a tag; everything else git signs is a commit. */
export function payloadType(payload: Buffer): ObjectType {
  return payload.subarray(0, 7).toString('latin1') === 'object ' ? 'tag' : 'commit';
}

/**
 * The raw object as git stores it once signed (what gitsign hashes for online-mode Rekor entries):
 * commit: a gpgsig header before the first blank line; tag: the signature appended.
 */
export function joinSignature(type: ObjectType, payload: Buffer, signature: Buffer): Buffer {
  if (type === 'tag') return Buffer.concat([payload, signature]);
  const lines = signature.toString('latin1').replace(/\n$/, '').split('\n');
  const header = Buffer.from(`gpgsig ${lines.join('\n ')}\n`, 'latin1');
  let end = payload.indexOf('\n\n');
  end = end === -1 ? payload.length : end + 1;
  return Buffer.concat([payload.subarray(0, end), header, payload.subarray(end)]);
}
