import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GitsignError } from '../../errors';
import { ensureOwnDirectory, writeFileAtomic } from '../state/fsutil';
import { acquireLock } from '../state/lock';
import type { SandboxPaths } from '../state/paths';
import { generateRoleKeys } from './keys';
import { checkRepository, LIFETIME_MS, serialize, signRoot, signTopLevel, type SignedSet } from './metadata';
import { renewRoot, rotateKeys, withAnnouncedLogs } from './rotate';
import { latestRoot, loadTufState, saveTufState, type TufState } from './state';

/**
 * The sandbox's TUF repository, served under $URL/tuf/ from DIR/tuf: each publication signs new
 * targets (the trusted root), snapshot and timestamp versions with fresh expiry dates, checks the
 * whole set as a client would, then writes DIR/tuf, DIR/trusted_root.json (the same bytes as the
 * target) and DIR/root.json (the newest root, to bootstrap from). `up` publishes at start and keeps
 * the timestamp fresh; `rotate-tuf` publishes with new keys, also while `up` runs.
 */
export interface PublishOptions {
  paths: SandboxPaths;
  /** The sandbox's own trusted root (announced CT log keys are added to it). */
  baseTrustedRoot: Record<string, unknown>;
  rotate?: boolean;
  now?: Date;
}

export interface Published {
  rootVersion: number;
  /** A new repository (new keys, root version 1). */
  created: boolean;
  timestampExpires: Date;
}

/** A root with less than this left is followed by a new version (same keys) at the next publication. */
const ROOT_RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
/** Another process publishing at the same moment (`up` starting while `rotate-tuf` runs): wait this long at most. */
const LOCK_WAIT_MS = 5_000;

function lockRepository(paths: SandboxPaths): () => void {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return acquireLock(paths.tufLock, paths.dir, 'the TUF repository is being changed by another process in');
    } catch (err) {
      if (!(err instanceof GitsignError) || Date.now() > deadline) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
  }
}

function newState(now: Date): TufState {
  const keys = generateRoleKeys();
  return { keys, roots: [signRoot(1, keys, now, [keys.root])], versions: { targets: 0, snapshot: 0, timestamp: 0 }, announcedCtlogs: [] };
}

/** Old snapshot and targets versions go; the previous stays for a client that read the previous timestamp. */
function prune(repo: string, versions: TufState['versions']): void {
  for (const name of readdirSync(repo)) {
    const m = /^(\d+)\.(targets|snapshot)\.json$/.exec(name);
    if (m && Number(m[1]) < versions[m[2] as 'targets' | 'snapshot'] - 1) rmSync(join(repo, name), { force: true });
  }
}

/** Everything a client may fetch, the timestamp last: it names the rest, which are in place by then. */
function writeRepository(paths: SandboxPaths, state: TufState, set: SignedSet, trustedRoot: Buffer): void {
  const repo = paths.tufRepo;
  ensureOwnDirectory(repo);
  ensureOwnDirectory(join(repo, 'targets'));
  writeFileAtomic(join(repo, 'targets', set.targetFile), trustedRoot);
  for (const [role, bytes] of [['targets', set.targets], ['snapshot', set.snapshot]] as const) {
    writeFileAtomic(join(repo, `${state.versions[role]}.${role}.json`), bytes);
    writeFileAtomic(join(repo, `${role}.json`), bytes);
  }
  for (const root of state.roots) writeFileAtomic(join(repo, `${root.signed.version}.root.json`), serialize(root));
  const newest = serialize(latestRoot(state));
  writeFileAtomic(join(repo, 'root.json'), newest);
  writeFileAtomic(join(repo, 'timestamp.json'), set.timestamp);
  writeFileAtomic(paths.trustedRoot, trustedRoot);
  writeFileAtomic(paths.tufRoot, newest);
  prune(repo, state.versions);
}

export function publishTufRepository(opts: PublishOptions): Published {
  const now = opts.now ?? new Date();
  const release = lockRepository(opts.paths);
  try {
    const existing = loadTufState(opts.paths.tufState);
    const state = existing ?? newState(now);
    if (opts.rotate) rotateKeys(state, now);
    else if (new Date(latestRoot(state).signed.expires).getTime() - now.getTime() < ROOT_RENEW_BEFORE_MS) renewRoot(state, now);
    state.versions = { targets: state.versions.targets + 1, snapshot: state.versions.snapshot + 1, timestamp: state.versions.timestamp + 1 };
    const trustedRoot = Buffer.from(JSON.stringify(withAnnouncedLogs(opts.baseTrustedRoot, state.announcedCtlogs), null, 2) + '\n');
    const set = signTopLevel(state.keys, state.versions, trustedRoot, now);
    try {
      checkRepository(state.roots, set, trustedRoot);
    } catch (err) {
      throw new GitsignError('CONFIG', `the sandbox's TUF repository in ${opts.paths.tufState} does not check (${(err as Error).message}); move it and ${opts.paths.tufRepo} away`);
    }
    // The state first: versions never go back, and keys of a published root are never lost.
    saveTufState(opts.paths.tufState, state);
    writeRepository(opts.paths, state, set, trustedRoot);
    return { rootVersion: latestRoot(state).signed.version, created: !existing, timestampExpires: new Date(now.getTime() + LIFETIME_MS.timestamp) };
  } finally {
    release();
  }
}

/** While `up` runs: publishes again once the timestamp has less than half its life left (checked hourly; tests check sooner). */
export function keepTimestampFresh(opts: Omit<PublishOptions, 'rotate' | 'now'>, first: Published, checkEveryMs = 3600 * 1000): () => void {
  let expires = first.timestampExpires;
  const timer = setInterval(() => {
    if (expires.getTime() - Date.now() > LIFETIME_MS.timestamp / 2) return;
    try {
      expires = publishTufRepository(opts).timestampExpires;
    } catch {
      // A busy or damaged repository: tried again in an hour; clients meanwhile keep the last timestamp.
    }
  }, checkEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}
