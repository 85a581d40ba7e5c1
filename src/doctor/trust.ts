import { cpSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { TrustMaterial } from '@sigstore/verify';
import type { Config } from '../config/config';
import { toGitsignError } from '../errors';
import { refreshFromTuf } from '../trust/publicGood';
import { currentMirrorFiles, DEFAULT_TUF_MIRROR, metadataExpiry } from '../trust/tufMirror';
import { loadTrust, trustOptionsFromConfig } from '../trust/trustMaterial';

/**
 * Doctor's only door into src/trust: the trust root as a verify would load it (without refreshing),
 * where it came from and how old it is, the TUF metadata's expiry, and a trial refresh that leaves the
 * real cache alone. Kept to this file so a rework of src/trust changes doctor in one place.
 */
export interface TrustRootInfo {
  material?: TrustMaterial;
  /** As loadTrust names it ("trusted root: TUF mirror ...", a file path), or why it failed. */
  source: string;
  error?: string;
  /** file: gitsign.trustedRoot; public-good: the TUF mirror in use (public-good unless `gitsign initialize` chose another), its cached copy or the seed. */
  kind: 'file' | 'public-good';
  /** The file the root was read from, when there is one (an explicit root or the TUF-refreshed copy). */
  path?: string;
  /** When that file was last written (the last successful refresh for the TUF copy). */
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

const dateOf = (iso: string | null | undefined): Date | undefined => (iso ? new Date(iso) : undefined);

export async function inspectTrustRoot(cfg: Config, env: NodeJS.ProcessEnv = process.env): Promise<TrustRootInfo> {
  const opts = trustOptionsFromConfig(cfg, { offline: true }, env);
  const info: TrustRootInfo = opts.trustedRootPath
    ? { kind: 'file', source: opts.trustedRootPath, path: opts.trustedRootPath, writtenAt: mtime(opts.trustedRootPath) }
    : { kind: 'public-good', source: 'TUF trusted root' };
  try {
    // Offline: what a verify has at hand (never a refresh); whether a refresh works is tryRefresh's question.
    const loaded = await loadTrust(opts);
    info.material = loaded.material;
    info.source = loaded.source;
    if (info.kind === 'public-good') {
      const files = currentMirrorFiles(env);
      const expiry = files ? metadataExpiry(files) : {};
      Object.assign(info, {
        path: loaded.info.path ?? undefined,
        writtenAt: dateOf(loaded.info.lastRefresh),
        tufMirror: loaded.info.mirror ?? undefined,
        tufTimestampExpires: dateOf(expiry.timestampExpires),
        tufRootExpires: dateOf(expiry.rootExpires),
      });
    }
  } catch (err) {
    info.error = toGitsignError(err).message;
  }
  return info;
}

/**
 * A TUF refresh of the mirror in use into a scratch copy of its metadata (the real cache is not
 * changed by a diagnosis), within the deadline. Resolves with null on success, else why it failed.
 */
export async function tryRefresh(env: NodeJS.ProcessEnv, deadlineMs: number): Promise<string | null> {
  const scratch = mkdtempSync(join(tmpdir(), 'gitsign-doctor-tuf-'));
  try {
    const files = currentMirrorFiles(env);
    const mirrorURL = files?.mirror ?? DEFAULT_TUF_MIRROR;
    if (files && readdirSafe(files.tufDir)) cpSync(files.tufDir, join(scratch, basename(files.tufDir)), { recursive: true });
    await refreshFromTuf({ cachePath: scratch, mirrorURL, deadlineMs });
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
