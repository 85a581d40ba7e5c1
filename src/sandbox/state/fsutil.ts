import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { GitsignError } from '../../errors';
import { writeAtomic } from '../../trust/safeFiles';

/**
 * File access inside the sandbox directory. The directory is checked to be ours (see dir.ts); these
 * also never follow a link at the file's own name nor take a file another user made, so a link or file
 * planted before the directory was locked down cannot redirect a write or feed a read.
 */
const { O_NOFOLLOW, O_RDONLY } = constants;

/** Makes a new directory entry durable (the file's existence, not only its contents). */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported on every platform */
  }
}

export { createExclusive } from '../../trust/safeFiles';

/** Throws unless an opened file is a regular file owned by this user. */
function assertOwnFile(st: Stats, path: string): void {
  if (!st.isFile()) throw new GitsignError('CONFIG', `${path} is not a regular file; move it away`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new GitsignError('CONFIG', `${path} belongs to another user (uid ${st.uid}); move it away`);
}

/** Opens an existing or new file of ours with flags (O_NOFOLLOW added): never through a link, never another user's file. */
export function openOwnFile(path: string, flags: number): number {
  let fd: number;
  try {
    fd = openSync(path, flags | O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new GitsignError('CONFIG', `${path} is a symbolic link; move it away`);
    throw err;
  }
  try {
    assertOwnFile(fstatSync(fd), path);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** The content of a file of ours, or undefined when there is none. */
export function readOwnFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openOwnFile(path, O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes a whole file atomically (the product's writeAtomic), then makes the rename durable. */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  writeAtomic(path, data);
  syncDirectory(dirname(path));
}

/** A directory of ours inside the sandbox directory, created mode 0700 if missing; never a link nor another user's. */
export function ensureOwnDirectory(path: string): void {
  try {
    mkdirSync(path, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = lstatSync(path);
  if (!st.isDirectory()) throw new GitsignError('CONFIG', `${path} is not a directory (a link or a file); move it away`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new GitsignError('CONFIG', `${path} belongs to another user (uid ${st.uid}); move it away`);
}
