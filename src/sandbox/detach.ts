import { spawn, type ChildProcess } from 'node:child_process';
import { type ErrorCode, GitsignError } from '../errors';
import { terminalLines } from '../text/terminal';
import { shellQuote } from './env';
import { checkServices } from './probe';
import { sandboxPaths } from './state/paths';

/**
 * `gitsign sandbox up --detach`: the sandbox runs in a process of its own session (no terminal, so
 * closing the shell leaves it running; output discarded), started as `up --detached-child`, which
 * tells this process over an IPC channel that it serves or why it could not start. This process
 * then asks every service once, and returns only when all answer: the env file is written, tokens can
 * be minted, commits signed. Anything else ends in a non-zero exit with the reason, and no sandbox left
 * running.
 */
export type ChildReport = { ready: { url: string; pid: number; notes: string } } | { failed: { code: ErrorCode; message: string } };

/** Start-up takes well under a second (new keys included); this bounds a machine that is very busy. */
const READY_MS = 30_000;
const EXIT_MS = 10_000;

/** In the child: says how the start went, then lets the channel go so it never keeps the process alive. */
export async function tellParent(report: ChildReport): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) return;
  await new Promise<void>((resolve) => send(report, undefined, undefined, () => resolve()));
  if (process.connected) process.disconnect();
}

export interface DetachOptions {
  dir: string;
  /** The options to forward to the child's `up` (never --detach). */
  forward: string[];
  faults: string[];
}

type Outcome = { kind: 'report'; report: ChildReport } | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null } | { kind: 'timeout' } | { kind: 'interrupted'; signal: NodeJS.Signals } | { kind: 'error'; code: string };

const isReport = (m: unknown): m is ChildReport => {
  const r = m as Record<string, Record<string, unknown> | undefined>;
  return (
    (typeof r?.ready?.url === 'string' && typeof r.ready.pid === 'number' && typeof r.ready.notes === 'string') ||
    (typeof r?.failed?.code === 'string' && typeof r.failed.message === 'string')
  );
};

function outcomeOf(child: ChildProcess): Promise<Outcome> {
  return new Promise((resolve) => {
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    const done = (o: Outcome): void => {
      clearTimeout(timer);
      signals.forEach((s) => process.off(s, onSignal));
      resolve(o);
    };
    const onSignal = (signal: NodeJS.Signals): void => done({ kind: 'interrupted', signal });
    const timer = setTimeout(() => done({ kind: 'timeout' }), READY_MS);
    signals.forEach((s) => process.on(s, onSignal));
    child.on('message', (m) => isReport(m) && done({ kind: 'report', report: m }));
    child.on('exit', (code, signal) => done({ kind: 'exited', code, signal }));
    child.on('error', (err: NodeJS.ErrnoException) => done({ kind: 'error', code: err.code ?? err.message }));
  });
}

function exitOf(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops a child that must not be left running: SIGTERM (it closes cleanly), then SIGKILL. */
async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (!(await exitOf(child, EXIT_MS))) {
    child.kill('SIGKILL');
    await exitOf(child, EXIT_MS);
  }
}

export async function startDetached(opts: DetachOptions): Promise<number> {
  const paths = sandboxPaths(opts.dir);
  // process.argv[1] is this program (bin/gitsign); the child runs in / so it holds no directory busy.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], 'sandbox', 'up', '--dir', paths.dir, '--detached-child', ...opts.forward], {
    cwd: '/',
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
  });
  const outcome = await outcomeOf(child);
  const fail = async (code: ErrorCode, why: string): Promise<never> => {
    await stopChild(child);
    throw new GitsignError(code, why);
  };
  if (outcome.kind === 'timeout') return fail('SERVICE', `the sandbox did not get ready within ${READY_MS / 1000} s; it was stopped`);
  if (outcome.kind === 'interrupted') return fail('SERVICE', `interrupted (${outcome.signal}) before the sandbox was ready; it was stopped`);
  if (outcome.kind === 'error') throw new GitsignError('CONFIG', `cannot start the sandbox process (${outcome.code})`);
  if (outcome.kind === 'exited') throw new GitsignError('SERVICE', `the sandbox process ended before it was ready (${outcome.signal ?? `exit code ${outcome.code}`})`);
  if ('failed' in outcome.report) {
    // Its own error (a taken port, a locked directory, ...), after it took away what it had made.
    await exitOf(child, EXIT_MS);
    throw new GitsignError(outcome.report.failed.code, outcome.report.failed.message);
  }
  const { url, pid, notes } = outcome.report.ready;
  const checks = await checkServices(url, opts.faults);
  const silent = checks.filter((s) => s.answers === false);
  if (silent.length) return fail('SERVICE', `the sandbox started but ${silent.map((s) => `${s.service} (${s.detail})`).join(', ')} does not answer; it was stopped`);
  if (child.connected) child.disconnect();
  child.unref();
  process.stdout.write(terminalLines([paths.env]));
  process.stderr.write(
    terminalLines([
      `gitsign sandbox: ready at ${url} in the background (pid ${pid}; ${notes}); ${checks.some((s) => s.answers === null) ? 'every service not in hostile mode answers' : 'every service answers'}`,
      ...(opts.faults.length ? [`gitsign sandbox: HOSTILE MODE, wrong answers on purpose: ${opts.faults.join(', ')}`] : []),
      `gitsign sandbox: load its settings with: . ${shellQuote(paths.env)}`,
      `gitsign sandbox: stop it with: gitsign sandbox down --dir ${shellQuote(paths.dir)}`,
    ]),
  );
  return 0;
}
