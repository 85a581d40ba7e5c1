import { GitsignError } from '../../errors';

/**
 * Which times are attested: the one place every verification path (git's, gitsign verify, bundles,
 * attestations, and the checks of Rekor's answer while signing) asks. Only two things date a
 * signature: a log's signed entry timestamp (SET) that verified with the log's key, and an RFC 3161
 * timestamp that verified with a trusted authority's. An entry's integratedTime without a SET, an
 * inclusion proof (presence, not time), the CMS signingTime and the certificate's own dates are claims.
 */
export type AttestedSource = 'tlog' | 'tsa';

export interface AttestedTime {
  source: AttestedSource;
  time: Date;
}

/** A log entry after verification: `integratedTime` is set only when its SET verified. */
interface DatedEntry {
  integratedTime?: Date;
}

/** Verified SET times first (they also date the log entry), then RFC 3161 times. */
export function attestedTimes(entries: readonly DatedEntry[], tsaTimes: readonly Date[]): AttestedTime[] {
  return [
    ...entries.flatMap((e) => (e.integratedTime ? [{ source: 'tlog' as const, time: e.integratedTime }] : [])),
    ...tsaTimes.map((time) => ({ source: 'tsa' as const, time })),
  ];
}

export const NO_ATTESTED_TIME =
  'no attested signing time: no transparency log entry with a verified signed entry timestamp (SET) and no verified RFC 3161 timestamp dates the signature, so its certificate cannot be checked';

/** The attested times, or UNATTESTED_TIME: a certificate is never checked at a time nobody vouches for. */
export function requireAttestedTimes(times: AttestedTime[]): AttestedTime[] {
  if (times.length === 0) throw new GitsignError('UNATTESTED_TIME', NO_ATTESTED_TIME);
  return times;
}
