import { closeSync, unlinkSync, writeSync } from 'node:fs';
import { GitsignError } from '../../errors';
import { createExclusive, readOwnFile } from './fsutil';

/**
 * One sandbox per directory: two writers would interleave the log. The lock file holds the owner's
 * pid; a lock whose process is gone is taken over.
 */

/** Whether a process with this pid exists (ours or another user's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid a lock file names, if it names one. */
export function lockOwner(path: string): number | undefined {
  let owner = NaN;
  try {
    owner = Number.parseInt(readOwnFile(path)?.toString().trim() ?? '', 10);
  } catch {
    /* vanished meanwhile, or not a file of ours: no owner to name */
  }
  return Number.isInteger(owner) && owner > 0 ? owner : undefined;
}

/** Locks this process holds: a lock file naming our own pid is ours only if it is in here. */
const held = new Set<string>();

/** `busy` names what holds the lock, for the error when another live process does; `fix` says what to do then. */
export function acquireLock(path: string, dir: string, busy = 'a sandbox is already running on', fix?: string): () => void {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = createExclusive(path);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      held.add(path);
      return () => {
        held.delete(path);
        try {
          if (readOwnFile(path)?.toString().trim() === String(process.pid)) unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = lockOwner(path);
      const ours = owner === process.pid && held.has(path);
      if (ours || (owner !== undefined && owner !== process.pid && alive(owner))) {
        throw new GitsignError('CONFIG', `${busy} ${dir} (pid ${owner})${fix ? `: ${fix}` : ''}`);
      }
      try {
        unlinkSync(path);
      } catch {
        /* someone else removed it */
      }
    }
  }
  throw new GitsignError('CONFIG', `cannot lock ${dir}`);
}
