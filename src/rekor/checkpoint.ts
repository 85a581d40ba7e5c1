import { crypto } from '@sigstore/core';
import type { TLogAuthority } from '@sigstore/verify/dist/trust/trust.types';
import { GitsignError } from '../errors';
import { parseSignedNote } from './signedNote';

/**
 * Transparency log checkpoints (c2sp.org/tlog-checkpoint) in a signed note: origin, tree size, base64
 * root hash, optional extension lines. Rekor v1 names its origin "<host> - <tree ID>" and adds a
 * "Timestamp:" line; Rekor v2 (tile-style) uses the bare host and may carry witness cosignatures.
 * Either way the log signs as its host, with a key hint of the first 4 bytes of its log ID (for an
 * Ed25519 Rekor v2 log that ID is the C2SP key ID, so both rules agree).
 */
export interface Checkpoint {
  origin: string;
  size: bigint;
  rootHash: Buffer;
}

function fail(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry does not verify: ${why}`);
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n').slice(0, -1);
  if (lines.length < 3) {
    throw fail(`malformed checkpoint: it needs an origin, a tree size and a root hash line, and has ${lines.length} line${lines.length === 1 ? '' : 's'}`);
  }
  const [origin, size, root] = lines;
  if (origin === '') throw fail('malformed checkpoint: empty origin line');
  if (!/^[0-9]+$/.test(size)) throw fail(`malformed checkpoint: the tree size line ${JSON.stringify(size.slice(0, 80))} is not a number`);
  const rootHash = Buffer.from(root, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(root) || rootHash.length !== 32) {
    throw fail(`malformed checkpoint: the root hash line ${JSON.stringify(root.slice(0, 80))} is not a base64 SHA-256 hash`);
  }
  return { origin, size: BigInt(size), rootHash };
}

/** The names a log signs with: the host of its URL, with or without the port. */
function logNames(baseURL: string): string[] {
  try {
    const url = new URL(baseURL);
    return [...new Set([url.host, url.hostname])];
  } catch {
    return [baseURL];
  }
}

/**
 * The checkpoint in an inclusion proof, verified against the log the entry names: at least one
 * signature by that log's key under its name, and every such signature valid. Other signatures
 * (witness cosignatures, keys the trust root does not list) are ignored, wherever they appear.
 */
export function verifyCheckpoint(envelope: string, log: TLogAuthority): Checkpoint {
  const note = parseSignedNote(envelope);
  const checkpoint = parseCheckpoint(note.text);
  const names = logNames(log.baseURL);
  const hint = log.logID.subarray(0, 4);
  const own = note.signatures.filter((s) => names.includes(s.name) && s.keyHint.equals(hint));
  if (own.length === 0) {
    const found = note.signatures.map((s) => `${s.name} (key ${s.keyHint.toString('hex')})`).join(', ');
    throw fail(`the checkpoint is not signed by the transparency log ${names[0]} (key ${hint.toString('hex')}); its signatures are by ${found}`);
  }
  const text = Buffer.from(note.text, 'utf8');
  for (const s of own) {
    if (!crypto.verify(text, log.publicKey, s.signature)) throw fail(`the checkpoint signature of ${s.name} does not verify with the log's key`);
    if (checkpoint.origin !== s.name && !checkpoint.origin.startsWith(`${s.name} - `)) {
      throw fail(`the checkpoint's origin "${checkpoint.origin}" is not the log ${s.name}`);
    }
  }
  return checkpoint;
}

/**
 * The inclusion proof's root hash and tree size must be the ones its signed checkpoint commits to.
 * @sigstore/verify proves inclusion against the checkpoint alone and never reads these two fields, so
 * an edited proof would pass; Rekor's Go verifier, which gitsign uses, rejects a proof that disagrees
 * with its checkpoint.
 */
export function checkProofMatchesCheckpoint(proof: { rootHash: Buffer; treeSize: string }, checkpoint: Checkpoint): void {
  if (!checkpoint.rootHash.equals(proof.rootHash)) {
    throw fail("the inclusion proof's root hash differs from its checkpoint's (the checkpoint is for another tree)");
  }
  if (checkpoint.size !== BigInt(proof.treeSize)) {
    throw fail(`the inclusion proof's tree size ${proof.treeSize} differs from its checkpoint's ${checkpoint.size}`);
  }
}
