import { GitsignError } from '../errors';
import { gitFailure, gitNotRun } from './failure';
import { spawnPiped } from './spawnPiped';

/**
 * One git command with Buffers in and out (object contents and tree entries are bytes, not text).
 * Plumbing only; the caller decides which exit codes are errors.
 */
export interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface GitOptions {
  input?: Buffer | string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function runGit(args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const proc = spawnPiped('git', args, { cwd: opts.cwd, env: opts.env });
    const out: Buffer[] = [];
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => out.push(d));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', (err) => reject(gitNotRun(err)));
    proc.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    // git may exit before reading all input (a bad argument); that is reported through its exit code.
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(opts.input ?? '');
  });
}

/** Runs git and returns its stdout; a non-zero exit is a GIT error quoting git's own message. */
export async function git(args: string[], opts: GitOptions = {}): Promise<Buffer> {
  const r = await runGit(args, opts);
  if (r.code !== 0) throw gitFailure(`git ${args[0]} failed`, r.stderr.trim() ? r.stderr : `exit code ${r.code}`);
  return r.stdout;
}

/** The first value of a git config key, or '' when unset (scope: e.g. ['--global']). */
export async function gitConfigValue(key: string, scope: string[] = [], opts: GitOptions = {}): Promise<string> {
  const r = await runGit(['config', ...scope, '--get-all', key], opts);
  if (r.code === 1) return '';
  if (r.code !== 0) throw new GitsignError('GIT', `git config ${key}: ${r.stderr.trim()}`);
  return r.stdout.toString('utf8').split('\n')[0];
}
