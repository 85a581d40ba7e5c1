import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../addon';
import { GitsignError } from '../errors';
import { callDeadlineMs, NETWORK_TIMEOUT_SETTING } from '../net/deadline';
import { checkedUrl } from '../net/transport';
import type { TrustRootInfo } from './rootInfo';
import { readNoFollow, tryLock, unlock, writeAtomic } from './safeFiles';
import {
  BACKGROUND_REFRESH_ARG,
  DEFAULT_TUF_MIRROR,
  type MirrorFiles,
  currentMirrorFiles,
  metadataExpiry,
  readState,
  refreshDue,
  writeState,
} from './tufMirror';
import { validateTrustedRoot } from './validateRoot';


/**
 * The whole TUF refresh (timestamp, snapshot, targets, the trusted root, any new root versions). Sizes
 * are tuf-js's to bound: it stops each download at the length the signed metadata gives, or at its
 * own maximum for metadata (root 512 kB, timestamp 16 kB, snapshot 2 MB, targets 5 MB). Time is not:
 * make-fetch-happen has only an idle timeout, which a server dripping a byte at a time never meets.
 * So the refresh runs in a worker thread that is terminated, downloads and all, at the deadline every
 * network call has (gitsign.networkTimeout, 30 s by default: src/net/http.ts).
 */
/**
 * The worker's heap: room for a few MiB of metadata. (Downloads are Buffers outside this heap, and
 * minipass-fetch takes what the socket gives without backpressure; a fast hostile server gets a few
 * tens of MiB in before tuf-js counts past its limit and the worker is ended.)
 */
const TUF_WORKER_HEAP_MB = 128;
/** Per request (idle time) and retries, as @sigstore/tuf takes them. */
const TUF_REQUEST_TIMEOUT_MS = 5_000;
const TUF_RETRIES = 1;

/** The trusted root that @sigstore/tuf ships as its seed. */
export function seededPublicGoodRoot(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  const seed = seeds[DEFAULT_TUF_MIRROR].targets['trusted_root.json'];
  return JSON.parse(Buffer.from(seed, 'base64').toString('utf8')) as Record<string, unknown>;
}

/** @sigstore/tuf for the worker to load: the bundle's own file next to ours, or the package when run by tsc. */
function tufModule(): string {
  const bundled = join(__dirname, 'tuf.js');
  return existsSync(bundled) ? bundled : '@sigstore/tuf';
}

/** Runs in the worker: one getTrustedRoot, its answer (or its failure's messages, causes included) posted back. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const why = (err) => {
  const parts = [];
  for (let e = err, depth = 0; e && depth < 4; e = e.cause, depth++) parts.push(String(e.message || e) + (e.statusCode ? ' (HTTP ' + Number(e.statusCode) + ')' : ''));
  return parts.join(': ');
};
require('node:module').createRequire(workerData.from)(workerData.tufModule).getTrustedRoot(workerData.options).then(
  (root) => parentPort.postMessage({ root }),
  (err) => parentPort.postMessage({ error: why(err) }),
);
`;

export interface TufRefresh {
  cachePath: string;
  mirrorURL?: string;
  /** A root.json to start from when the cache has none (another mirror than the seeded one). */
  rootPath?: string;
  /** Start again from rootPath (or the seed), whatever root.json the cache holds (`gitsign initialize`). */
  forceInit?: boolean;
  deadlineMs?: number;
}

/** The trusted root from a TUF repository, within the deadline and the worker's memory, as protobuf JSON. */
export async function refreshFromTuf(opts: TufRefresh): Promise<Record<string, unknown>> {
  const mirrorURL = opts.mirrorURL ?? DEFAULT_TUF_MIRROR;
  const deadlineMs = opts.deadlineMs ?? callDeadlineMs();
  const fail = (why: string): GitsignError => new GitsignError('NETWORK', `refreshing the trusted root from the TUF repository ${mirrorURL}: ${why}`);
  // Loaded here, not at the top: git's calls read the trust root through this file but refresh nothing.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require('node:worker_threads') as typeof import('node:worker_threads');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      from: __filename,
      tufModule: tufModule(),
      options: { cachePath: opts.cachePath, mirrorURL, rootPath: opts.rootPath, forceInit: opts.forceInit ?? false, retry: TUF_RETRIES, timeout: TUF_REQUEST_TIMEOUT_MS },
    },
    resourceLimits: { maxOldGenerationSizeMb: TUF_WORKER_HEAP_MB },
    // Its output is not ours to print (stdout is the signature when git signs): read and dropped.
    stdout: true,
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await new Promise<{ root?: unknown; error?: string }>((resolve, reject) => {
      timer = setTimeout(() => reject(fail(`no complete answer within ${deadlineMs / 1000} s; ${NETWORK_TIMEOUT_SETTING} (seconds) sets this limit`)), deadlineMs);
      worker.once('message', resolve);
      worker.once('error', (err) => reject(fail(err.message)));
      worker.once('exit', (code) => reject(fail(`the TUF client stopped (exit ${code})`)));
    });
    if (answer.error !== undefined) throw fail(answer.error);
    const { TrustedRoot } = await import('@sigstore/protobuf-specs');
    return TrustedRoot.toJSON(answer.root as never) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
    // Ends the worker's sockets too: nothing of a slow or endless download outlives the call.
    await worker.terminate();
  }
}

