import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../../errors';
import type { LogEntry } from '../../rekor/tlogEntry';

/**
 * The trusted log key an entry is checked with: of the trusted logs with the entry's log ID (a root
 * may list a key twice, with different validity), the one valid at every attested time. Never chosen
 * without a time: an entry nobody dates could otherwise borrow a key retired before it was made.
 */
export type Log = TrustMaterial['tlogs'][number];

function fail(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry does not verify: ${why}`);
}

const validAt = (log: Log, t: Date): boolean => log.validFor.start <= t && t <= log.validFor.end; // both ends included
const iso = (d: Date): string => (d.getTime() >= 8.64e15 ? 'no end' : d.toISOString());

export function logValidAt(entry: LogEntry, trust: TrustMaterial, times: readonly Date[]): Log {
  if (times.length === 0) throw new GitsignError('UNATTESTED_TIME', 'transparency log entry does not verify: no attested time to choose the log key by');
  const logs = trust.tlogs.filter((t) => t.logID.equals(entry.logId.keyId));
  if (logs.length === 0) throw fail(`its log (ID ${Buffer.from(entry.logId.keyId).toString('base64')}) is not in the trusted root`);
  const log = logs.find((l) => times.every((t) => validAt(l, t)));
  if (log) return log;
  const [first] = logs;
  const bad = times.find((t) => !validAt(first, t)) as Date;
  throw fail(`the key of log ${first.baseURL} was not valid at ${bad.toISOString()} (valid from ${first.validFor.start.toISOString()} to ${iso(first.validFor.end)})`);
}
