import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../../errors';
import type { LogEntry } from '../../rekor/tlogEntry';

/**
 * The trusted log key an entry is checked with: of the trusted logs with the entry's log ID (a root
 * may list a key twice, with different validity), the one valid at every attested time. Never chosen
 * without a time: an entry nobody dates could otherwise borrow a key retired before it was made.
 */
export type Log = TrustMaterial['tlogs'][number];

/** A log entry that does not verify, and why (one wording for the entry's checks and its SET's). */
export function tlogFailure(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry does not verify: ${why}`);
}

const validAt = (log: Log, t: Date): boolean => log.validFor.start <= t && t <= log.validFor.end; // both ends included
/** A validity end as text: a trusted root's open end is far in the future. */
export const validityEnd = (d: Date): string => (d.getTime() >= 8.64e15 ? 'no end' : d.toISOString());

export function logValidAt(entry: LogEntry, trust: TrustMaterial, times: readonly Date[]): Log {
  if (times.length === 0) throw new GitsignError('UNATTESTED_TIME', 'transparency log entry does not verify: no attested time to choose the log key by');
  const logs = trust.tlogs.filter((t) => t.logID.equals(entry.logId.keyId));
  if (logs.length === 0) throw tlogFailure(`its log (ID ${Buffer.from(entry.logId.keyId).toString('base64')}) is not in the trusted root`);
  const log = logs.find((l) => times.every((t) => validAt(l, t)));
  if (log) return log;
  const [first] = logs;
  const bad = times.find((t) => !validAt(first, t)) as Date;
  throw tlogFailure(`the key of log ${first.baseURL} was not valid at ${bad.toISOString()} (valid from ${first.validFor.start.toISOString()} to ${validityEnd(first.validFor.end)})`);
}
