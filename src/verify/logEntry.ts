import type { TrustMaterial } from '@sigstore/verify';
import { LogCheckpoint } from '@sigstore/verify/dist/tlog/checkpoint';
import { verifyMerkleInclusion } from '@sigstore/verify/dist/tlog/merkle';
import { verifyTLogSET } from '@sigstore/verify/dist/tlog/set';
import { GitsignError } from '../errors';
import { checkProofMatchesCheckpoint, verifyCheckpoint } from '../rekor/checkpoint';
import { parseEntryBody } from '../rekor/entryBody';
import type { LogEntry } from '../rekor/tlogEntry';
import { checkEntryMatches } from './entryMatch';
import type { SignedContent } from './signedContent';

/**
 * A transparency log entry checked against what it claims to log and against the trust root: the
 * body, the log and its key's validity, the signed entry timestamp (SET), the inclusion proof and its
 * signed checkpoint. Rekor v1 entries carry a SET with their integrated time; Rekor v2 entries carry
 * only the proof, so their time comes from RFC 3161 timestamps, given as `times`. Used when verifying
 * commits and bundles, and when signing before an entry is embedded (gitsign does not check what Rekor
 * returns; we do).
 */
type Log = TrustMaterial['tlogs'][number];

export interface VerifiedEntry {
  log: Log;
  /** The time the log attests with a verified SET (Rekor v1 only). */
  integratedTime?: Date;
}

function fail(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry does not verify: ${why}`);
}

function findLog(entry: LogEntry, trust: TrustMaterial): Log {
  const log = trust.tlogs.find((t) => t.logID.equals(entry.logId.keyId));
  if (!log) throw fail(`its log (ID ${Buffer.from(entry.logId.keyId).toString('base64')}) is not in the trusted root`);
  return log;
}

/** Validity periods include both ends. */
function checkKeyValid(log: Log, time: Date): void {
  if (time < log.validFor.start || time > log.validFor.end) {
    const end = log.validFor.end.getTime() >= 8.64e15 ? 'no end' : log.validFor.end.toISOString();
    throw fail(`the key of log ${log.baseURL} was not valid at ${time.toISOString()} (valid from ${log.validFor.start.toISOString()} to ${end})`);
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
  const envelope = proof.checkpoint?.envelope;
  if (envelope) checkProofMatchesCheckpoint(proof, verifyCheckpoint(envelope, log));
  try {
    verifyMerkleInclusion({ ...entry, inclusionProof: { ...proof, checkpoint: { envelope: envelope ?? '' } } }, new LogCheckpoint('', BigInt(proof.treeSize), Buffer.from(proof.rootHash), []));
  } catch (err) {
    throw fail(`the inclusion proof does not verify (${(err as Error).message})`);
  }
  if (!envelope) throw fail('the inclusion proof has no signed checkpoint');
}

export function verifyLogEntry(entry: LogEntry, content: SignedContent, trust: TrustMaterial, times: Date[] = []): VerifiedEntry {
  checkEntryMatches(parseEntryBody(entry), content);
  const log = findLog(entry, trust);
  const promise = entry.inclusionPromise;
  const integratedTime = promise ? new Date(Number(entry.integratedTime) * 1000) : undefined;
  for (const t of integratedTime ? [integratedTime] : times) checkKeyValid(log, t);
  if (promise) {
    try {
      verifyTLogSET({ ...entry, inclusionPromise: promise }, [log]);
    } catch {
      throw fail("the signed entry timestamp (SET) does not verify with the log's key");
    }
  }
  if (!promise && !entry.inclusionProof) throw fail('it has neither a signed entry timestamp nor an inclusion proof');
  verifyInclusionProof(entry, log);
  return { log, integratedTime };
}
