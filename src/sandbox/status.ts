import { readFileSync } from 'node:fs';
import { GitsignError } from '../errors';
import { jsonLines, terminalLines } from '../text/terminal';
import { shellQuote } from './env';
import { checkServices, whoAnswers } from './probe';
import { alive, lockOwner } from './state/lock';
import type { SandboxPaths } from './state/paths';
import { readRuntime, type RuntimeInfo } from './state/runtime';

/**
 * Whether the sandbox of a state directory runs, decided from three sources that must agree: the
 * lock names a live process, DIR/sandbox.json names the same pid, and the server on its port says it
 * is that pid serving that directory. A lock left by a crash whose pid now belongs to another program
 * is never taken for a sandbox.
 */
export type SandboxState =
  /** It serves, and every command may use it. */
  | 'running'
  /** A live process holds the lock but has not written its URL yet. */
  | 'starting'
  /** A live process holds the lock and its URL is recorded, but nothing there answers as this sandbox. */
  | 'unresponsive'
  | 'stopped';

export interface Inspection {
  state: SandboxState;
  paths: SandboxPaths;
  /** The lock holder (not stopped), or the last run's pid. */
  pid?: number;
  /** This run's record (running, unresponsive), or the last run's (stopped). */
  runtime?: RuntimeInfo;
}

/** A process that has exited but is not yet reaped by its parent counts as gone (Linux; elsewhere never seen). */
export function exited(pid: number): boolean {
  if (!alive(pid)) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export async function inspectSandbox(paths: SandboxPaths): Promise<Inspection> {
  const runtime = readRuntime(paths.runtime);
  const pid = lockOwner(paths.lock);
  if (pid === undefined || exited(pid)) return { state: 'stopped', paths, pid: runtime?.pid, runtime };
  if (runtime?.pid !== pid) return { state: 'starting', paths, pid };
  const who = await whoAnswers(runtime.url);
  return { state: who?.pid === pid && who.dir === paths.dir ? 'running' : 'unresponsive', paths, pid, runtime };
}

const startHint = (paths: SandboxPaths): string => `gitsign sandbox up --detach --dir ${shellQuote(paths.dir)}`;

/** Why a command that needs the sandbox running cannot go on, with what to run. */
export function notRunningError(seen: Inspection): GitsignError {
  const { paths } = seen;
  if (seen.state === 'starting') {
    return new GitsignError('CONFIG', `the sandbox in ${paths.dir} is still starting (pid ${seen.pid}): wait until \`gitsign sandbox status --dir ${shellQuote(paths.dir)}\` says it runs (\`${startHint(paths)}\` returns only then)`);
  }
  if (seen.state === 'unresponsive') return unresponsiveError(seen);
  return new GitsignError('CONFIG', `no sandbox is running in ${paths.dir}: start one with \`${startHint(paths)}\``);
}

export function unresponsiveError(seen: Inspection): GitsignError {
  const { paths } = seen;
  return new GitsignError(
    'CONFIG',
    `pid ${seen.pid} holds the lock of ${paths.dir} but nothing at ${seen.runtime?.url ?? 'its URL'} answers as its sandbox: if it is the sandbox, stop it with kill ${seen.pid}; if it is another program (a lock left by a crash), remove ${paths.lock}`,
  );
}

/** `gitsign sandbox status`: 0 when running, 1 when not; what runs where, and whether each service answers. */
export async function statusCommand(paths: SandboxPaths, json: boolean): Promise<number> {
  const seen = await inspectSandbox(paths);
  const running = seen.state === 'running';
  const runtime = seen.runtime;
  const services = running && runtime ? await checkServices(runtime.url, runtime.faults) : [];
  if (json) {
    const report = {
      running,
      state: seen.state,
      dir: paths.dir,
      pid: seen.state === 'stopped' ? null : (seen.pid ?? null),
      url: running ? runtime!.url : null,
      issuer: running ? runtime!.issuer : null,
      subject: runtime?.subject ?? null,
      env: running ? paths.env : null,
      faults: running ? (runtime!.faults ?? []) : [],
      services: Object.fromEntries(services.map((s) => [s.service, { url: s.url, answers: s.answers, detail: s.detail }])),
    };
    process.stdout.write(terminalLines(jsonLines(JSON.stringify(report, null, 2))));
    return running ? 0 : 1;
  }
  if (!running) {
    const line = seen.state === 'stopped' ? `not running in ${paths.dir}; start it with: ${startHint(paths)}` : `${seen.state}: ${notRunningError(seen).message}`;
    process.stdout.write(terminalLines([`gitsign sandbox: ${line}`]));
    return 1;
  }
  const width = Math.max(...services.map((s) => s.url.length));
  process.stdout.write(
    terminalLines([
      `gitsign sandbox: running at ${runtime!.url} (pid ${seen.pid})`,
      `  dir      ${paths.dir}`,
      `  env      ${paths.env} (load it with: . ${shellQuote(paths.env)})`,
      `  subject  ${runtime!.subject} (its logins and \`gitsign sandbox token\` sign in as this identity)`,
      ...services.map((s) => `  ${s.service.padEnd(7)}  ${s.url.padEnd(width)}  ${s.answers === null ? '' : s.answers ? 'answers' : 'DOES NOT ANSWER: '}${s.answers ? '' : s.detail}`),
      ...(runtime!.faults?.length ? [`  HOSTILE MODE, wrong answers on purpose: ${runtime!.faults.join(', ')}`] : []),
      `  stop it with: gitsign sandbox down --dir ${shellQuote(paths.dir)}`,
    ]),
  );
  return 0;
}
