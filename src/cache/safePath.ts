import { lstatSync, readlinkSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * gitsign's check of the socket path when it cannot ask the kernel who listens on it (no peercred
 * addon): the socket must be ours, and no one but us and root may be able to replace anything on
 * the way to it, so that the file we check is the file we connect to (no check-then-connect race
 * with another user). The path is resolved by hand, link by link, so that every directory and link
 * actually followed is checked: each owned by us or root, and no directory writable by group or
 * others unless sticky (/tmp: others cannot rename or remove what we own there).
 */
export interface PathProblem {
  why: string;
  /** true: someone else could control the path (worth a warning); false: simply nothing there. */
  refused: boolean;
}

const MAX_LINKS = 40; // as Linux's path resolution

export function checkSocketPath(path: string, uid: number): PathProblem | null {
  const pending = resolve(path).split('/').filter(Boolean);
  let current = '/';
  let links = 0;
  const refuse = (why: string): PathProblem => ({ why, refused: true });
  const looseDirectory = (at: string, st: Stats): PathProblem | null =>
    (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0 ? refuse(`${at} is writable by other users`) : null;
  try {
    const root = looseDirectory('/', lstatSync('/'));
    if (root) return root;
    while (pending.length > 0) {
      const name = pending.shift() as string;
      if (name === '.') continue;
      if (name === '..') {
        current = dirname(current); // physical: current never holds a link
        continue;
      }
      const at = current === '/' ? `/${name}` : `${current}/${name}`;
      const st = lstatSync(at);
      const last = pending.length === 0;
      if (st.uid !== uid && !(st.uid === 0 && !last)) return refuse(`${at} belongs to uid ${st.uid}, not us`);
      if (st.isSymbolicLink()) {
        if (++links > MAX_LINKS) return refuse(`${path}: too many symbolic links`);
        const target = readlinkSync(at);
        if (target.startsWith('/')) current = '/';
        pending.unshift(...target.split('/').filter(Boolean));
        continue;
      }
      if (last) return st.isSocket() ? null : refuse(`${at} is not a socket`);
      if (!st.isDirectory()) return { why: `${at} is not a directory`, refused: false };
      const loose = looseDirectory(at, st);
      if (loose) return loose;
      current = at;
    }
    return refuse(`${path} is not a socket`);
  } catch (err) {
    return { why: `${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, refused: false };
  }
}
