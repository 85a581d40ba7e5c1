/**
 * Finding 12: `gitsign sandbox up --dir D` must not take over a directory someone else controls (they
 * could replace `env`, which users source, or `trusted_root.json`), and its state files must be written
 * through exclusive temporary files, never through a link planted at a predictable name.
 * Hostile directories are made the way another user would leave them: chown to uid 65534, chmod o+w.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GitsignError } from '../src/errors';
import { startSandbox } from '../src/sandbox/server';
import { createExclusive, writeFileAtomic } from '../src/sandbox/state/fsutil';
import { sandboxPaths } from '../src/sandbox/state/paths';
import { BIN } from './helpers/paths';
import { removeDir, tempDir } from './sandbox/support';

const OTHER_UID = 65534; // nobody
const asRoot = process.getuid?.() === 0;
const needsRoot = asRoot ? false : 'making a directory of another user needs root (chown): these tests run as root';

const root = tempDir();
after(() => removeDir(root));
let n = 0;
/** A fresh directory of ours (mode 0700) under the test's root. */
function fresh(name = 'd'): string {
  const d = join(root, `${name}${n++}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
}

const VICTIM_TEXT = 'export PATH="$HOME/bin:$PATH"\n# the victim\'s profile, no newline at the end';
/** A file outside the sandbox directory that an attacker would like us to overwrite or truncate. */
function victim(): string {
  const path = join(fresh('victim'), '.profile');
  writeFileSync(path, VICTIM_TEXT);
  return path;
}

/** startSandbox must refuse dir with a CONFIG error matching why; a sandbox that starts is stopped and fails the test. */
async function refused(dir: string, why: RegExp): Promise<void> {
  let started;
  try {
    started = await startSandbox({ dir, port: 0 });
  } catch (err) {
    assert.ok(err instanceof GitsignError, `not a GitsignError: ${String(err)}`);
    assert.equal(err.code, 'CONFIG');
    assert.match(err.message, why);
    return;
  }
  await started.close();
  assert.fail(`the sandbox started in ${dir}`);
}

async function starts(dir: string): Promise<void> {
  const sb = await startSandbox({ dir, port: 0 });
  await sb.close();
}

const listing = (dir: string): string[] => readdirSync(dir).sort();

test('finding 12: sandbox up and token refuse a directory another user owns, and write nothing into it', { skip: needsRoot }, () => {
  const dir = fresh();
  writeFileSync(join(dir, 'env'), "export GITSIGN_FULCIO_URL='http://attacker.example'\n");
  chownSync(dir, OTHER_UID, OTHER_UID);
  chownSync(join(dir, 'env'), OTHER_UID, OTHER_UID);
  const up = spawnSync(process.execPath, [BIN, 'sandbox', 'up', '--dir', dir, '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(up.status, 1, `exit ${String(up.status)} ${up.signal ?? ''}: ${up.stderr}`);
  assert.equal(up.stdout, '', 'no exports printed');
  assert.match(up.stderr, new RegExp(`^gitsign: refusing sandbox directory ${dir}: it belongs to another user \\(uid ${OTHER_UID}\\)\\n$`));
  const token = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', dir], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(token.status, 1);
  assert.match(token.stderr, /refusing sandbox directory .*belongs to another user/);
  assert.deepEqual(listing(dir), ['env']);
  assert.match(readFileSync(join(dir, 'env'), 'utf8'), /attacker\.example/);
});

test('finding 12: a directory its group or others can write is refused, even our own; read bits are fine', async () => {
  for (const mode of [0o777, 0o702, 0o770, 0o1777]) {
    const dir = fresh();
    chmodSync(dir, mode);
    await refused(dir, /refusing sandbox directory .*: it is writable by (others|its group) \(chmod go-w it, or choose another --dir\)/);
    assert.deepEqual(listing(dir), [], `mode ${mode.toString(8)}: nothing written`);
  }
  const readable = fresh();
  chmodSync(readable, 0o755);
  await starts(readable);
  assert.ok(existsSync(join(readable, 'trusted_root.json')));
});

test('finding 12: a directory under a parent others could rename it in is refused; a sticky parent (as /tmp) is fine', async (t) => {
  const openParent = fresh('parent');
  chmodSync(openParent, 0o777);
  const inside = join(openParent, 'sandbox');
  mkdirSync(inside, { mode: 0o700 });
  await refused(inside, new RegExp(`${openParent} above it is writable by others and not sticky`));
  // Not created either: the path above is checked before anything is made.
  await refused(join(openParent, 'new', 'sandbox'), /above it is writable by others and not sticky/);
  assert.equal(existsSync(join(openParent, 'new')), false);
  chmodSync(openParent, 0o1777);
  await starts(inside);
  if (!asRoot) return t.skip(String(needsRoot));
  const foreignParent = fresh('parent');
  const below = join(foreignParent, 'sandbox');
  mkdirSync(below, { mode: 0o700 });
  chownSync(foreignParent, OTHER_UID, OTHER_UID);
  chmodSync(foreignParent, 0o755);
  await refused(below, new RegExp(`${foreignParent} above it belongs to another user \\(uid ${OTHER_UID}\\)`));
});

test('finding 12: a missing directory is created 0700 with its missing parents; a symbolic link is refused', async () => {
  const base = fresh();
  const deep = join(base, 'a', 'b', 'sandbox');
  await starts(deep);
  for (const d of [join(base, 'a'), join(base, 'a', 'b'), deep]) assert.equal(lstatSync(d).mode & 0o7777, 0o700, d);
  const link = join(fresh(), 'link');
  symlinkSync(deep, link);
  await refused(link, /it is a symbolic link \(give the directory itself\)/);
  const file = join(base, 'file');
  writeFileSync(file, '');
  await refused(file, /it is not a directory/);
  await refused(join(file, 'below'), /it cannot be used \(ENOTDIR\)/);
});

test('finding 12: links planted at the temporary names (NAME.tmp-PID) do not redirect any state file', async () => {
  const dir = fresh();
  const target = victim();
  const paths = sandboxPaths(dir);
  const files = [paths.keys, paths.runtime, paths.trustedRoot, paths.env, paths.fulcioChain, paths.tsaChain, paths.rekorPub, paths.ctfePub];
  // This process is the sandbox (in-process), so its pid is the one a temporary name would carry.
  for (const f of files) symlinkSync(target, `${f}.tmp-${process.pid}`);
  await starts(dir);
  assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT, 'the victim file is untouched');
  for (const f of files) {
    const st = lstatSync(f);
    assert.ok(st.isFile(), `${f} is a regular file`);
    assert.equal(st.mode & 0o777, 0o600, `${f} is 0600`);
  }
  // Nothing of ours is left at a temporary name; the planted links are all that is there.
  assert.deepEqual(
    listing(dir).filter((f) => f.includes('.tmp-')),
    files.map((f) => `${f.slice(dir.length + 1)}.tmp-${process.pid}`).sort(),
  );
});

test('finding 12: a state file that is a link or another user\'s file is refused, never read, appended or truncated through', async (t) => {
  // The log: an old sandbox read it through the link and cut the victim's "torn last record" to 0 bytes.
  for (const name of ['rekor-entries.log', 'rekor-v2-entries.log', 'keys.json']) {
    const dir = fresh();
    const target = victim();
    symlinkSync(target, join(dir, name));
    await refused(dir, new RegExp(`${name} is a symbolic link; move it away`));
    assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT, `${name}: the link's target is untouched`);
  }
  // A link at a final name is replaced by the rename, never written through.
  const dir = fresh();
  const target = victim();
  symlinkSync(target, join(dir, 'env'));
  await starts(dir);
  assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT);
  assert.ok(lstatSync(join(dir, 'env')).isFile());
  if (!asRoot) return t.skip(String(needsRoot));
  const foreign = fresh();
  writeFileSync(join(foreign, 'keys.json'), '{"version":1}');
  chownSync(join(foreign, 'keys.json'), OTHER_UID, OTHER_UID);
  await refused(foreign, new RegExp(`keys\\.json belongs to another user \\(uid ${OTHER_UID}\\); move it away`));
});

test('finding 12: an exclusive create never opens an existing file or a link; an atomic write leaves no temporary file', () => {
  const dir = fresh();
  const target = victim();
  const path = join(dir, 'state.json');
  symlinkSync(target, path);
  assert.throws(() => createExclusive(path), { code: 'EEXIST' });
  writeFileSync(join(dir, 'existing'), 'kept');
  assert.throws(() => createExclusive(join(dir, 'existing')), { code: 'EEXIST' });
  assert.equal(readFileSync(join(dir, 'existing'), 'utf8'), 'kept');
  writeFileAtomic(path, '{"ok":true}\n');
  assert.equal(readFileSync(target, 'utf8'), VICTIM_TEXT);
  assert.equal(readFileSync(path, 'utf8'), '{"ok":true}\n');
  assert.deepEqual(listing(dir), ['existing', 'state.json']);
});
