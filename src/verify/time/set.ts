import type { TrustMaterial } from '@sigstore/verify';
import { verifyTLogSET } from '@sigstore/verify/dist/tlog/set';
import type { LogEntry } from '../../rekor/tlogEntry';
import { MAX_DATE_SECONDS } from '../../json';
import { type Log, logValidAt, tlogFailure } from './logKey';

/**
 * A Rekor v1 signed entry timestamp (SET): the log's signature over the entry's body, integrated time,
 * log ID and index. It is what attests *when* the log saw the entry; the integrated time it covers is
 * the attested time, checked with the key that was valid then.
 */
export interface SetTime {
  log: Log;
  time: Date;
}

export function verifySignedEntryTimestamp(entry: LogEntry, promise: NonNullable<LogEntry['inclusionPromise']>, trust: TrustMaterial): SetTime {
  const seconds = Number(entry.integratedTime);
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_DATE_SECONDS) throw tlogFailure(`its integrated time ${entry.integratedTime} is not a time`);
  const time = new Date(seconds * 1000);
  const log = logValidAt(entry, trust, [time]);
  try {
    verifyTLogSET({ ...entry, inclusionPromise: promise }, [log]);
  } catch {
    throw tlogFailure("the signed entry timestamp (SET) does not verify with the log's key");
  }
  return { log, time };
}
