import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The public-good trusted root. Online, it is refreshed through TUF at most once a day (git runs us
 * once per object, so a network round trip per call would make `git log --show-signature` crawl);
 * offline, or when the refresh fails, the last refreshed copy or else @sigstore/tuf's seeded copy.
 */
const REFRESH_AFTER_MS = 24 * 3600 * 1000;

/** The trusted root that @sigstore/tuf ships as its seed. */
export function seededPublicGoodRoot(): Record<string, unknown> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { targets: Record<string, string> }>;
  const seed = seeds['https://tuf-repo-cdn.sigstore.dev'].targets['trusted_root.json'];
  return JSON.parse(Buffer.from(seed, 'base64').toString('utf8')) as Record<string, unknown>;
}

export function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'sigstore', 'gitsign-ts');
}

function readCached(path: string): { root: Record<string, unknown>; mtime: Date } | null {
  try {
    const mtime = statSync(path).mtime;
    return { root: JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>, mtime };
  } catch {
    return null;
  }
}

export async function publicGoodTrustedRoot(offline: boolean): Promise<{ root: Record<string, unknown>; source: string }> {
  const dir = cacheDir();
  const cachedPath = join(dir, 'trusted_root.json');
  const cached = process.env.SIGSTORE_NO_CACHE ? null : readCached(cachedPath);
  if (cached && (offline || Date.now() - cached.mtime.getTime() < REFRESH_AFTER_MS)) {
    return { root: cached.root, source: `public-good trusted root (TUF, ${cached.mtime.toISOString()})` };
  }
  if (!offline) {
    try {
      // require(), not import(): see src/cli/main.ts. @sigstore/tuf is a bundle file of its own.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { getTrustedRoot } = require('@sigstore/tuf') as typeof import('@sigstore/tuf');
      const { TrustedRoot } = await import('@sigstore/protobuf-specs');
      const root = TrustedRoot.toJSON(
        await getTrustedRoot({ cachePath: process.env.TUF_ROOT || join(dir, 'tuf'), retry: 1, timeout: 5000 }),
      ) as Record<string, unknown>;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(`${cachedPath}.tmp`, JSON.stringify(root));
      renameSync(`${cachedPath}.tmp`, cachedPath);
      return { root, source: 'public-good trusted root (TUF, refreshed now)' };
    } catch {
      // Unreachable TUF repository: fall through to what we have.
    }
  }
  if (cached) return { root: cached.root, source: `public-good trusted root (TUF, ${cached.mtime.toISOString()})` };
  return { root: seededPublicGoodRoot(), source: 'public-good trusted root (seeded copy)' };
}
