import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GitsignError } from '../errors';

/**
 * The public-good trusted root. Online, it is refreshed through TUF at most once a day (git runs us
 * once per object, so a network round trip per call would make `git log --show-signature` crawl);
 * offline, or when the refresh fails, the last refreshed copy or else @sigstore/tuf's seeded copy.
 */
const REFRESH_AFTER_MS = 24 * 3600 * 1000;

export const DEFAULT_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/**
 * The whole TUF refresh (timestamp, snapshot, targets, the trusted root, any new root versions). Sizes
 * are tuf-js's to bound: it stops each download at the length the signed metadata gives, or at its
 * own maximum for metadata (root 512 kB, timestamp 16 kB, snapshot 2 MB, targets 5 MB). Time is not:
 * make-fetch-happen has only an idle timeout, which a server dripping a byte at a time never meets.
 * So the refresh runs in a worker thread that is terminated, downloads and all, at this deadline.
 */
export const TUF_DEADLINE_MS = 30_000;
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

/**
 * An absolute path from the environment, else undefined. The XDG Base Directory spec says a relative
 * path is invalid and ignored: it would resolve against whatever directory we run in, a cloned
 * repository for git, which could then supply the trusted root.
 */
function absolute(value: string | undefined): string | undefined {
  return value && isAbsolute(value) ? value : undefined;
}

/** $HOME when absolute (os.homedir() returns it even empty or relative), else the account's home. */
function homeDirectory(): string | undefined {
  for (const lookup of [homedir, () => userInfo().homedir]) {
    try {
      const dir = absolute(lookup());
      if (dir) return dir;
    } catch {
      // No HOME and no passwd entry (a container's arbitrary uid): try the next.
    }
  }
  return undefined;
}

/** Where the refreshed root and the TUF cache live; null when no absolute directory is known (no cache then). */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const home = homeDirectory();
  const base = absolute(env.XDG_CACHE_HOME) ?? (home ? join(home, '.cache') : undefined);
  return base ? join(base, 'sigstore', 'gitsign-ts') : null;
}

function readCached(path: string): { root: Record<string, unknown>; mtime: Date } | null {
  try {
    const mtime = statSync(path).mtime;
    return { root: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>, mtime };
  } catch {
    return null;
  }
}

/** @sigstore/tuf for the worker to load: the bundle's own file next to ours, or the package when run by tsc. */
function tufModule(): string {
  const bundled = join(__dirname, 'tuf.js');
  return existsSync(bundled) ? bundled : '@sigstore/tuf';
}

/** Runs in the worker: one getTrustedRoot, its answer (or its failure's messages, causes included) posted back. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const why = (err) => [err, err && err.cause].filter(Boolean).map((e) => String(e.message || e)).join(': ');
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
  deadlineMs?: number;
}

/** The trusted root from a TUF repository, within the deadline and the worker's memory, as protobuf JSON. */
export async function refreshFromTuf(opts: TufRefresh): Promise<Record<string, unknown>> {
  const mirrorURL = opts.mirrorURL ?? DEFAULT_TUF_MIRROR;
  const deadlineMs = opts.deadlineMs ?? TUF_DEADLINE_MS;
  const fail = (why: string): GitsignError => new GitsignError('NETWORK', `refreshing the trusted root from the TUF repository ${mirrorURL}: ${why}`);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      from: __filename,
      tufModule: tufModule(),
      options: { cachePath: opts.cachePath, mirrorURL, rootPath: opts.rootPath, retry: TUF_RETRIES, timeout: TUF_REQUEST_TIMEOUT_MS },
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
      timer = setTimeout(() => reject(fail(`no complete answer within ${deadlineMs / 1000} s`)), deadlineMs);
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

export async function publicGoodTrustedRoot(offline: boolean): Promise<{ root: Record<string, unknown>; source: string }> {
  const dir = cacheDir();
  const cachedPath = dir ? join(dir, 'trusted_root.json') : null;
  const cached = process.env.SIGSTORE_NO_CACHE || !cachedPath ? null : readCached(cachedPath);
  if (cached && (offline || Date.now() - cached.mtime.getTime() < REFRESH_AFTER_MS)) {
    return { root: cached.root, source: `public-good trusted root (TUF, ${cached.mtime.toISOString()})` };
  }
  const tufCache = absolute(process.env.TUF_ROOT) ?? (dir ? join(dir, 'tuf') : undefined);
  if (!offline && tufCache) {
    try {
      const root = await refreshFromTuf({ cachePath: tufCache });
      if (dir && cachedPath) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        writeFileSync(`${cachedPath}.tmp`, JSON.stringify(root));
        renameSync(`${cachedPath}.tmp`, cachedPath);
      }
      return { root, source: 'public-good trusted root (TUF, refreshed now)' };
    } catch {
      // Unreachable, slow or misbehaving TUF repository: fall through to what we have.
    }
  }
  if (cached) return { root: cached.root, source: `public-good trusted root (TUF, ${cached.mtime.toISOString()})` };
  return { root: seededPublicGoodRoot(), source: 'public-good trusted root (seeded copy)' };
}
