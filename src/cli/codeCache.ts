import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/**
 * Runs a bundle file as a CommonJS module through a V8 code cache kept next to it (FILE.cache):
 * compiling a bundle costs each start, and each worker thread, tens of milliseconds that the cache
 * saves. bin/gitsign runs dist/gitsign.js through it, the verification pool its workers, and each
 * bundle file's import of another (scripts/build.mjs) that file. A missing, stale, rejected or
 * unwritable cache only costs that time.
 *
 * V8 checks a cache against the source's length only, so the cache also records the bundle it was
 * made for (size and modification time): a rebuilt bundle never runs with another bundle's code.
 * V8 caches only the functions compiled so far, so a cache also records what kind of run made it:
 * `kinds` lists the kinds a run accepts, the most complete first, and a run replaces a cache made by
 * a kind after its own (git's calls replace the cache of a `gitsign verify`, which lacks git's path).
 */
export interface CacheOptions {
  /** This run's kind, one of `kinds` (default: the only kind, "all"). */
  kind?: string;
  kinds?: readonly string[];
  /** Write a missing or replaceable cache at process exit (default), or only when `saveCache` is called (a worker thread, which has no exit of its own). */
  saveAtExit?: boolean;
}

export interface CachedModule {
  exports: unknown;
  /** Writes the cache now, if it was missing or replaceable (once; later calls do nothing). */
  saveCache: () => void;
}

type ModuleInternals = typeof Module & {
  wrap(source: string): string;
  _nodeModulePaths(dir: string): string[];
  _cache: Record<string, Module>;
};

/**
 * A V8 flag this process changed after it started (setCompilerFlag), with the value that undoes it.
 * V8 refuses a cache made under other flags, so caches are read and made under the defaults: every
 * run, whatever it tunes, then shares them.
 */
let changed: { set: string; unset: string } | null = null;

/** Changes a V8 compiler flag for the rest of this process (a batch command's tuning, see batchTuning.ts). */
export function setCompilerFlag(set: string, unset: string): void {
  // Required here only: loading node:v8 costs git's calls ~5 ms, and only batch commands tune.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('node:v8') as typeof import('node:v8')).setFlagsFromString(set);
  changed = { set, unset };
}

/** The flag setCompilerFlag changed, if any: a worker thread, which shares the process's flags, is told (verifyPool.ts). */
export function compilerFlagChange(): { set: string; unset: string } | null {
  return changed;
}

function underDefaultFlags<T>(use: () => T): T {
  const flags = changed;
  if (!flags) return use();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { setFlagsFromString } = require('node:v8') as typeof import('node:v8');
  setFlagsFromString(flags.unset);
  try {
    return use();
  } finally {
    setFlagsFromString(flags.set);
  }
}

export function runCached(file: string, opts: CacheOptions = {}): CachedModule {
  const kinds = opts.kinds ?? ['all'];
  const kind = opts.kind ?? kinds[0];
  const M = Module as ModuleInternals;
  // Loaded already in this thread (by another bundle's import): the same module, as require() gives.
  const loaded = M._cache[file];
  if (loaded) return { exports: loaded.exports, saveCache: () => undefined };
  const cacheFile = `${file}.cache`;
  const source = readFileSync(file, 'utf8');
  const stat = statSync(file);
  const stampOf = (k: string): Buffer => Buffer.from(`${stat.size}:${stat.mtimeMs}:${k}\n`);
  let cachedData: Buffer | undefined;
  let replace = true;
  try {
    const cache = readFileSync(cacheFile);
    const found = kinds.find((k) => cache.subarray(0, stampOf(k).length).equals(stampOf(k)));
    if (found !== undefined) {
      cachedData = cache.subarray(stampOf(found).length);
      replace = kinds.indexOf(found) > kinds.indexOf(kind);
    }
  } catch {
    cachedData = undefined;
  }
  const script = underDefaultFlags(() => new Script(M.wrap(source), { filename: file, cachedData }));
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = M._nodeModulePaths(dirname(file));
  M._cache[file] = mod;
  let saved = false;
  const saveCache = (): void => {
    if (saved || !(replace || script.cachedDataRejected)) return;
    saved = true;
    try {
      const tmp = `${cacheFile}.${process.pid}.${Math.random().toString(36).slice(2)}`;
      writeFileSync(tmp, Buffer.concat([stampOf(kind), underDefaultFlags(() => script.createCachedData())]));
      renameSync(tmp, cacheFile);
    } catch {
      // read-only install: run without a cache
    }
  };
  if (opts.saveAtExit ?? true) process.once('exit', saveCache);
  (script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, (id: string) => mod.require(id), mod, file, dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, saveCache };
}
