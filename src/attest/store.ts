import { setTimeout as sleep } from 'node:timers/promises';
import { GitsignError } from '../errors';
import { type GitOptions, git, gitConfigValue, runGit } from '../git/run';
import type { ObjectKind } from './statement';

/**
 * Where gitsign keeps attestations: a history of its own on refs/attestations/commits (or /trees),
 * never touching the branches. Each commit's tree holds `<sha>/<name>` (the file as given) and
 * `<sha>/<name>.sig` (its DSSE envelope) for every attestation so far; a new one adds its two files and
 * keeps the rest. The commit is unsigned, authored by the global user.name/user.email, and its message
 * is "Gitsign attest <name>". An attestation of the same object under the same file name replaces the
 * earlier one, as gitsign does (the earlier stays in the ref's history). The ref moves compare-and-set:
 * a concurrent attest is retried on top of the other's commit, so neither is lost.
 */
export const ATTESTATION_REFS: Record<ObjectKind, string> = { commit: 'refs/attestations/commits', tree: 'refs/attestations/trees' };

const TREE_MODE = '40000';
const FILE_MODE = '100644';
const ATTEMPTS = 16;

export interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  /** Raw name bytes: git allows any name, so they are never decoded and re-encoded. */
  name: Buffer;
}

/** `git ls-tree -z`: "<mode> <type> <sha>\t<name>\0" per entry. */
export async function listTree(tree: string, opts: GitOptions): Promise<TreeEntry[]> {
  const out = await git(['ls-tree', '-z', tree], opts);
  const entries: TreeEntry[] = [];
  for (let pos = 0; pos < out.length; ) {
    const end = out.indexOf(0, pos);
    const rec = out.subarray(pos, end === -1 ? out.length : end);
    pos = end === -1 ? out.length : end + 1;
    const tab = rec.indexOf(0x09);
    const [mode, type, sha] = rec.toString('latin1', 0, tab).split(' ');
    entries.push({ mode, type, sha, name: Buffer.from(rec.subarray(tab + 1)) });
  }
  return entries;
}

async function makeTree(entries: TreeEntry[], opts: GitOptions): Promise<string> {
  const input = Buffer.concat(entries.flatMap((e) => [Buffer.from(`${e.mode} ${e.type} ${e.sha}\t`), e.name, Buffer.from([0])]));
  return (await git(['mktree', '-z'], { ...opts, input })).toString('latin1').trim();
}

export async function writeBlob(content: Buffer, opts: GitOptions): Promise<string> {
  return (await git(['hash-object', '-w', '--stdin'], { ...opts, input: content })).toString('latin1').trim();
}

/** The ref's commit, or null when the ref does not exist. */
export async function refTip(ref: string, opts: GitOptions): Promise<string | null> {
  const r = await runGit(['rev-parse', '-q', '--verify', ref], opts);
  if (r.code !== 0) return null;
  return r.stdout.toString('latin1').trim();
}

/** The name is a tree entry of its own, next to its .sig: no path, nothing git or gitsign would misread. */
export function checkAttestationName(name: string): void {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new GitsignError('USAGE', `"${name}" cannot be an attestation file name`);
  }
  if (name.toLowerCase() === '.git') throw new GitsignError('USAGE', 'an attestation file cannot be named .git');
  // <name>.sig is <name>'s signature: a file named like one could replace another attestation's.
  if (name.endsWith('.sig')) throw new GitsignError('USAGE', `attestation file names ending in .sig are reserved for signatures (${name})`);
}

interface Author {
  name: string;
  email: string;
}

/** gitsign takes the identity from the global git config; unset values stay empty, as go-git writes them. */
export async function globalAuthor(opts: GitOptions): Promise<Author> {
  const [name, email] = await Promise.all([gitConfigValue('user.name', ['--global'], opts), gitConfigValue('user.email', ['--global'], opts)]);
  for (const v of [name, email]) {
    if (/[<>\n]/.test(v)) throw new GitsignError('CONFIG', `the global user.name/user.email ${JSON.stringify(v)} cannot be written in a commit`);
  }
  return { name, email };
}

/** git's "<seconds> +hhmm" in the local time zone, as go-git writes time.Now(). */
function gitTime(now: Date): string {
  const offset = -now.getTimezoneOffset();
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
  return `${Math.floor(now.getTime() / 1000)} ${zone}`;
}

export interface NewAttestation {
  kind: ObjectKind;
  /** The attested commit or tree. */
  sha: string;
  name: string;
  file: Buffer;
  envelope: Buffer;
  author: Author;
  now: Date;
}

export interface AttestationDir {
  /** The ref's commit (null: no attestation of this kind yet), its root tree, and `<sha>/`'s entries. */
  tip: string | null;
  root: TreeEntry[];
  dir: TreeEntry[];
}

export async function readAttestations(kind: ObjectKind, sha: string, opts: GitOptions = {}): Promise<AttestationDir> {
  const tip = await refTip(ATTESTATION_REFS[kind], opts);
  const root = tip ? await listTree(`${tip}^{tree}`, opts) : [];
  const dirEntry = root.find((e) => e.type === 'tree' && e.name.equals(Buffer.from(sha)));
  return { tip, root, dir: dirEntry ? await listTree(dirEntry.sha, opts) : [] };
}

/** Stores one attestation and returns the new attestation commit. */
export async function storeAttestation(a: NewAttestation, opts: GitOptions = {}): Promise<string> {
  checkAttestationName(a.name);
  const ref = ATTESTATION_REFS[a.kind];
  const names = [Buffer.from(a.name), Buffer.from(`${a.name}.sig`)];
  const [fileBlob, sigBlob] = await Promise.all([writeBlob(a.file, opts), writeBlob(a.envelope, opts)]);
  const when = gitTime(a.now);
  const ident = `${a.author.name} <${a.author.email}> ${when}`;
  let lastError = '';
  const shaName = Buffer.from(a.sha);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const { tip: parent, root, dir } = await readAttestations(a.kind, a.sha, opts);
    const newDir = [
      ...dir.filter((e) => !names.some((n) => n.equals(e.name))),
      { mode: FILE_MODE, type: 'blob', sha: fileBlob, name: names[0] },
      { mode: FILE_MODE, type: 'blob', sha: sigBlob, name: names[1] },
    ];
    const dirTree = await makeTree(newDir, opts);
    const rootTree = await makeTree([...root.filter((e) => !e.name.equals(shaName)), { mode: TREE_MODE, type: 'tree', sha: dirTree, name: shaName }], opts);
    const commit = Buffer.from(
      `tree ${rootTree}\n${parent ? `parent ${parent}\n` : ''}author ${ident}\ncommitter ${ident}\n\nGitsign attest ${a.name}`,
    );
    const sha = (await git(['hash-object', '-t', 'commit', '-w', '--stdin'], { ...opts, input: commit })).toString('latin1').trim();
    // Compare-and-set: only if the ref is still where we read it (or still absent).
    const r = await runGit(['update-ref', ref, sha, parent ?? ''], opts);
    if (r.code === 0) return sha;
    lastError = r.stderr.trim().split('\n').pop() ?? '';
    await sleep(20 + Math.random() * 30 * (attempt + 1));
  }
  throw new GitsignError('GIT', `could not update ${ref} after ${ATTEMPTS} attempts (other attests kept moving it): ${lastError}`);
}
