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

/**
 * The environment of a git whose output is read whole once it exits. Into a pipe, git flushes each
 * record (rev-list each line, diff-tree each commit) and every write wakes this process; GIT_FLUSH=0
 * lets it fill its buffer. Measured over 10,000 commits: rev-list's listing came in 14 reads instead
 * of 2,096 (this process: 39 -> 10 ms CPU); diff-tree --stdin's in 385 instead of 9,549 (150 -> 26 ms
 * CPU, 644 -> 533 ms wall).
 */
export function wholeOutputEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GIT_FLUSH: '0' };
}

/** git with all its input given at once and its output read once it exits. */
export function runGit(args: string[], opts: GitOptions = {}): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const proc = spawnPiped('git', args, { cwd: opts.cwd, env: wholeOutputEnv(opts.env) });
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
