import { loadAddon } from '../addon';
import { GitsignError } from '../errors';
import { gitFailure, gitNotRun } from './failure';

/**
 * A short program run to its end, synchronously, with its output captured: git config on git's hot
 * path. Through the native addon's posix_spawn when it is built (Node's child_process forks, copying
 * our page tables before git can start, and loads node:net, node:dgram and the streams: together ~10%
 * of a verify call's CPU), else child_process. Both bound the run by time and output size.
 */
export interface CapturedRun {
  /** The exit code; null when it ended by a signal, ran out of time or wrote too much. */
  status: number | null;
  stdout: Buffer;
  stderr: Buffer;
  /** Why it was stopped, when it was. */
  stopped?: 'timeout' | 'too-large';
  /** It could not be started (error.code ENOENT: no such program). */
  error?: NodeJS.ErrnoException;
}

export interface RunLimits {
  cwd?: string;
  env: NodeJS.ProcessEnv;
  maxBytes: number;
  timeoutMs: number;
}

export function runCapturedSync(file: string, args: string[], limits: RunLimits): CapturedRun {
  // Not started by the addon (no such program, a bad directory or argument): child_process says why, in its own terms.
  return runWithAddon(file, args, limits) ?? runWithChildProcess(file, args, limits);
}

/** An environment as the addon takes it: "NAME=value" strings. */
export function environmentList(env: NodeJS.ProcessEnv): string[] {
  const list: string[] = [];
  for (const name in env) {
    const value = env[name];
    if (value !== undefined) list.push(`${name}=${value}`);
  }
  return list;
}

/** The addon's run; null when there is no addon (not built, not Linux) or it could not start the program. */
export function runWithAddon(file: string, args: string[], limits: RunLimits): CapturedRun | null {
  const runCaptured = loadAddon()?.runCaptured;
  if (!runCaptured) return null;
  try {
    const r = runCaptured(file, [file, ...args], limits.cwd ?? null, environmentList(limits.env), limits.maxBytes, limits.timeoutMs);
    if (r.timedOut || r.tooLarge) return { status: null, stdout: r.stdout, stderr: r.stderr, stopped: r.timedOut ? 'timeout' : 'too-large' };
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } catch {
    return null;
  }
}

export function runWithChildProcess(file: string, args: string[], limits: RunLimits): CapturedRun {
  // Required here only: node:child_process brings node:net, node:dgram and the streams with it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawnSync } = require('node:child_process') as typeof import('node:child_process');
  const r = spawnSync(file, args, { cwd: limits.cwd, env: limits.env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: limits.maxBytes, timeout: limits.timeoutMs, killSignal: 'SIGKILL' });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ETIMEDOUT') return { status: null, stdout: r.stdout, stderr: r.stderr, stopped: 'timeout' };
  if (code === 'ENOBUFS') return { status: null, stdout: r.stdout, stderr: r.stderr, stopped: 'too-large' };
  if (r.error) return { status: null, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), error: r.error };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A short git command's stdout, synchronously (see runCapturedSync); a failure is a GIT error, as ./run's git() gives. */
export function gitSync(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Buffer {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const r = runCapturedSync('git', args, { cwd: opts.cwd, env: process.env, maxBytes: 1 << 20, timeoutMs });
  if (r.error) throw gitNotRun(r.error);
  if (r.stopped) throw new GitsignError('GIT', `git ${args[0]} ${r.stopped === 'timeout' ? `did not finish within ${timeoutMs / 1000} s` : 'answered more than 1 MiB'}`);
  const stderr = r.stderr.toString('utf8');
  if (r.status !== 0) throw gitFailure(`git ${args[0]} failed`, stderr.trim() ? stderr : `exit code ${r.status ?? 'none (stopped by a signal)'}`);
  return r.stdout;
}
