import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, type Stats, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { GitsignError } from '../../errors';

/**
 * File access inside the sandbox directory. The directory is checked to be ours (see dir.ts); these
 * also never follow a link at the file's own name nor take a file another user made, so a link or file
 * planted before the directory was locked down cannot redirect a write or feed a read.
 */
const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = constants;

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

/** Creates a new file, mode 0600: fails if anything is at path, a symbolic link included. */
export function createExclusive(path: string): number {
  return openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
}

/** Throws unless an opened file is a regular file owned by this user. */
export function assertOwnFile(st: Stats, path: string): void {
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

/**
 * Writes a whole file atomically, mode 0600: a temporary file of a fresh random name created
 * exclusively (never an existing file or link), fsync, rename over path, directory fsync.
 */
export function writeFileAtomic(path: string, data: string | Buffer): void {
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
    fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
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
