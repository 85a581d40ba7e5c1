import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Our small native addon (native/, built by `npm run build` when a C compiler and Node's headers are
 * there): what Node does not expose. Every use has a way without it, so its absence is not an error.
 * Its file keeps its first name, peercred.node, which installs and packages already ship.
 */
export interface Addon {
  /** The credentials of the peer of a connected Unix socket (native/peercred.c). */
  peerCredentials(fd: number): { uid: number; gid: number; pid: number };
  /** Starts a detached, lower-priority process without waiting for it; its pid (native/spawn.c; Linux). Absent from addons built before it. */
  spawnDetached?(file: string, argv: string[], cwd: string, niceness: number): number;
  /** Runs a program to its end with stdin on /dev/null, its output captured and bounded (native/run.c; Linux). Absent from addons built before it. */
  runCaptured?(
    file: string,
    argv: string[],
    cwd: string | null,
    env: string[],
    maxBytes: number,
    timeoutMs: number,
  ): { status: number | null; signal: number | null; stdout: Buffer; stderr: Buffer; timedOut: boolean; tooLarge: boolean };
  /** Starts a program with its stdin, stdout and stderr on pipes; the parent's ends (native/run.c; Linux). Absent from addons built before it. */
  spawnPiped?(file: string, argv: string[], cwd: string | null, env: string[]): { pid: number; stdin: number; stdout: number; stderr: number };
  /** How a child started by spawnPiped ended; null while it runs. */
  reap?(pid: number): { status: number | null; signal: number | null } | null;
}

export const ADDON_FILE = 'peercred.node';

/** The addon next to the bundle (dist/), or dist/ above a compiled module (tests run from dist/tsc). */
function findAddon(): string | null {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    for (const candidate of [join(dir, ADDON_FILE), join(dir, 'dist', ADDON_FILE)]) if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return null;
}

let addon: Addon | null | undefined;

/** The addon, loaded once per process on first use; null when it is not built or does not load. */
export function loadAddon(): Addon | null {
  if (addon === undefined) {
    const path = findAddon();
    try {
      // process.dlopen, not require(): the module loader's resolution costs a git call ~1.5 ms of CPU more.
      const module = { exports: {} };
      if (path) process.dlopen(module, path);
      addon = path ? (module.exports as Addon) : null;
    } catch {
      addon = null;
    }
  }
  return addon;
}
