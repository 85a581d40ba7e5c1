import { join } from 'node:path';
import { GitsignError, quoted } from '../errors';
import { readRegularFile } from '../files/regularFile';
import { commonGitDir } from '../git/gitDir';
import { git } from '../git/run';
import { gitSync } from '../git/runSync';

/**
 * The history an audit judges: the commits of RANGE (one tip, any number of bases), parents first,
 * with their parents; the tip's first-parent line (the mainline, whose merges bring everything else);
 * and the ref the history is audited for, which rules' `refs` patterns match.
 */
export interface HistoryCommit {
  sha: string;
  parents: string[];
}

export interface History {
  range: string;
  tip: string;
  /** The ref of the tip (refs/heads/main), or --ref; null when the tip is not a ref. */
  ref: string | null;
  /** The commits the range excludes (A of A..B): where a trust root comes from when none is named. */
  bases: string[];
  /** Parents before children (git rev-list --topo-order --reverse). */
  commits: HistoryCommit[];
  /** The tip's first-parent line within the range. */
  mainline: Set<string>;
}

const HEX = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A revision or range from the command line: never an option for git. */
export function checkRevision(rev: string, what: string): void {
  if (rev === '' || rev.startsWith('-') || /[\u0000-\u001f]/.test(rev)) throw new GitsignError('USAGE', `${what} ${quoted(rev)} is not a revision or range`);
}

async function lines(args: string[], cwd?: string): Promise<string[]> {
  return linesOf(await git(args, { cwd }));
}

/** The range's tip and bases as object IDs (not yet peeled to commits): what the rest of the reads start from. */
export interface RangeRevisions {
  tips: string[];
  bases: string[];
}

/**
 * The range's tip and bases, asked synchronously (one short git, started by posix_spawn where the
 * addon is built): the history's own reads then start at once, not behind the caller's loading of
 * its configuration, trust material and caches (measured: git rev-list, the longest read, began
 * ~0.5 s late when it waited for an asynchronous rev-parse).
 */
export function rangeRevisions(range: string, cwd?: string): RangeRevisions {
  checkRevision(range, 'the range');
  const revs = gitSync(['rev-parse', '--revs-only', range, '--'], { cwd }).toString('utf8').split('\n').filter(Boolean);
  const tips = revs.filter((rev) => !rev.startsWith('^'));
  const bases = revs.filter((rev) => rev.startsWith('^')).map((rev) => rev.slice(1));
  if (tips.length === 0) throw new GitsignError('GIT', `${quoted(range)} names no commit to audit`);
  if (tips.length > 1) throw new GitsignError('USAGE', `${quoted(range)} has ${tips.length} tips; an audit follows one history (write BASE..TIP)`);
  if (![...tips, ...bases].every((rev) => HEX.test(rev))) throw new GitsignError('GIT', `git rev-parse answered something that is not an object ID for ${quoted(range)}`);
  return { tips, bases };
}

/**
 * The commits of the range, parents before children, each line "SHA PARENT...": git rev-list, the
 * longest read of an audit. As git's bytes: an audit resumed from its record never reads them.
 */
export function historyListing({ tips, bases }: RangeRevisions, cwd?: string): Promise<Buffer> {
  return git(['rev-list', '--topo-order', '--reverse', '--parents', tips[0], ...bases.map((b) => `^${b}`), '--'], { cwd });
}

const linesOf = (out: Buffer): string[] => out.toString('utf8').split('\n').filter(Boolean);

/** The range's tip and bases as commits, and the ref it is audited for: what its history is read from. */
export interface HistoryHead {
  range: string;
  tip: string;
  ref: string | null;
  bases: string[];
}

/** The tip and bases of RANGE peeled to commits, and the ref RANGE names (or the explicit one). */
function readHistoryHead(range: string, explicitRef: string | undefined, cwd: string | undefined, { tips, bases }: RangeRevisions): Promise<HistoryHead> {
  // Two git processes at once (they are object IDs by now, never options).
  return Promise.all([
    lines(['rev-parse', ...[...tips, ...bases].map((r) => `${r}^{commit}`)], cwd),
    explicitRef === undefined ? lines(['rev-parse', '--revs-only', '--symbolic-full-name', range, '--'], cwd) : Promise.resolve([]),
  ]).then(([peeled, named]) => {
    if (peeled.length !== 1 + bases.length || !peeled.every((r) => HEX.test(r))) throw new GitsignError('GIT', `git rev-parse answered something that is not a commit ID for ${quoted(range)}`);
    const [tip, ...baseCommits] = peeled as [string, ...string[]];
    const namedRefs = named.filter((r) => r.startsWith('refs/'));
    return { range, tip, ref: explicitRef ?? (namedRefs.length === 1 ? namedRefs[0] : null), bases: baseCommits };
  });
}

