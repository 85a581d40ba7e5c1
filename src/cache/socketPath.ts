import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Where the cache socket lives: gitsign's default, os.UserCacheDir()/sigstore/gitsign/cache.sock
 * ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS).
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'darwin') return join(env.HOME || homedir(), 'Library', 'Caches');
  const xdg = env.XDG_CACHE_HOME;
  // The XDG spec ignores a relative value, as Go does.
  if (xdg && isAbsolute(xdg)) return xdg;
  return join(env.HOME || homedir(), '.cache');
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCacheDir(env), 'sigstore', 'gitsign', 'cache.sock');
}

/** GITSIGN_CREDENTIAL_CACHE made absolute, as gitsign does; undefined when unset or empty. */
export function socketFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.GITSIGN_CREDENTIAL_CACHE;
  return v ? resolve(v) : undefined;
}
