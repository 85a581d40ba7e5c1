import { createPublicKey } from 'node:crypto';
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { GitsignError } from '../../errors';
import { readOwnFile, writeFileAtomic } from '../state/fsutil';
import { exportKey, importKey, isRoleKey, ROLES, type Role, type RoleKeys } from './keys';

/**
 * What the TUF repository must keep across runs, in one file (mode 0600, written atomically, like
 * keys.json): the current role keys, every signed root version (clients walk them one by one), the
 * last version of each other role (versions only ever grow) and the CT log keys announced by
 * rotations (see rotate.ts). The served files under DIR/tuf are made from it and can be remade.
 */
export interface AnnouncedLog {
  /** SPKI, base64. */
  rawBytes: string;
  start: string;
}

export interface TufState {
  keys: RoleKeys;
  roots: Metadata<Root>[];
  versions: Record<Exclude<Role, 'root'>, number>;
  announcedCtlogs: AnnouncedLog[];
}

interface TufStateFile {
  version: 1;
  keys: Record<Role, string>;
  roots: Record<string, unknown>[];
  versions: TufState['versions'];
  announcedCtlogs: AnnouncedLog[];
}

export const latestRoot = (s: TufState): Metadata<Root> => s.roots[s.roots.length - 1];

export function saveTufState(path: string, s: TufState): void {
  const file: TufStateFile = {
    version: 1,
    keys: Object.fromEntries(ROLES.map((r) => [r, exportKey(s.keys[r])])) as Record<Role, string>,
    roots: s.roots.map((r) => r.toJSON()),
    versions: s.versions,
    announcedCtlogs: s.announcedCtlogs,
  };
  writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n');
}

function isAnnouncedLog(l: AnnouncedLog): boolean {
  if (typeof l?.rawBytes !== 'string' || typeof l.start !== 'string' || Number.isNaN(Date.parse(l.start))) return false;
  try {
    return createPublicKey({ key: Buffer.from(l.rawBytes, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve === 'prime256v1';
  } catch {
    return false;
  }
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The saved state, or undefined when there is none yet. */
export function loadTufState(path: string): TufState | undefined {
  const text = readOwnFile(path);
  if (!text) return undefined;
  const bad = (what: string): GitsignError =>
    new GitsignError('CONFIG', `sandbox TUF key file ${path} is invalid (${what}); move it and DIR/tuf away to start a new TUF repository`);
  let f: TufStateFile;
  try {
    f = JSON.parse(text.toString('utf8')) as TufStateFile;
  } catch {
    throw bad('not JSON');
  }
  if (f?.version !== 1 || !f.keys || !Array.isArray(f.roots) || f.roots.length === 0 || !f.versions || !Array.isArray(f.announcedCtlogs)) throw bad('unknown format');
  const keys = {} as RoleKeys;
  for (const r of ROLES) {
    try {
      keys[r] = importKey(f.keys[r]);
    } catch {
      throw bad(`key ${r}`);
    }
    if (!isRoleKey(r, keys[r])) throw bad(`key ${r} is not of its role's type`);
  }
  let roots: Metadata<Root>[];
  try {
    roots = f.roots.map((r) => Metadata.fromJSON(MetadataKind.Root, r as never));
  } catch {
    throw bad('root metadata');
  }
  if (roots.some((r, i) => r.signed.version !== i + 1)) throw bad('root versions are not 1, 2, 3 ...');
  if (!isCount(f.versions.targets) || !isCount(f.versions.snapshot) || !isCount(f.versions.timestamp)) throw bad('versions');
  if (!f.announcedCtlogs.every(isAnnouncedLog)) throw bad('announced CT logs');
  return { keys, roots, versions: f.versions, announcedCtlogs: f.announcedCtlogs };
}
