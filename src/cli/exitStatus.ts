import { loadConfig } from '../config/config';
import { type GitsignError, toGitsignError } from '../errors';

/**
 * Exit statuses as the Go gitsign's: its main() exits 2 when the configuration cannot be loaded
 * (before any command runs) and 1 for every other failure, usage errors included (cobra's Execute).
 */
export const EXIT_FAILURE = 1;
const EXIT_CONFIG = 2;

/**
 * 2 when the failure is the configuration's own: loading it again fails with the same sentence
 * (a CONFIG error from elsewhere, such as an unusable gitsign.redirectURL at login, is 1 in Go
 * too). Asked only once something failed, so a success never pays for a second `git config`.
 */
/** Our commands whose 1 means "found violations": for them a command line they cannot run is 2 ("could not run"). */
const JUDGING = new Set(['audit', 'hook']);

export function exitStatusOf(err: GitsignError, command?: string): number {
  if (err.code === 'USAGE' && command !== undefined && JUDGING.has(command)) return EXIT_CONFIG;
  if (err.code !== 'CONFIG') return EXIT_FAILURE;
  try {
    loadConfig();
    return EXIT_FAILURE;
  } catch (again) {
    const e = toGitsignError(again);
    return e.code === 'CONFIG' && e.message === err.message ? EXIT_CONFIG : EXIT_FAILURE;
  }
}