/** Lines of `rev-list --parents`, parents first, as commits. */
function commitsOf(listed: string[]): HistoryCommit[] {
  return listed.map((line) => {
    const [sha, ...parents] = line.split(' ');
    return { sha, parents };
  });
}

/** The history with its tip's first-parent line within it. */
function historyOf(head: HistoryHead, commits: HistoryCommit[]): History {
  const inRange = new Map(commits.map((c) => [c.sha, c]));
  const mainline = new Set<string>();
  for (let c = inRange.get(head.tip); c && !mainline.has(c.sha); c = inRange.get(c.parents[0] ?? '')) mainline.add(c.sha);
  return { ...head, commits, mainline };
}

/** An audit's history, read in two parts: its head at once, its commits (the long read, parsed only when asked for). */
export interface HistoryReads {
  head: Promise<HistoryHead>;
  history(): Promise<History>;
}

/**
 * The head and the history of RANGE; their git reads are started before this returns (the caller's
 * own work then overlaps them). `known`: the range's revisions, and `listed` its listing when already
 * started (prefetch.ts). rev-list, the longest, is started first.
 */
export function readHistory(range: string, explicitRef: string | undefined, cwd?: string, known?: RangeRevisions, listed?: Promise<Buffer>): HistoryReads {
  let revisions: RangeRevisions;
  try {
    revisions = known ?? rangeRevisions(range, cwd);
  } catch (err) {
    return { head: Promise.reject(err), history: () => Promise.reject(err) };
  }
  const listing = listed ?? historyListing(revisions, cwd);
  listing.catch(() => undefined);
  const head = readHistoryHead(range, explicitRef, cwd, revisions);
  let history: Promise<History> | undefined;
  return { head, history: () => (history ??= Promise.all([head, listing]).then(([h, l]) => historyOf(h, commitsOf(linesOf(l))))) };
}

/**
 * The history of the head's range from the record of an audit of it up to `recordedTip`, when the
 * commits added since are one line of single-parent commits on that tip: then git would list the
 * recorded commits in their recorded order and the added ones after them, and only those are asked
 * of git. Null when anything else was added (merges: the whole history is read). The recorded commits
 * come without their parents: only added commits are judged from theirs.
 */
export async function historySince(head: HistoryHead, recorded: readonly { sha: string; mainline: boolean }[], recordedTip: string, cwd?: string): Promise<History | null> {
  const listed = commitsOf(linesOf(await historyListing({ tips: [head.tip], bases: [recordedTip, ...head.bases] }, cwd)));
  let previous = recordedTip;
  for (const c of listed) {
    if (c.parents.length !== 1 || c.parents[0] !== previous) return null;
    previous = c.sha;
  }
  if (previous !== head.tip) return null;
  const commits = [...recorded.map(({ sha }) => ({ sha, parents: [] })), ...listed];
  const mainline = new Set([...recorded.filter((c) => c.mainline).map((c) => c.sha), ...listed.map((c) => c.sha)]);
  return { ...head, commits, mainline };
}

/** A shallow file this large (a line per boundary commit) is not read. */
const MAX_SHALLOW_BYTES = 16 << 20;

/**
 * A shallow clone's history stops at its boundary commits: git lists them without parents, so the
 * commits below them, and the policy changes they made, would go unjudged while the audit looked
 * whole. An audit needs every commit of its range (the base itself may be a boundary).
 */
export async function refuseCutHistory(history: History, cwd?: string): Promise<void> {
  const gitDir = await commonGitDir(cwd);
  if (gitDir === null) return;
  const file = join(gitDir, 'shallow');
  const read = readRegularFile(file, MAX_SHALLOW_BYTES);
  if (!read.ok) {
    if (read.why === 'open' && (read.err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new GitsignError('GIT', `cannot tell whether the history is complete: ${file} (the shallow clone's boundary) ${read.why === 'not-regular' ? 'is not a regular file' : read.why === 'too-large' ? 'is too large' : 'cannot be read'}`);
  }
  const shallow = new Set(read.bytes.toString('latin1').split('\n'));
  const cut = history.commits.find((c) => shallow.has(c.sha));
  if (cut) {
    throw new GitsignError('GIT', `the history of ${quoted(history.range)} is cut at ${cut.sha} (a shallow clone): the commits before it are not here to be judged; fetch them first (git fetch --unshallow)`);
  }
}
