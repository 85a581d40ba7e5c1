import { createHash } from 'node:crypto';
import { cacheDir } from '../trust/tufMirror';
import { commonGitDir } from '../git/gitDir';
import { CacheStore, macKey } from './cacheStore';

/**
 * The paths each commit changes against its first parent, kept between audits: they never change for
 * a commit ID and its first parent, so a re-run asks git only about new commits (a `git diff-tree` of
 * every commit was most of a warm re-run's time). Kept as the result cache is (cacheStore.ts: MACed
 * segments under GITDIR/gitsign/audit-paths/CONTEXT, the context naming the format and gitsign-ts
 * version): a forged list could let a commit pass for one that changes other paths, so a line whose
 * segment does not verify, or that does not parse, is a miss. Each line names the first parent it was
 * computed against (a shallow or grafted history sees other parents): another parent is a miss.
 */
const FORMAT = 1;
/** Longer lists are not kept (git is asked again): a cache line stays small. */
const MAX_PATHS = 1000;
const MAX_PATH_CHARS = 4096;

export interface PathCache {
  /** The paths the commit changes against this first parent (null: a root commit), or undefined. */
  get(commit: string, parent: string | null): string[] | undefined;
  put(commit: string, parent: string | null, paths: readonly string[]): void;
  /** Writes what was put (never fails the audit). */
  flush(): void;
  /** Reads the kept lists and decodes them in the background: every commit will be asked about. */
  readAhead(): void;
}

/** The context of path lists for this gitsign-ts version (32 hex digits). */
export function pathsContext(version: string): string {
  return createHash('sha256').update(JSON.stringify({ format: FORMAT, version, paths: 'git diff-tree -r --no-renames --root against the first parent' })).digest('hex').slice(0, 32);
}

/** A line as pathCache writes it: `{"parent":...,"paths":[...]}`. */
const PARENT_AT = '{"parent":';
const PATHS_AT = ',"paths":';
/** Lists by their JSON, each parsed and checked once: commits change the same files again and again; bounded. */
const lists = new Map<string, string[] | undefined>();
const MAX_LISTS = 65536;

/** A line's parent and list, checked (undefined: not a line we write). */
interface Kept {
  parent: string | null;
  paths: string[];
}
const PARENT = /^"([0-9a-f]{40}|[0-9a-f]{64})"$/;

/**
 * A line's parent and list: the parent read as text, the list looked up by its JSON; a line of
 * another shape is decoded whole (every line reads as decodeWhole reads it, or is a miss). The list
 * may be shared by several commits: nothing changes it.
 */
function decode(json: string): Kept | undefined {
  const at = json.indexOf(PATHS_AT);
  if (!json.startsWith(PARENT_AT) || at === -1 || !json.endsWith(']}')) return decodeWhole(json);
  const parentText = json.slice(PARENT_AT.length, at);
  const parent = parentText === 'null' ? null : (PARENT.exec(parentText)?.[1] ?? undefined);
  if (parent === undefined) return decodeWhole(json);
  const text = json.slice(at + PATHS_AT.length, -1);
  let list = lists.get(text);
  if (!lists.has(text)) {
    list = decodeWhole(`{"parent":null,"paths":${text}}`)?.paths;
    if (lists.size >= MAX_LISTS) lists.clear();
    lists.set(text, list);
  }
  return list ? { parent, paths: list } : decodeWhole(json);
}

function decodeWhole(json: string): Kept | undefined {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as { parent?: unknown; paths?: unknown };
  if (Object.keys(o).length !== 2 || !(o.parent === null || typeof o.parent === 'string') || !Array.isArray(o.paths) || o.paths.length > MAX_PATHS) return undefined;
  for (const p of o.paths) if (typeof p !== 'string' || p === '' || p.length > MAX_PATH_CHARS) return undefined;
  return { parent: o.parent, paths: o.paths as string[] };
}

export function pathCache(store: CacheStore): PathCache {
  // Read at the first question, and each line decoded when asked for: an audit resumed from its record asks only about the commits added since.
  let kept: { get(object: string): Kept | undefined } | undefined;
  return {
    readAhead: () => {
      kept ??= store.decoded(decode, true);
    },
    get: (commit, parent) => {
      const k = (kept ??= store.decoded(decode, false)).get(commit);
      return k && k.parent === parent ? k.paths : undefined;
    },
    put: (commit, parent, paths) => {
      if (paths.length <= MAX_PATHS && paths.every((p) => p.length <= MAX_PATH_CHARS)) store.put(commit, JSON.stringify({ parent, paths }));
    },
    flush: () => store.flush(),
  };
}

/** The path cache of the repository at cwd, or undefined when it cannot be used (as the result cache). */
export async function openPathCache(version: string, cwd?: string): Promise<PathCache | undefined> {
  const gitDir = await commonGitDir(cwd);
  const store = gitDir === null ? null : CacheStore.open(gitDir, pathsContext(version), macKey(cacheDir()), 'audit-paths');
  return store ? pathCache(store) : undefined;
}
