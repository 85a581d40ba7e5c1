import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitsignError } from '../errors';
import { httpCall } from '../net/http';
import { checkedUrl } from '../net/transport';
import { loadConfig } from '../config/config';
import { refreshNow } from '../trust/publicGood';
import { DEFAULT_TUF_MIRROR, cacheDir, mirrorFiles, readState, recordMirror, tufRoot } from '../trust/tufMirror';
import { printOut } from './io';

export interface InitializeArgs {
  mirror: string;
  root?: string;
}

/** A root.json is at most tuf-js's own metadata limit for it. */
const TUF_ROOT_LIMIT = { bytes: 512 * 1024, what: 'a TUF root.json' };

/** The --root argument as a local file: a URL is downloaded (https, or http to this machine) into `dir`. */
async function rootFile(root: string, dir: string): Promise<string> {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(root)) {
    if (!existsSync(root)) throw new GitsignError('USAGE', `--root ${JSON.stringify(root)}: no such file`);
    return root;
  }
  const res = await httpCall(checkedUrl(root, '--root URL', 'USAGE').href, { service: 'TUF root', method: 'GET', limit: TUF_ROOT_LIMIT });
  if (res.status !== 200) throw new GitsignError('SERVICE', `--root ${new URL(root).origin}: answered ${res.status}`);
  const path = join(dir, 'root.json');
  writeFileSync(path, res.body, { mode: 0o600 });
  return path;
}

/**
 * `gitsign initialize [--mirror URL] [--root FILE|URL]`, as Go's gitsign (cosign's initialize): trust
 * the mirror's TUF repository from this root.json (the seed for the public-good mirror), refresh now,
 * and make it the mirror every later call uses ($TUF_ROOT/remote.json).
 */
export async function initializeCommand(args: InitializeArgs): Promise<number> {
  loadConfig(); // gitsign.insecureAllowHTTP and friends apply to the mirror URL too
  const mirror = checkedUrl(args.mirror, 'TUF mirror', 'USAGE').href.replace(/\/+$/, '');
  const root = tufRoot();
  const cache = cacheDir();
  if (!root || !cache) throw new GitsignError('CONFIG', 'no home directory to keep the TUF metadata in: set TUF_ROOT and XDG_CACHE_HOME to absolute paths');
  const files = mirrorFiles(root, cache, mirror);
  if (!args.root && mirror !== DEFAULT_TUF_MIRROR && !existsSync(join(files.tufDir, 'root.json'))) {
    throw new GitsignError('USAGE', `the TUF mirror ${mirror} is not the public-good one: give its trusted initial root.json with --root FILE|URL`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'gitsign-root-'));
  try {
    const rootPath = args.root ? await rootFile(args.root, tmp) : undefined;
    // A given root (or, for the public-good mirror, the seed) replaces whatever root.json the cache had.
    await refreshNow(files, { rootPath, forceInit: Boolean(rootPath) || mirror === DEFAULT_TUF_MIRROR });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  recordMirror(root, mirror);
  const state = readState(files);
  printOut(`gitsign: TUF mirror ${mirror} initialized in ${files.tufDir}; trusted root refreshed ${state.lastSuccess}, metadata expires ${state.metadataExpires ?? 'at an unknown time'}`);
  return 0;
}
