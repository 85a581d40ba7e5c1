import { join, resolve } from 'node:path';
import { absolute, homeDirectory } from '../config/home';
import { GitsignError } from '../errors';

/**
 * Where the cache socket lives: gitsign's default, os.UserCacheDir()/sigstore/gitsign/cache.sock
 * ($XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS). A relative XDG_CACHE_HOME or
 * HOME is ignored (the XDG Base Directory spec calls relative paths invalid; Go's UserCacheDir fails
 * on one): taken as is, it would put the socket under whatever directory the daemon starts in.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return join(homeDir(env), 'Library', 'Caches');
  return absolute(env.XDG_CACHE_HOME) ?? join(homeDir(env), '.cache');
}

/** The home directory, or a CONFIG error: without one there is no default socket path. */
function homeDir(env: NodeJS.ProcessEnv): string {
  const home = homeDirectory(env);
  if (!home) throw new GitsignError('CONFIG', 'no home directory: HOME is unset or relative and the user database has none; give --socket');
  return home;
}

export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(userCacheDir(env), 'sigstore', 'gitsign', 'cache.sock');
}

/** GITSIGN_CREDENTIAL_CACHE made absolute, as gitsign does; undefined when unset or empty. */
export function socketFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const v = env.GITSIGN_CREDENTIAL_CACHE;
  return v ? resolve(v) : undefined;
}

/** The default path as --help shows it, even where there is no home directory. */
export function defaultSocketPathForHelp(env: NodeJS.ProcessEnv = process.env): string {
  try {
    return defaultSocketPath(env);
  } catch {
    return '$XDG_CACHE_HOME/sigstore/gitsign/cache.sock';
  }
}
