import { closeSync, constants, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Files of the trust root's cache, which parallel gitsign processes (git runs one per object) read
 * and a background refresh rewrites: readers never see half a file, and nothing follows a symlink
 * planted in the cache directory.
 */

/** The file's text, not through a symlink; null when absent or unreadable. */
export function readNoFollow(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return null;
  }
  try {
    return readFileSync(fd, 'utf8');
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** Creates a new file, mode 0600: fails if anything is at path, a symbolic link included. */
export function createExclusive(path: string): number {
  return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
}

/**
 * Replaces the file in one step, mode 0600: a temporary file of a fresh random name created
 * exclusively (never an existing file or link), written whole, fsync'ed, then renamed over path.
 * `durable: false` skips the fsync, for a file whose loss or tearing in a crash costs nothing but time
 * (a MACed cache, read as a miss then).
 */
export function writeAtomic(path: string, data: string | Buffer, { durable = true }: { durable?: boolean } = {}): void {
  let tmp = '';
  let fd = -1;
  for (let attempt = 0; fd < 0; attempt++) {
    tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
    try {
      fd = createExclusive(tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw err;
    }
  }
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * A lock is stale after this long: its holder (a refresh bounded by the network deadline) died without
 * removing it. Taking it over then costs at most one extra refresh, never a corrupt file (every
 * write is atomic).
 */
export const LOCK_STALE_MS = 90_000;

/** Takes the lock file (O_EXCL) and returns true, or false when a live holder has it. */
export function tryLock(path: string, now = Date.now()): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = createExclusive(path);
      writeSync(fd, `${process.pid} ${new Date(now).toISOString()}\n`);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    try {
      if (now - statSync(path).mtimeMs < LOCK_STALE_MS) return false;
      unlinkSync(path);
    } catch {
      // Removed meanwhile by its holder: try once more.
    }
  }
  return false;
}

export function unlock(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone (taken over as stale): nothing to release.
  }
}
