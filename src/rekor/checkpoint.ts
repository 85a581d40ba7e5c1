import { GitsignError } from '../errors';
import type { LogEntry } from './tlogEntry';

/**
 * The inclusion proof's root hash and tree size must be the ones its signed checkpoint commits to.
 * @sigstore/verify proves inclusion against the checkpoint alone and never reads these two fields, so
 * an edited proof would pass; Rekor's Go verifier (VerifyInclusion + VerifyCheckpointSignature), which
 * gitsign uses, rejects a proof that disagrees with its checkpoint.
 */
export function checkProofMatchesCheckpoint(entry: LogEntry): void {
  const proof = entry.inclusionProof;
  if (!proof?.checkpoint) return;
  // A checkpoint note body: origin, tree size, base64 root hash, optional extension lines.
  const [, size, root] = proof.checkpoint.envelope.split('\n');
  if (size === undefined || root === undefined || !/^[0-9]+$/.test(size)) {
    throw new GitsignError('TLOG', 'transparency log entry does not verify: malformed checkpoint in the inclusion proof');
  }
  if (BigInt(size) !== BigInt(proof.treeSize)) {
    throw new GitsignError('TLOG', `transparency log entry does not verify: inclusion proof tree size ${proof.treeSize} differs from its checkpoint's ${size}`);
  }
  if (!Buffer.from(root, 'base64').equals(Buffer.from(proof.rootHash))) {
    throw new GitsignError('TLOG', 'transparency log entry does not verify: inclusion proof root hash differs from its checkpoint\'s');
  }
}