/** Our copy of a mirror's trusted root, when present and JSON. */
function readCopy(files: MirrorFiles): Record<string, unknown> | null {
  const text = readNoFollow(files.trustedRoot);
  if (text === null) return null;
  try {
    const json: unknown = JSON.parse(text);
    return json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Puts back a file's earlier text (or its absence). */
function restore(path: string, text: string | null): void {
  try {
    if (text === null) rmSync(path, { force: true });
    else writeAtomic(path, text);
  } catch {
    // Best effort: the failure itself is what the caller reports.
  }
}

export interface RefreshOptions {
  /** A root.json to bootstrap the mirror's TUF metadata from (`gitsign initialize --root`). */
  rootPath?: string;
  forceInit?: boolean;
  deadlineMs?: number;
}

/**
 * One refresh of the mirror, by the holder of its lock: TUF update, the trusted root checked and
 * written atomically, the state recorded (a failure too, so that calls back off).
 */
export async function refreshMirror(files: MirrorFiles, opts: RefreshOptions = {}): Promise<Record<string, unknown>> {
  const before = readState(files);
  // A new initial root that fails to update the mirror must not stay as the one the cache trusts.
  const cachedTufRoot = join(files.tufDir, 'root.json');
  const previousTufRoot = opts.forceInit ? readNoFollow(cachedTufRoot) : null;
  try {
    checkedUrl(files.mirror, 'TUF mirror', 'TRUST_ROOT');
    mkdirSync(files.root, { recursive: true, mode: 0o700 });
    const root = await refreshFromTuf({ cachePath: files.root, mirrorURL: files.mirror, rootPath: opts.rootPath, forceInit: opts.forceInit, deadlineMs: opts.deadlineMs });
    validateTrustedRoot(root, `trusted_root.json of the TUF mirror ${files.mirror}`);
    mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    writeAtomic(files.trustedRoot, JSON.stringify(root));
    writeState(files, { lastSuccess: new Date().toISOString(), failures: 0, ...metadataExpiry(files) });
    return root;
  } catch (err) {
    if (opts.forceInit) restore(cachedTufRoot, previousTufRoot);
    const message = err instanceof GitsignError ? err.message : `refreshing the trusted root from the TUF repository ${files.mirror}: ${(err as Error).message}`;
    try {
      writeState(files, { ...before, lastFailure: new Date().toISOString(), failures: (before.failures ?? 0) + 1, lastError: message });
    } catch {
      // An unwritable cache: the failure is still reported to the caller.
    }
    throw err instanceof GitsignError ? err : new GitsignError('TRUST_ROOT', message);
  }
}

/** The script git runs (the bundle, or tsc's output in tests): the background refresh runs in a copy of it. */
function mainScript(): string {
  const bundled = join(__dirname, 'gitsign.js');
  return existsSync(bundled) ? bundled : join(__dirname, '..', 'cli', 'main.js');
}


/** The refresh process's niceness: it must not compete for the CPU with the verifications git waits for. */
const REFRESH_NICENESS = 10;

/**
 * Starts the refresh process: same node, same script, its own session, no stdio (git reads ours to
 * its end), in our directory, not the repository's, at low priority, not waited for. On Linux through
 * the addon (native/spawn.c), which returns at once, and whose child execs only once we have exited:
 * Node's spawn forks, copying the page tables of our ~50 MB process, and waits for the copy to exec,
 * which on a loaded machine waits for a CPU; git waited for both (6-40 ms) and for the new process's
 * start competing with our exit. Without the addon, or elsewhere, child_process does it.
 */
function spawnRefresh(cwd: string): void {
  const args = [mainScript(), BACKGROUND_REFRESH_ARG];
  const spawnDetached = loadAddon()?.spawnDetached;
  if (spawnDetached) {
    try {
      spawnDetached(process.execPath, [process.execPath, ...args], cwd, REFRESH_NICENESS);
      return;
    } catch {
      // Not on this system (or no memory for its block): child_process below.
    }
  }
  // Required here only: node:child_process brings node:net, node:dgram and the streams, which git's calls never need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, args, { detached: true, stdio: 'ignore', env: process.env, cwd });
  if (child.pid === undefined) throw new Error('not started');
  try {
    setPriority(child.pid, REFRESH_NICENESS);
  } catch {
    // Not allowed here: it runs at normal priority.
  }
  child.unref();
}

/**
 * Starts a refresh in a detached process when this call takes the mirror's lock: parallel calls
 * start at most one. It is started as this process exits, after its answer is written.
 */
function startBackgroundRefresh(files: MirrorFiles): void {
  try {
    mkdirSync(files.dir, { recursive: true, mode: 0o700 });
    if (!tryLock(files.lock)) return;
  } catch {
    return;
  }
  process.once('exit', () => {
    try {
      spawnRefresh(files.dir);
    } catch {
      unlock(files.lock);
    }
  });
}

/** The background process: refreshes the mirror in use under the lock its parent took, then releases it. */
export async function backgroundRefresh(): Promise<number> {
  const files = currentMirrorFiles();
  if (!files) return 1;
  try {
    // gitsign.insecureAllowHTTP (user-wide) applies to the mirror as it did to `gitsign initialize`.
    (await import('../config/config')).loadConfig();
  } catch {
    // A broken configuration: the refresh uses the defaults.
  }
  // Whatever the TUF client does, this process ends soon after the refresh's deadline.
  setTimeout(() => process.exit(1), callDeadlineMs() + 15_000).unref();
  try {
    await refreshMirror(files);
    return 0;
  } catch {
    return 1;
  } finally {
    unlock(files.lock);
  }
}

/**
 * Takes the mirror's lock for an explicit refresh (`gitsign initialize`), waiting for a running
 * background refresh (bounded: its lock goes stale), then refreshes.
 */
export async function refreshNow(files: MirrorFiles, opts: RefreshOptions = {}): Promise<Record<string, unknown>> {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const until = Date.now() + callDeadlineMs() + 100_000;
  while (!tryLock(files.lock)) {
    if (Date.now() > until) throw new GitsignError('TRUST_ROOT', `another refresh holds ${files.lock}; remove it if no gitsign is running`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    return await refreshMirror(files, opts);
  } finally {
    unlock(files.lock);
  }
}

/**
 * The trusted root of the TUF mirror in use (the public-good one unless `gitsign initialize` chose
 * another). git runs us once per object, so no call waits on the network for it: each uses our last
 * verified copy (or, for the public-good mirror, @sigstore/tuf's seeded copy), and when a refresh is
 * due (a day old, or the metadata expired; back-off after failures respected) starts one in a
 * detached background process. Offline (--offline, GITSIGN_OFFLINE) nothing is started.
 *
 * Expired TUF metadata, as sigstore-go treats it: not trusted online (a refresh is required, so the
 * call fails and says how to refresh); offline, an explicit choice, the copy is used and marked expired.
 */
export async function publicGoodTrustedRoot(offline: boolean, now = Date.now()): Promise<{ root: Record<string, unknown>; info: TrustRootInfo }> {
  const files = process.env.SIGSTORE_NO_CACHE ? null : currentMirrorFiles();
  const seed = (): { root: Record<string, unknown>; info: TrustRootInfo } => ({
    root: seededPublicGoodRoot(),
    info: { source: 'seed', path: null, mirror: DEFAULT_TUF_MIRROR, lastRefresh: null, metadataExpires: null, expired: false, lastRefreshFailure: null, overrides: [] },
  });
  if (!files) return seed();
  const state = readState(files);
  if (!offline && refreshDue(state, now)) startBackgroundRefresh(files);
  const copy = readCopy(files);
  if (!copy) {
    if (files.mirror === DEFAULT_TUF_MIRROR) return seed();
    throw new GitsignError('TRUST_ROOT', `no trusted root from the TUF mirror ${files.mirror} yet (${state.lastError ?? 'never refreshed'}); run gitsign initialize --mirror ${files.mirror} --root ROOT.json`);
  }
  const expired = state.metadataExpires !== undefined && Date.parse(state.metadataExpires) <= now;
  if (expired && !offline) {
    throw new GitsignError(
      'TRUST_ROOT',
      `the TUF metadata of ${files.mirror} expired at ${state.metadataExpires} and has not been refreshed since${state.lastError ? ` (${state.lastError})` : ''}; run gitsign initialize${files.mirror === DEFAULT_TUF_MIRROR ? '' : ` --mirror ${files.mirror}`}, or verify with --offline to use the expired copy`,
    );
  }
  const failed = state.lastFailure && state.failures ? { time: state.lastFailure, error: state.lastError ?? '' } : null;
  return {
    root: copy,
    info: { source: 'tuf-cache', path: files.trustedRoot, mirror: files.mirror, lastRefresh: state.lastSuccess ?? null, metadataExpires: state.metadataExpires ?? null, expired, lastRefreshFailure: failed, overrides: [] },
  };
}
