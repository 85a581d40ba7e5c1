import { GitsignError } from '../errors';

/**
 * The local clock as `gitsign doctor` reads it. GITSIGN_DOCTOR_NOW exists for tests only (documented
 * as such): an RFC 3339 time the clock starts from and then ticks on, so a skewed clock can be tried
 * without changing the machine's. Nothing but doctor reads it; signing and verifying never do.
 */
export interface Clock {
  now(): number;
  /** Set when GITSIGN_DOCTOR_NOW replaced the real clock (said in the report). */
  fakedFrom?: string;
}

export function doctorClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const fake = env.GITSIGN_DOCTOR_NOW;
  if (!fake) return { now: () => Date.now() };
  const start = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(fake) ? Date.parse(fake) : Number.NaN;
  if (Number.isNaN(start)) throw new GitsignError('CONFIG', `GITSIGN_DOCTOR_NOW ${JSON.stringify(fake.slice(0, 60))} is not an RFC 3339 time (it is for tests only; unset it)`);
  const realStart = Date.now();
  return { now: () => start + (Date.now() - realStart), fakedFrom: new Date(start).toISOString() };
}
