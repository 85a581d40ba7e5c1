import { historyListing, type RangeRevisions, rangeRevisions } from './history';

/**
 * `gitsign audit`'s longest read, git rev-list, started before the subcommands' code loads: main.ts
 * guesses the range from the arguments (their plain forms only), and the audit takes the read over
 * when its own parse names the same range in the same directory; otherwise the read is dropped.
 * Measured on a re-run over 10,000 commits: rev-list starts ~100 ms earlier and is on that run's
 * critical path. Handed over through a global: main's bundle file and the subcommands' hold separate
 * copies of this module.
 */
interface Prefetched {
  range: string;
  cwd: string;
  revisions: RangeRevisions;
  listing: Promise<Buffer>;
}

const KEY = Symbol.for('gitsign.auditPrefetch');
type Holder = { [KEY]?: Prefetched };

/** Options of `gitsign audit` that change nothing git lists: without a value, and with one. */
const FLAGS = new Set(['--json', '--keep-going', '--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--cache', '--no-cache']);
const WITH_VALUE = new Set(['--html', '--trusted-root', '--ref', '--policy', '--trust-root']);

/** The range `gitsign audit ARGS` names, when the arguments are of the plain forms; else undefined (the audit reads for itself). */
export function guessRange(args: readonly string[]): string | undefined {
  let range: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (FLAGS.has(arg)) continue;
    if (WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (WITH_VALUE.has(arg.slice(0, arg.indexOf('=')))) continue;
    if (arg.startsWith('-') || range !== undefined) return undefined;
    range = arg;
  }
  return range ?? 'HEAD';
}

/** Starts the listing of the range `gitsign audit ARGS` names (main.ts, before the subcommands load). */
export function prefetchAudit(args: readonly string[]): void {
  const range = guessRange(args);
  if (range === undefined) return;
  try {
    const revisions = rangeRevisions(range);
    const listing = historyListing(revisions);
    // Not taken over (another range was parsed, the audit failed first): nobody waits for it.
    listing.catch(() => undefined);
    (globalThis as Holder)[KEY] = { range, cwd: process.cwd(), revisions, listing };
  } catch {
    // A range git refuses: the audit says so itself.
  }
}

/** The listing started for this range and directory, taken over (once). */
export function takePrefetched(range: string, cwd?: string): Prefetched | null {
  const holder = globalThis as Holder;
  const early = holder[KEY];
  delete holder[KEY];
  return early && early.range === range && early.cwd === (cwd ?? process.cwd()) ? early : null;
}
