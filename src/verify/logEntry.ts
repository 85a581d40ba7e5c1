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

const validAt = (log: Log, t: Date): boolean => log.validFor.start <= t && t <= log.validFor.end; // both ends included

/** The trusted log the entry names whose key was valid at every attested time (a root may list a key twice). */
function findLog(entry: LogEntry, trust: TrustMaterial, times: Date[]): Log {
  const logs = trust.tlogs.filter((t) => t.logID.equals(entry.logId.keyId));
  if (logs.length === 0) throw fail(`its log (ID ${Buffer.from(entry.logId.keyId).toString('base64')}) is not in the trusted root`);
  const log = logs.find((l) => times.every((t) => validAt(l, t)));
  if (log) return log;
  const [first] = logs;
  const bad = times.find((t) => !validAt(first, t)) as Date;
  const end = first.validFor.end.getTime() >= 8.64e15 ? 'no end' : first.validFor.end.toISOString();
  throw fail(`the key of log ${first.baseURL} was not valid at ${bad.toISOString()} (valid from ${first.validFor.start.toISOString()} to ${end})`);
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
  const promise = entry.inclusionPromise;
  const integratedTime = promise ? new Date(Number(entry.integratedTime) * 1000) : undefined;
  const log = findLog(entry, trust, integratedTime ? [integratedTime] : times);
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
