import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { TrustMaterial } from '@sigstore/verify';
import type { Config } from '../config/config';
import { toGitsignError } from '../errors';
import { cacheDir, DEFAULT_TUF_MIRROR, refreshFromTuf } from '../trust/publicGood';
import { loadTrust, trustOptionsFromConfig } from '../trust/trustMaterial';

/**
 * Doctor's only door into src/trust: the trust root as a verify would load it (without refreshing),
 * where it came from and how old it is, the TUF metadata's expiry, and a trial refresh that leaves the
 * real cache alone. Kept to this file so a rework of src/trust changes doctor in one place.
 */
export interface TrustRootInfo {
  material?: TrustMaterial;
  /** As loadTrust names it ("public-good trusted root (TUF, ...)", a file path), or why it failed. */
  source: string;
  error?: string;
  /** file: gitsign.trustedRoot; public-good: TUF cache or the seed. */
  kind: 'file' | 'public-good';
  /** The file the root was read from, when there is one (an explicit root or the TUF-refreshed copy). */
  path?: string;
  /** When that file was last written (the time of the last refresh for the TUF copy). */
  writtenAt?: Date;
  tufMirror?: string;
  /** The TUF cache's timestamp.json and root.json expiry, when a refresh has stored them. */
  tufTimestampExpires?: Date;
  tufRootExpires?: Date;
}

function mtime(path: string): Date | undefined {
  try {
    return statSync(path).mtime;
  } catch {
    return undefined;
  }
}

function tufCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const dir = cacheDir(env);
  return env.TUF_ROOT && isAbsolute(env.TUF_ROOT) ? env.TUF_ROOT : dir ? join(dir, 'tuf') : undefined;
}

/** signed.expires of a TUF metadata file in the mirror's cache directory, if it is there and readable. */
function expiry(dir: string, file: string): Date | undefined {
  try {
    const doc = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { signed?: { expires?: unknown } };
    const at = typeof doc.signed?.expires === 'string' ? new Date(doc.signed.expires) : undefined;
    return at && !Number.isNaN(at.getTime()) ? at : undefined;
  } catch {
    return undefined;
  }
}

/** @sigstore/tuf keeps each mirror's metadata in a directory named after the mirror's host and path. */
function mirrorCache(tufDir: string, mirror: string): string {
  const url = new URL(mirror);
  return join(tufDir, encodeURIComponent(url.host + url.pathname.replace(/\/$/, '')));
}

export async function inspectTrustRoot(cfg: Config, env: NodeJS.ProcessEnv = process.env): Promise<TrustRootInfo> {
  const opts = trustOptionsFromConfig(cfg, { offline: true }, env);
  const info: TrustRootInfo = opts.trustedRootPath
    ? { kind: 'file', source: opts.trustedRootPath, path: opts.trustedRootPath, writtenAt: mtime(opts.trustedRootPath) }
    : { kind: 'public-good', source: 'public-good trusted root', tufMirror: DEFAULT_TUF_MIRROR };
  if (info.kind === 'public-good') {
    const dir = cacheDir(env);
    const copy = dir && !env.SIGSTORE_NO_CACHE ? join(dir, 'trusted_root.json') : undefined;
    if (copy && mtime(copy)) Object.assign(info, { path: copy, writtenAt: mtime(copy) });
    const tuf = tufCacheDir(env);
    if (tuf) {
      const mirrorDir = mirrorCache(tuf, DEFAULT_TUF_MIRROR);
      info.tufTimestampExpires = expiry(mirrorDir, 'timestamp.json');
      info.tufRootExpires = expiry(mirrorDir, 'root.json');
    }
  }
  try {
    // Offline: what a verify has at hand; whether a refresh works is tryRefresh's question.
    const loaded = await loadTrust(opts);
    info.material = loaded.material;
    info.source = loaded.source;
  } catch (err) {
    info.error = toGitsignError(err).message;
  }
  return info;
}

/**
 * A TUF refresh of the public-good root into a scratch copy of the cache (the real cache is not
 * changed by a diagnosis), within the deadline. Resolves with null on success, else why it failed.
 */
export async function tryRefresh(env: NodeJS.ProcessEnv, deadlineMs: number): Promise<string | null> {
  const scratch = mkdtempSync(join(tmpdir(), 'gitsign-doctor-tuf-'));
  try {
    const tuf = tufCacheDir(env);
    if (tuf && readdirSafe(tuf)) cpSync(tuf, scratch, { recursive: true });
    await refreshFromTuf({ cachePath: scratch, deadlineMs });
    return null;
  } catch (err) {
    return toGitsignError(err).message;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function readdirSafe(dir: string): boolean {
  try {
    return readdirSync(dir).length > 0;
  } catch {
    return false;
  }
}

/** How many of each kind of authority the root trusts now (a root whose keys all expired trusts nothing). */
export function validNow(material: TrustMaterial, at: Date): { fulcio: number; rekor: number; ctlog: number; tsa: number } {
  const count = (list: { validFor: { start: Date; end: Date } }[]): number => list.filter((a) => a.validFor.start <= at && at <= a.validFor.end).length;
  return {
    fulcio: count(material.certificateAuthorities),
    rekor: count(material.tlogs),
    ctlog: count(material.ctlogs),
    tsa: count(material.timestampAuthorities),
  };
}
