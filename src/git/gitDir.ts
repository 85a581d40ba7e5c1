import { resolve } from 'node:path';
import { runGit } from './run';

const gitDirs = new Map<string, Promise<string | null>>();

/** The repository's common git directory, where its caches live (asked of git once per directory); null outside one. */
export function commonGitDir(cwd?: string): Promise<string | null> {
  const at = resolve(cwd ?? process.cwd());
  let known = gitDirs.get(at);
  if (!known) {
    known = runGit(['rev-parse', '--git-common-dir'], { cwd: at }).then((r) => (r.code === 0 ? resolve(at, r.stdout.toString('utf8').replace(/\n$/, '')) : null));
    gitDirs.set(at, known);
  }
  return known;
}
