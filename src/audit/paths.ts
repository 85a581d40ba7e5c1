import { GitsignError } from '../errors';
import { runGit } from '../git/run';
import type { HistoryCommit } from './history';
import type { PathCache } from './pathCache';

/**
 * The paths each commit changes against its first parent (a merge: what it brings to the first
 * parent; a root commit: every path): from the path cache when given, the rest in one `git diff-tree --stdin`. Read as --raw -z
 * records, where a path always follows its ":mode mode sha sha status" field: a file named like a
 * commit ID can never pass for the next commit's header.
 */
export async function changedPaths(commits: readonly HistoryCommit[], cwd?: string, cache?: PathCache): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const asked: HistoryCommit[] = [];
  for (const c of commits) {
    const known = cache?.get(c.sha, c.parents[0] ?? null);
    if (known) out.set(c.sha, known);
    else asked.push(c);
  }
  if (asked.length === 0) return out;
  const found = await diffTree(asked, cwd);
  for (const c of asked) {
    const paths = found.get(c.sha) as string[];
    out.set(c.sha, paths);
    cache?.put(c.sha, c.parents[0] ?? null, paths);
  }
  cache?.flush();
  return out;
}

async function diffTree(commits: readonly HistoryCommit[], cwd?: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(commits.map((c) => [c.sha, []]));
  const input = commits.map((c) => (c.parents.length ? `${c.sha} ${c.parents[0]}` : c.sha)).join('\n') + '\n';
  const r = await runGit(['diff-tree', '--stdin', '-r', '-z', '--raw', '--no-renames', '--root', '--no-abbrev'], { cwd, input });
  if (r.code !== 0) throw new GitsignError('GIT', `git diff-tree failed: ${r.stderr.trim().split('\n').pop() || `exit code ${r.code}`}`);
  const fields = r.stdout.toString('utf8').split('\0');
  let current: string[] | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    if (f === '') continue;
    if (f.startsWith(':')) {
      const path = fields[++i];
      if (current === undefined || path === undefined) throw new GitsignError('GIT', 'git diff-tree answered a change outside any commit');
      current.push(path);
      continue;
    }
    const sha = f.split(' ')[0].trim();
    current = out.get(sha);
    if (current === undefined) throw new GitsignError('GIT', `git diff-tree answered for ${JSON.stringify(sha.slice(0, 64))}, which was not asked`);
  }
  return out;
}
