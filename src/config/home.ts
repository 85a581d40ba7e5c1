import { userInfo } from 'node:os';
import { isAbsolute } from 'node:path';

/**
 * An absolute path from the environment, else undefined. A relative path is ignored (as the XDG Base
 * Directory spec says): it would resolve against whatever directory we run in, a cloned repository
 * for git, which could then supply a trusted root or a socket.
 */
export function absolute(value: string | undefined): string | undefined {
  return value && isAbsolute(value) ? value : undefined;
}

/** $HOME when absolute, else the account's home in the user database; undefined when neither is. */
export function homeDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const home = absolute(env.HOME);
  if (home) return home;
  try {
    return absolute(userInfo().homedir);
  } catch {
    return undefined; // no passwd entry (a container's arbitrary uid)
  }
}
