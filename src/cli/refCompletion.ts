import { spawnSync } from 'node:child_process';

/**
 * What <Tab> offers for the revision words of `gitsign verify` (branches, tags, remote branches,
 * HEAD; after `A..` the right end of a range) and `gitsign verify-tag` (tags): the real refs of the
 * current repository, from one `git for-each-ref` that is bounded in count, time and output. A
 * missing git, no repository or a slow one gives no refs, never an error on the user's terminal.
 */

/** At most this many refs per <Tab> (git sorts them by name first). */
export const REF_LIMIT = 200;
/** A repository that takes longer than this to list its refs gets no ref completion. */
const GIT_DEADLINE_MS = 2000;

/**
 * Names that are safe to put on a command line as they are: a cloned repository's branch and tag
 * names are chosen by others, and a name such as `$(cmd)` or `a;b` would run on Enter. Other refs
 * are not offered. (The same set makes the glob patterns below literal: no `*`, `?`, `[` or `\`.)
 */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._/+@,-]*$/;

/** The options of verify and verify-tag that take a value: the word after one is not a revision. */
export interface RefCompletionSpec {
  valueOptions: ReadonlySet<string>;
}

/** `git for-each-ref` patterns for names starting with prefix (a `*` stops at `/`, `/**` goes on). */
function patternsFor(namespaces: string[], prefix: string): string[] {
  return namespaces.flatMap((ns) => [`${ns}${prefix}*`, `${ns}${prefix}*/**`]);
}

/** Short names of the refs in namespaces that start with prefix; with namespaces empty, full names starting with prefix. */
function listRefs(namespaces: string[], prefix: string): string[] | undefined {
  const full = namespaces.length === 0;
  let r;
  try {
    r = spawnSync('git', ['for-each-ref', `--count=${REF_LIMIT}`, `--format=%(refname${full ? '' : ':short'})`, ...patternsFor(full ? [''] : namespaces, prefix)], {
      encoding: 'utf8',
      timeout: GIT_DEADLINE_MS,
      killSignal: 'SIGKILL',
      maxBuffer: 256 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    });
  } catch {
    return undefined;
  }
  if (r.error || r.status !== 0) return undefined;
  return r.stdout.split('\n').filter((name) => SAFE_NAME.test(name));
}

/**
 * The candidates for the last word of `words` (`gitsign verify ... CURRENT`); none after an option
 * that takes a value; undefined when the word is not a revision of verify or verify-tag (an option,
 * another command) or when git cannot list refs here: yargs' own completion then answers.
 */
export function refCandidates(words: string[], spec: RefCompletionSpec): string[] | undefined {
  const command = words[1];
  if ((command !== 'verify' && command !== 'verify-tag') || words.length < 3) return undefined;
  const current = words[words.length - 1];
  const previous = words[words.length - 2];
  if (current.startsWith('-')) return undefined;
  // An option's value (--trusted-root FILE): nothing, so the shell offers file names.
  if (previous !== command && spec.valueOptions.has(previous)) return [];
  // `A..B` and `A...B`: complete B, keeping what comes before it.
  const range = command === 'verify' ? /^(.*?\.\.\.?)(.*)$/.exec(current) : null;
  const [head, tail] = range ? [range[1], range[2]] : ['', current];
  if (tail !== '' && !SAFE_NAME.test(tail)) return [];
  // verify also takes full names (refs/notes/...); verify-tag only tag names.
  const namespaces = command === 'verify-tag' ? ['refs/tags/'] : tail.startsWith('refs/') ? [] : ['refs/heads/', 'refs/tags/', 'refs/remotes/'];
  const refs = listRefs(namespaces, tail);
  if (refs === undefined) return undefined;
  const names = command === 'verify' && 'HEAD'.startsWith(tail) ? ['HEAD', ...refs] : refs;
  return names.map((name) => head + name);
}
