import { createHash, type KeyObject } from 'node:crypto';
import { Metadata, MetadataKind, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { ROLES, signerFor, tufKey, type Role, type RoleKeys } from './keys';

/**
 * The four kinds of TUF metadata the sandbox signs (TUF specification 1.0, consistent snapshots as
 * Sigstore's repository uses them), and the check that a set of them is one valid repository.
 */
export const SPEC_VERSION = '1.0';
export const TRUSTED_ROOT_TARGET = 'trusted_root.json';

const DAY_MS = 24 * 3600 * 1000;
/**
 * How long each role's metadata is valid. The timestamp is short, as in any TUF repository (a client
 * that cannot get a fresh one stops trusting the repository); the sandbox re-signs it at each `up` and
 * while it runs (see publish.ts), the others at each `up` too.
 */
export const LIFETIME_MS: Record<Role, number> = { root: 365 * DAY_MS, targets: 90 * DAY_MS, snapshot: 7 * DAY_MS, timestamp: DAY_MS };

/** TUF's date form: UTC, whole seconds. */
export const expiresAt = (now: Date, role: Role): string => new Date(now.getTime() + LIFETIME_MS[role]).toISOString().replace(/\.\d{3}Z$/, 'Z');

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** Metadata as published: indented JSON (clients verify the canonical form of `signed`, not these bytes). */
export const serialize = <T extends Root | Targets | Snapshot | Timestamp>(md: Metadata<T>): Buffer => Buffer.from(JSON.stringify(md.toJSON(), null, 2) + '\n');

/** Root metadata listing one key per role (threshold 1), signed by each of `signers`. */
export function signRoot(version: number, keys: RoleKeys, now: Date, signers: KeyObject[]): Metadata<Root> {
  const root = new Root({ version, specVersion: SPEC_VERSION, expires: expiresAt(now, 'root'), consistentSnapshot: true });
  for (const role of ROLES) root.addKey(tufKey(keys[role]), role);
  const md = new Metadata(root);
  for (const k of signers) md.sign(signerFor(k));
  return md;
}

const metaFile = (version: number, bytes: Buffer): MetaFile => new MetaFile({ version, length: bytes.length, hashes: { sha256: sha256(bytes) } });

export interface SignedSet {
  targets: Buffer;
  snapshot: Buffer;
  timestamp: Buffer;
  /** The target's file name under targets/ with consistent snapshots: <sha256>.trusted_root.json. */
  targetFile: string;
}

/** Targets (the trusted root), snapshot and timestamp at the given versions, each signed by its role's key. */
export function signTopLevel(keys: RoleKeys, versions: Record<Exclude<Role, 'root'>, number>, trustedRoot: Buffer, now: Date): SignedSet {
  const hash = sha256(trustedRoot);
  const targets = new Metadata(
    new Targets({
      version: versions.targets,
      specVersion: SPEC_VERSION,
      expires: expiresAt(now, 'targets'),
      targets: { [TRUSTED_ROOT_TARGET]: new TargetFile({ path: TRUSTED_ROOT_TARGET, length: trustedRoot.length, hashes: { sha256: hash } }) },
    }),
  );
  targets.sign(signerFor(keys.targets));
  const targetsBytes = serialize(targets);
  const snapshot = new Metadata(
    new Snapshot({ version: versions.snapshot, specVersion: SPEC_VERSION, expires: expiresAt(now, 'snapshot'), meta: { 'targets.json': metaFile(versions.targets, targetsBytes) } }),
  );
  snapshot.sign(signerFor(keys.snapshot));
  const snapshotBytes = serialize(snapshot);
  const timestamp = new Metadata(
    new Timestamp({ version: versions.timestamp, specVersion: SPEC_VERSION, expires: expiresAt(now, 'timestamp'), snapshotMeta: metaFile(versions.snapshot, snapshotBytes) }),
  );
  timestamp.sign(signerFor(keys.timestamp));
  return { targets: targetsBytes, snapshot: snapshotBytes, timestamp: serialize(timestamp), targetFile: `${hash}.${TRUSTED_ROOT_TARGET}` };
}

/**
 * Throws unless the set is what a TUF client accepts: each root version signed by the keys of the one
 * before and by its own, the other roles by the newest root's keys, and the hashes and lengths chain
 * timestamp -> snapshot -> targets -> trusted root. Checked with @tufjs/models, the client's own model.
 */
export function checkRepository(roots: Metadata<Root>[], set: SignedSet, trustedRoot: Buffer): void {
  roots.forEach((r, i) => {
    if (i > 0) roots[i - 1].verifyDelegate('root', r);
    r.verifyDelegate('root', r);
  });
  const root = roots[roots.length - 1];
  const parse = (b: Buffer): never => JSON.parse(b.toString('utf8')) as never;
  const targets = Metadata.fromJSON(MetadataKind.Targets, parse(set.targets));
  const snapshot = Metadata.fromJSON(MetadataKind.Snapshot, parse(set.snapshot));
  const timestamp = Metadata.fromJSON(MetadataKind.Timestamp, parse(set.timestamp));
  root.verifyDelegate('targets', targets);
  root.verifyDelegate('snapshot', snapshot);
  root.verifyDelegate('timestamp', timestamp);
  timestamp.signed.snapshotMeta.verify(set.snapshot);
  snapshot.signed.meta['targets.json'].verify(set.targets);
  const target = targets.signed.targets[TRUSTED_ROOT_TARGET];
  if (target.length !== trustedRoot.length || target.hashes.sha256 !== sha256(trustedRoot)) throw new Error('the trusted root target does not match its file');
}
