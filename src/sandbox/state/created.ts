import { lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * What one start of a sandbox adds to the disk, so a start that fails takes away exactly that: the
 * directories it made (the state directory and missing parents) and the entries it added to the
 * state directory. What was there before is never touched, nor anything added while another process
 * held the directory's lock (entries are only removed by the run that holds it).
 */
export interface Additions {
  /** The state directory (absolute). */
  dir: string;
  /** The topmost directory that did not exist before this run: it and everything below are ours. */
  firstMissing?: string;
  /** The state directory's entries when this run took the lock (undefined until then). */
  before?: Set<string>;
}

/** Whether something is at path; an error other than "no such entry" (ENOTDIR, EACCES) counts as there, so it is never taken for ours. */
function exists(path: string): boolean {
  try {
    return lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return true;
  }
}

/** Called before the directory is prepared: notes which part of its path this run is about to create. */
export function noteMissingDirectories(dir: string): Additions {
  const abs = resolve(dir);
  let firstMissing: string | undefined;
  for (let d = abs; !exists(d) && d !== dirname(d); d = dirname(d)) firstMissing = d;
  return { dir: abs, firstMissing };
}

/** Called once the lock is held: what the directory holds now was not made by this run. */
export function noteExistingEntries(additions: Additions, lockName: string): void {
  additions.before = new Set(readdirSync(additions.dir).filter((name) => name !== lockName));
}

/** Removes the entries this run added (only while it holds the lock): never what existed before. */
export function removeAddedEntries(additions: Additions, lockName: string): void {
  if (!additions.before) return;
  for (const name of readdirSync(additions.dir)) {
    if (name === lockName || additions.before.has(name)) continue;
    rmSync(join(additions.dir, name), { recursive: true, force: true });
  }
}

/**
 * Removes the directories this run created, innermost first, once they are empty (after the lock is
 * released): rmdir never removes what another process put there meanwhile.
 */
export function removeCreatedDirectories(additions: Additions): void {
  if (!additions.firstMissing) return;
  for (let d = additions.dir; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === additions.firstMissing) return;
  }
}
