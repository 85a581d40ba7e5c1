import type { TrustMaterial } from '@sigstore/verify';
import { VerificationError } from '@sigstore/verify/dist/error';
import { LogCheckpoint } from '@sigstore/verify/dist/tlog/checkpoint';
import { verifyMerkleInclusion } from '@sigstore/verify/dist/tlog/merkle';
import { GitsignError, withReason } from '../errors';
import { checkProofMatchesCheckpoint, verifyCheckpoint } from '../rekor/checkpoint';
import { parseEntryBody } from '../rekor/entryBody';
import type { LogEntry } from '../rekor/tlogEntry';
import { checkEntryMatches } from './entryMatch';
import type { SignedContent } from './signedContent';
import { type Log, logValidAt, tlogFailure } from './time/logKey';
import { verifySignedEntryTimestamp } from './time/set';

/**
 * A transparency log entry checked against what it claims to log and against the trust root: the
 * body, the log and its key's validity at an attested time, the signed entry timestamp (SET), the
 * inclusion proof and its signed checkpoint. Rekor v1 entries carry a SET that dates them; Rekor v2
 * entries (and v1 entries stripped of their SET) carry only a proof, so their log key is chosen at
 * the RFC 3161 times given as `tsaTimes`, and without any the entry is refused (UNATTESTED_TIME).
 * Used when verifying commits and bundles, and when signing before an entry is embedded (gitsign
 * does not check what Rekor returns; we do).
 */
export interface VerifiedEntry {
  log: Log;
  /** The time the log attests with a verified SET (Rekor v1 only); never an unsigned integratedTime. */
  integratedTime?: Date;
}


/**
 * The proof must be for this entry's position. An entry's index is only attested by its SET, which
 * signs it; a Rekor v1 index is global over the log's shards while its proof's is within the shard
 * (all 22 embedded public-good entries of the corpus differ by the shard's start, 121,904,262), so
 * with a SET the proof's index may only be lower. Without a SET (Rekor v2, one tree per log) nothing
 * but the proof vouches for the index: they must be equal.
 */
function checkProofIndex(entry: LogEntry, proofIndex: bigint): void {
  const index = BigInt(entry.logIndex);
  if (entry.inclusionPromise ? proofIndex > index : proofIndex !== index) {
    throw tlogFailure(`the inclusion proof is for log index ${proofIndex}, the entry is at ${index}`);
  }
}

/**
 * The checkpoint, when there is one, is checked first: it must be the log's and sign the proof's root
 * and size. Then the path from the entry's leaf must lead to that root. A proof without a checkpoint
 * proves nothing, but its path is still checked first so a wrong proof is reported as such.
 */
function verifyInclusionProof(entry: LogEntry, log: Log): void {
  const proof = entry.inclusionProof;
  if (!proof) return;
  checkProofIndex(entry, BigInt(proof.logIndex));
  const envelope = proof.checkpoint?.envelope;
  if (envelope) checkProofMatchesCheckpoint(proof, verifyCheckpoint(envelope, log));
  try {
    verifyMerkleInclusion({ ...entry, inclusionProof: { ...proof, checkpoint: { envelope: envelope ?? '' } } }, new LogCheckpoint('', BigInt(proof.treeSize), Buffer.from(proof.rootHash), []));
  } catch (err) {
    throw tlogFailure(withReason('the inclusion proof does not verify', err, VerificationError));
  }
  if (!envelope) throw tlogFailure('the inclusion proof has no signed checkpoint');
}

export function verifyLogEntry(entry: LogEntry, content: SignedContent, trust: TrustMaterial, tsaTimes: readonly Date[] = []): VerifiedEntry {
  checkEntryMatches(parseEntryBody(entry), content);
  const promise = entry.inclusionPromise;
  if (!promise && !entry.inclusionProof) throw tlogFailure('it has neither a signed entry timestamp nor an inclusion proof');
  if (promise) {
    const { log, time } = verifySignedEntryTimestamp(entry, promise, trust);
    verifyInclusionProof(entry, log);
    return { log, integratedTime: time };
  }
  if (tsaTimes.length === 0) {
    throw new GitsignError(
      'UNATTESTED_TIME',
      'transparency log entry does not date the signature: it has no signed entry timestamp (SET), which alone attests its integrated time (an inclusion proof shows presence, not time), and no RFC 3161 timestamp dates it',
    );
  }
  const log = logValidAt(entry, trust, tsaTimes);
  verifyInclusionProof(entry, log);
  return { log };
}
