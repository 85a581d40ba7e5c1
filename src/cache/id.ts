import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute } from 'node:path';

/**
 * The ID a credential is cached under, as Go gitsign makes it: the host name (a socket forwarded
 * over SSH serves several hosts), "@", and the working directory as Go's os.Getwd gives it ($PWD
 * when it names the current directory, so a path through a symbolic link stays that path), so that
 * a Go gitsign and this one signing in the same directory share an entry.
 */
export function cacheId(env: NodeJS.ProcessEnv = process.env): string {
  return `${hostname()}@${workingDirectory(env)}`;
}

function workingDirectory(env: NodeJS.ProcessEnv): string {
  const cwd = process.cwd();
  const pwd = env.PWD;
  if (!pwd || !isAbsolute(pwd)) return cwd;
  try {
    const a = statSync(pwd);
    const b = statSync('.');
    if (a.dev === b.dev && a.ino === b.ino) return pwd;
  } catch {
    /* $PWD is gone: the real path */
  }
  return cwd;
}
