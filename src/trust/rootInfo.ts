/**
 * Which trusted root a verification used and how old it is, for `gitsign verify` (summary and --json):
 * a root nobody refreshed for months should say so.
 */
export interface TrustRootInfo {
  /** file: --trusted-root or gitsign.trustedRoot; tuf-cache: our verified copy from a TUF mirror; seed: the copy shipped with @sigstore/tuf. */
  source: 'file' | 'tuf-cache' | 'seed';
  /** The file read (source file or tuf-cache). */
  path: string | null;
  /** The TUF mirror it comes from (tuf-cache, seed). */
  mirror: string | null;
  /** When it was last refreshed from the mirror successfully (ISO 8601). */
  lastRefresh: string | null;
  /** The earliest expiry of the TUF metadata (root, timestamp, snapshot, targets) at that refresh. */
  metadataExpires: string | null;
  /** That expiry has passed (used only offline; see publicGoodTrustedRoot). */
  expired: boolean;
  /** The last refresh failure since that success, if any (ISO 8601 and why). */
  lastRefreshFailure: { time: string; error: string } | null;
  /** Parts replaced by per-service settings (Fulcio roots, Rekor key, CT log key, TSA chain). */
  overrides: string[];
}

export function fileRootInfo(path: string): TrustRootInfo {
  return { source: 'file', path, mirror: null, lastRefresh: null, metadataExpires: null, expired: false, lastRefreshFailure: null, overrides: [] };
}

/** One line for the human summary. */
export function describeTrustRoot(info: TrustRootInfo): string {
  const parts: string[] = [];
  if (info.source === 'file') parts.push(`file ${info.path}`);
  if (info.source === 'seed') parts.push(`seed copy shipped for ${info.mirror} (never refreshed here)`);
  if (info.source === 'tuf-cache') parts.push(`TUF mirror ${info.mirror}, refreshed ${info.lastRefresh ?? 'at an unknown time'}`);
  if (info.metadataExpires) parts.push(`metadata ${info.expired ? 'EXPIRED' : 'expires'} ${info.metadataExpires}`);
  if (info.lastRefreshFailure) parts.push(`last refresh failed ${info.lastRefreshFailure.time}`);
  if (info.overrides.length) parts.push(`with ${info.overrides.join(', ')}`);
  return `trusted root: ${parts.join('; ')}`;
}
