import { spawnSync } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Small helpers for doctor's local checks: running a program briefly, finding one on PATH, quoting. */

/** Local commands (git config, `gitsign --version`) get this long; they take milliseconds. */
const LOCAL_DEADLINE_MS = 10_000;

export interface Ran {
  code: number;
  out: string;
  err: string;
}

/** A program's exit code and output, within the deadline (a program that does not end counts as failed). */
export function run(program: string, args: string[], cwd?: string, env: NodeJS.ProcessEnv = process.env): Ran {
  const r = spawnSync(program, args, { cwd, env, encoding: 'utf8', timeout: LOCAL_DEADLINE_MS, maxBuffer: 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) return { code: -1, out: '', err: (r.error as NodeJS.ErrnoException).code ?? r.error.message };
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

/** A regular file this process may execute (what a PATH lookup accepts). */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where a program git or a shell would run is: a name through PATH, a path relative to cwd; null if none. */
export function findProgram(program: string, cwd: string, env: NodeJS.ProcessEnv = process.env): string | null {
  if (program.includes('/')) {
    const path = isAbsolute(program) ? program : resolve(cwd, program);
    return executable(path) ? path : null;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const path = join(dir, program);
    if (executable(path)) return path;
  }
  return null;
}

/** Whether two paths name the same file (links followed). */
export function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** A word for a POSIX shell command line, quoted only when it needs to be. */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9_/.:@%+=,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
