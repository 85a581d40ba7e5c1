import type { ChildProcess } from 'node:child_process';
import { after } from 'node:test';

/**
 * Every long-lived process a test helper starts (sandbox, credential cache daemon) is tracked here and
 * stopped when the test file ends, whatever failed: a `before` hook that threw after starting it, a
 * test that lost its handle. Left running, one such child keeps the file's event loop alive and the
 * test runner waits for ever.
 */
const live = new Set<ChildProcess>();

export function tracked<T extends ChildProcess>(proc: T): T {
  if (proc.exitCode === null && proc.signalCode === null) {
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
  }
  return proc;
}

const closers = new Set<() => Promise<void>>();

/** An in-process server's close, made idempotent and called at the end of the file if no test did. */
export function closedAtEnd(close: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  const once = (): Promise<void> => {
    closers.delete(once);
    return (done ??= close());
  };
  closers.add(once);
  return once;
}

/**
 * SIGTERM to each tracked child still running, SIGKILL to those still there after `graceMs`; every
 * in-process server not closed yet is closed.
 */
export async function stopTracked(graceMs = 5_000): Promise<void> {
  await Promise.allSettled([...closers].map((close) => close()));
  const waits = [...live].map(
    (proc) =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve();
        }, graceMs);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  );
  await Promise.all(waits);
}

// Only under the test runner (not when bench.ts imports the helpers): after the file's last test and hook.
if (process.env.NODE_TEST_CONTEXT) after(() => stopTracked());
// A process that exits anyway leaves none behind.
process.once('exit', () => live.forEach((proc) => proc.kill('SIGKILL')));
