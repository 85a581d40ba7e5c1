import { setTimeout as sleep } from 'node:timers/promises';
import { GitsignError } from '../errors';
import { terminalLines } from '../text/terminal';
import type { SandboxPaths } from './state/paths';
import { exited, inspectSandbox, unresponsiveError, type Inspection } from './status';

/**
 * `gitsign sandbox down`: SIGTERM to the sandbox of DIR (only once it has proved, on its port, to be
 * that sandbox), then waits until the process is gone. A sandbox closes in about 2 s (requests under
 * way get that long); one still there after STOP_MS is killed, and one that outlives even that is an
 * error. Nothing running is not an error: the goal, no sandbox, is reached.
 */
const STOP_MS = 15_000;
const KILL_MS = 5_000;
/** How long a sandbox that is still starting gets to answer before down gives up on it. */
const START_MS = 10_000;
const POLL_MS = 50;

async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (done()) return true;
    if (Date.now() >= end) return false;
    await sleep(POLL_MS);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw new GitsignError('CONFIG', `cannot signal the sandbox (pid ${pid}): ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export async function downCommand(paths: SandboxPaths): Promise<number> {
  let seen: Inspection = await inspectSandbox(paths);
  const startEnd = Date.now() + START_MS;
  while (seen.state === 'starting' && Date.now() < startEnd) {
    await sleep(4 * POLL_MS);
    seen = await inspectSandbox(paths);
  }
  const say = (line: string): void => void process.stderr.write(terminalLines([`gitsign sandbox: ${line}`]));
  if (seen.state === 'stopped') {
    say(`no sandbox is running in ${paths.dir}; nothing to stop`);
    return 0;
  }
  if (seen.state === 'starting') throw new GitsignError('SERVICE', `the sandbox in ${paths.dir} (pid ${seen.pid}) is still starting after ${START_MS / 1000} s; try again, or kill ${seen.pid}`);
  if (seen.state === 'unresponsive') throw unresponsiveError(seen);
  const pid = seen.pid!;
  const started = Date.now();
  signal(pid, 'SIGTERM');
  if (await until(() => exited(pid), STOP_MS)) {
    say(`stopped the sandbox at ${seen.runtime!.url} (pid ${pid}) in ${Date.now() - started} ms`);
    return 0;
  }
  signal(pid, 'SIGKILL');
  if (await until(() => exited(pid), KILL_MS)) {
    say(`the sandbox (pid ${pid}) did not stop within ${STOP_MS / 1000} s of SIGTERM: killed it (SIGKILL); its log keeps every entry it acknowledged`);
    return 0;
  }
  throw new GitsignError('SERVICE', `the sandbox (pid ${pid}) is still there ${(STOP_MS + KILL_MS) / 1000} s after SIGTERM and SIGKILL`);
}
