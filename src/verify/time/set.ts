import { verifyNow } from '../../crypto/verify';
import type { TrustMaterial } from '@sigstore/verify';
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

/**
 * What Rekor signs: the canonical JSON (RFC 8785) of the entry's body (base64), time, index and log ID
 * (hex). Its members are written in RFC 8785's order (sorted) and hold only base64, hex and integers,
 * so JSON.stringify writes exactly the canonical form.
 */
function signedPayload(entry: LogEntry, seconds: number): Buffer {
  const payload = { body: entry.canonicalizedBody.toString('base64'), integratedTime: seconds, logID: Buffer.from(entry.logId.keyId).toString('hex'), logIndex: Number(entry.logIndex) };
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

export function verifySignedEntryTimestamp(entry: LogEntry, promise: NonNullable<LogEntry['inclusionPromise']>, trust: TrustMaterial): SetTime {
  const seconds = Number(entry.integratedTime);
  if (!Number.isSafeInteger(seconds) || seconds <= 0 || seconds > MAX_DATE_SECONDS) throw tlogFailure(`its integrated time ${entry.integratedTime} is not a time`);
  const time = new Date(seconds * 1000);
  const log = logValidAt(entry, trust, [time]);
  // The key's own digest (SHA-256 for Rekor's ECDSA and RSA keys), as Rekor signs.
  if (!verifyNow(null, signedPayload(entry, seconds), log.publicKey, promise.signedEntryTimestamp)) throw tlogFailure("the signed entry timestamp (SET) does not verify with the log's key");
  return { log, time };
}
