import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { absolute, homeDirectory } from '../config/home';
import { GitsignError } from '../errors';
import { readNoFollow, writeAtomic } from './safeFiles';

/**
 * Where a TUF mirror's state lives, as Go's cosign and gitsign keep it: $TUF_ROOT (default
 * ~/.sigstore/root) holds remote.json naming the mirror `gitsign initialize` chose, and one directory
 * per mirror (named as @sigstore/tuf names it) with the TUF metadata, our copy of the trusted root
 * and the refresh state.
 */
export const DEFAULT_TUF_MIRROR = 'https://tuf-repo-cdn.sigstore.dev';

/** Refresh at most once a day; a failed refresh is retried after 1 h, 2 h, 4 h ... at most a day. */
/** The hidden argument that makes the main script the background refresh (see src/cli/main.ts). */
export const BACKGROUND_REFRESH_ARG = '--background-trust-root-refresh';

export const REFRESH_AFTER_MS = 24 * 3600 * 1000;
const BACKOFF_FIRST_MS = 3600 * 1000;

/** $TUF_ROOT, else ~/.sigstore/root; null when no absolute directory is known (no cache then). */
export function tufRoot(env: NodeJS.ProcessEnv = process.env): string | null {
  const home = homeDirectory();
  return absolute(env.TUF_ROOT) ?? (home ? join(home, '.sigstore', 'root') : null);
}

/** Where our derived files live: $XDG_CACHE_HOME/sigstore/gitsign-ts (absolute only), else ~/.cache/...; null when unknown. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const home = homeDirectory();
  const base = absolute(env.XDG_CACHE_HOME) ?? (home ? join(home, '.cache') : undefined);
  return base ? join(base, 'sigstore', 'gitsign-ts') : null;
}

export interface MirrorFiles {
  mirror: string;
  /** The TUF_ROOT directory (@sigstore/tuf's cachePath). */
  root: string;
  /** The mirror's TUF metadata (root, timestamp, snapshot, targets .json; targets/), kept by tuf-js. */
  tufDir: string;
  /** Our files for the mirror: the public-good mirror's where earlier versions kept its copy, others' below it. */
  dir: string;
  trustedRoot: string;
  state: string;
  lock: string;
}

function mirrorKey(mirror: string): string {
  const url = new URL(mirror);
  return encodeURIComponent(url.host + url.pathname.replace(/\/$/, ''));
}

export function mirrorFiles(root: string, cache: string, mirror: string): MirrorFiles {
  const dir = mirror === DEFAULT_TUF_MIRROR ? cache : join(cache, 'mirrors', mirrorKey(mirror));
  return {
    mirror,
    root,
    // Named when asked for (refreshes, doctor): git's calls with the public-good mirror parse no URL.
    get tufDir() {
      return join(root, mirrorKey(mirror));
    },
    dir,
    trustedRoot: join(dir, 'trusted_root.json'),
    state: join(dir, 'refresh-state.json'),
    lock: join(dir, 'refresh.lock'),
  };
}

/** The files of the mirror in use (configured by `gitsign initialize`), or null when no home directory is known. */
export function currentMirrorFiles(env: NodeJS.ProcessEnv = process.env): MirrorFiles | null {
  const root = tufRoot(env);
  const cache = cacheDir(env);
  return root && cache ? mirrorFiles(root, cache, configuredMirror(root)) : null;
}

/** The mirror `gitsign initialize` recorded in $TUF_ROOT/remote.json (cosign's file), else the public-good one. */
export function configuredMirror(root: string): string {
  const text = readNoFollow(join(root, 'remote.json'));
  if (text === null) return DEFAULT_TUF_MIRROR;
  let mirror: unknown;
  try {
    mirror = (JSON.parse(text) as { mirror?: unknown }).mirror;
  } catch {
    mirror = undefined;
  }
  if (typeof mirror !== 'string' || !URL.canParse(mirror)) {
    throw new GitsignError('TRUST_ROOT', `${join(root, 'remote.json')} does not name a TUF mirror URL; run gitsign initialize`);
  }
  return mirror;
}

export function recordMirror(root: string, mirror: string): void {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  writeAtomic(join(root, 'remote.json'), `${JSON.stringify({ mirror })}\n`);
}

/** What the last refreshes did, and the verified metadata's dates at the last success. */
export interface RefreshState {
  /** ISO time of the last successful refresh. */
  lastSuccess?: string;
  lastFailure?: string;
  /** Failures since the last success. */
  failures?: number;
  lastError?: string;
  /** The earliest expiry of the verified root, timestamp, snapshot and targets metadata. */
  metadataExpires?: string;
  /** The timestamp metadata's own expiry (the shortest-lived role: it says how fresh the mirror's view is). */
  timestampExpires?: string;
}

function isoOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? new Date(v).toISOString() : undefined;
}

/** The state file, every field checked (a damaged file reads as no state: a refresh is then due). */
export function readState(files: MirrorFiles): RefreshState {
  const text = readNoFollow(files.state);
  let raw: Record<string, unknown> = {};
  try {
    const parsed: unknown = text === null ? {} : JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) raw = parsed as Record<string, unknown>;
  } catch {
    raw = {};
  }
  const failures = typeof raw.failures === 'number' && Number.isSafeInteger(raw.failures) && raw.failures > 0 ? raw.failures : 0;
  return {
    lastSuccess: isoOrUndefined(raw.lastSuccess),
    lastFailure: isoOrUndefined(raw.lastFailure),
    failures,
    lastError: typeof raw.lastError === 'string' ? raw.lastError.slice(0, 500) : undefined,
    metadataExpires: isoOrUndefined(raw.metadataExpires),
    timestampExpires: isoOrUndefined(raw.timestampExpires),
  };
}

export function writeState(files: MirrorFiles, state: RefreshState): void {
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  writeAtomic(files.state, `${JSON.stringify(state)}\n`);
}

/** How long after its last failure a refresh waits: 1 h, doubling per failure in a row, at most a day. */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_FIRST_MS * 2 ** Math.max(0, Math.min(failures, 10) - 1), REFRESH_AFTER_MS);
}

/**
 * Whether a refresh should start now: the last success is a day old (or the metadata expired, or
 * there never was one), and no failure is still in its back-off.
 */
export function refreshDue(state: RefreshState, now = Date.now()): boolean {
  const stale =
    !state.lastSuccess ||
    now - Date.parse(state.lastSuccess) >= REFRESH_AFTER_MS ||
    Date.parse(state.lastSuccess) > now ||
    (state.metadataExpires !== undefined && Date.parse(state.metadataExpires) <= now);
  if (!stale) return false;
  if (!state.lastFailure || !state.failures) return true;
  const since = now - Date.parse(state.lastFailure);
  return since < 0 || since >= backoffMs(state.failures);
}

/** The earliest `expires` of the TUF metadata files just verified and stored by tuf-js in the mirror's directory. */
export function metadataExpiry(files: MirrorFiles): { metadataExpires?: string; timestampExpires?: string; rootExpires?: string } {
  const expiries: Record<string, string | undefined> = {};
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
    try {
      const signed = (JSON.parse(readNoFollow(join(files.tufDir, `${role}.json`)) ?? 'null') as { signed?: { expires?: unknown } } | null)?.signed;
      expiries[role] = isoOrUndefined(signed?.expires);
    } catch {
      expiries[role] = undefined;
    }
  }
  const all = Object.values(expiries).filter((e): e is string => e !== undefined);
  return {
    metadataExpires: all.length ? all.reduce((a, b) => (a < b ? a : b)) : undefined,
    timestampExpires: expiries.timestamp,
    rootExpires: expiries.root,
  };
}
