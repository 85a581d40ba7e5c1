import { lstatSync, mkdirSync, realpathSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { GitsignError } from '../../errors';

/**
 * The sandbox directory holds code that is run (`env` is sourced) and the trust root clients believe,
 * so no other user may write into it or swap it for another: it must be a directory (not a link) that
 * we own and that neither its group nor others can write; every directory above it must belong to us
 * or root and, when its group or others can write it, be sticky (as /tmp is: no one can rename another
 * user's entry there). This is the cache daemon's rule for its socket directory, applied to the whole path.
 */
const ROOT_UID = 0;

const refuse = (dir: string, why: string): GitsignError => new GitsignError('CONFIG', `refusing sandbox directory ${dir}: ${why}`);

function writableByOthers(st: Stats): string | undefined {
  if (st.mode & 0o002) return 'others';
  if (st.mode & 0o020) return 'its group';
  return undefined;
}

/** Every existing directory from `real` (a real path) up to /: ours or root's, and sticky if others can write it. */
function checkAncestors(real: string, dir: string, uid: number | undefined): void {
  for (let d = real; ; d = dirname(d)) {
    const st = lstatSync(d);
    if (uid !== undefined && st.uid !== uid && st.uid !== ROOT_UID) throw refuse(dir, `${d} above it belongs to another user (uid ${st.uid}), who could replace it`);
    const who = writableByOthers(st);
    if (who && !(st.mode & 0o1000)) throw refuse(dir, `${d} above it is writable by ${who} and not sticky, so it could be replaced`);
    if (d === dirname(d)) return;
  }
}

/** Throws unless dir (which exists) is a real directory of ours that only we can write. */
function checkOwnDir(dir: string, uid: number | undefined): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) throw refuse(dir, 'it is a symbolic link (give the directory itself)');
  if (!st.isDirectory()) throw refuse(dir, 'it is not a directory');
  if (uid !== undefined && st.uid !== uid) throw refuse(dir, `it belongs to another user (uid ${st.uid})`);
  const who = writableByOthers(st);
  if (who) throw refuse(dir, `it is writable by ${who} (chmod go-w it, or choose another --dir)`);
}

const exists = (path: string): boolean => lstatSync(path, { throwIfNoEntry: false }) !== undefined;

/**
 * Checks dir as above, creating it (and missing parents) mode 0700 when it does not exist; returns its
 * real path, which callers use from then on so no link above it is followed again.
 * With create false, a missing dir is returned as is (there is no sandbox to read there).
 */
export function prepareSandboxDir(dir: string, create = true): string {
  const abs = resolve(dir);
  try {
    return prepare(abs, create);
  } catch (err) {
    if (err instanceof GitsignError) throw err;
    throw refuse(abs, `it cannot be used (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

function prepare(abs: string, create: boolean): string {
  const uid = process.getuid?.();
  let existing = abs;
  while (!exists(existing)) existing = dirname(existing);
  const realExisting = realpathSync(existing);
  checkAncestors(existing === abs ? dirname(realExisting) : realExisting, abs, uid);
  if (existing !== abs) {
    if (!create) return abs;
    mkdirSync(abs, { recursive: true, mode: 0o700 });
  }
  checkOwnDir(abs, uid);
  return realpathSync(abs);
}
