/**
 * The sandbox's TUF repository (issue 11) as Sigstore's TUF client, @sigstore/tuf over tuf-js, sees it:
 * bootstrapped from DIR/root.json with $URL/tuf as its mirror it gets exactly DIR/trusted_root.json;
 * after `gitsign sandbox rotate-tuf` a refresh walks to the new root and gets the new target; tampered
 * metadata or targets are refused. And end to end: `gitsign initialize` against it, then plain
 * `git verify-commit` with no GITSIGN_TRUSTED_ROOT.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { initTUF } from '@sigstore/tuf';
import { toTrustMaterial } from '@sigstore/verify';
import { Metadata, MetadataKind } from '@tufjs/models';
import { sandboxTrustedRoot, startSandbox } from '../../src/sandbox/server';
import { prepareSandboxDir } from '../../src/sandbox/state/dir';
import { sandboxPaths } from '../../src/sandbox/state/paths';
import { keepTimestampFresh, publishTufRepository } from '../../src/sandbox/tuf/publish';
import { refreshFromTuf } from '../../src/trust/publicGood';
import { mirrorFiles, readState, writeState } from '../../src/trust/tufMirror';
import { TempRepo } from '../helpers/gitRepo';
import { BIN } from '../helpers/paths';
import { mintToken, readSandboxEnv, signingRepo } from '../helpers/signingSandbox';
import { removeDir, spawnSandbox, startInProcess, tempDir, type InProcess } from './support';

const dirs: string[] = [];
const sandboxes: InProcess[] = [];
after(async () => {
  for (const s of sandboxes) await s.sb.close();
  dirs.forEach(removeDir);
});
function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}
async function sandbox(): Promise<InProcess> {
  const s = await startInProcess(newDir());
  sandboxes.push(s);
  return s;
}

const mirrorOf = (s: InProcess): string => `${s.sb.url}/tuf`;
const file = (path: string): string => readFileSync(path, 'utf8');
const rootMetadata = (path: string) => Metadata.fromJSON(MetadataKind.Root, JSON.parse(file(path)));

/** @sigstore/tuf's client (its TUFClient, via initTUF: refresh, then the target), bootstrapped from `root` on first use of `cache`. */
async function fetchTrustedRoot(cache: string, mirrorURL: string, root: string): Promise<string> {
  const client = await initTUF({ cachePath: cache, mirrorURL, rootPath: root, retry: 0, timeout: 5_000 });
  return client.getTarget('trusted_root.json');
}

/** A CLI run that lets this process's in-process sandbox go on answering meanwhile. */
function gitsignAsync(args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, _stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
    child.stdin?.end();
  });
}

test('issue 11: @sigstore/tuf bootstrapped from DIR/root.json with $URL/tuf as mirror fetches exactly DIR/trusted_root.json; the product refreshes it too', async () => {
  const s = await sandbox();
  const { paths } = s.sb;
  const got = await fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(s), paths.tufRoot);
  assert.equal(got, file(paths.trustedRoot));
  // The product's refresh (worker thread, deadline) over the same repository.
  const refreshed = await refreshFromTuf({ cachePath: join(newDir(), 'tuf'), mirrorURL: mirrorOf(s), rootPath: paths.tufRoot });
  assert.deepEqual(refreshed, TrustedRoot.toJSON(TrustedRoot.fromJSON(JSON.parse(file(paths.trustedRoot)))));

  // The repository's shape: root v1 with consistent snapshots, Sigstore's key forms, short-lived timestamp.
  const root = rootMetadata(paths.tufRoot);
  assert.equal(root.signed.version, 1);
  assert.equal(root.signed.consistentSnapshot, true);
  const keyTypes = Object.fromEntries(Object.entries(root.signed.roles).map(([role, r]) => [role, root.signed.keys[r.keyIDs[0]].keyType]));
  assert.deepEqual(keyTypes, { root: 'ecdsa', targets: 'ecdsa', snapshot: 'ed25519', timestamp: 'ed25519' });
  const timestamp = JSON.parse(await (await fetch(`${mirrorOf(s)}/timestamp.json`)).text()) as { signed: { expires: string } };
  const life = Date.parse(timestamp.signed.expires) - Date.now();
  assert.ok(life > 0 && life <= 24 * 3600 * 1000, timestamp.signed.expires);
  // The private keys stay in the state directory, mode 0600, like keys.json.
  assert.equal(statSync(paths.tufState).mode & 0o777, 0o600);
});

test('issue 11: the TUF route serves only repository files (never the key file), and a missing version is a 404', async () => {
  const s = await sandbox();
  const base = mirrorOf(s);
  for (const name of ['1.root.json', 'root.json', 'timestamp.json', '1.snapshot.json', '1.targets.json']) assert.equal((await fetch(`${base}/${name}`)).status, 200, name);
  const target = readdirSync(join(s.sb.paths.tufRepo, 'targets'))[0];
  assert.equal((await fetch(`${base}/targets/${target}`)).status, 200);
  for (const name of ['2.root.json', 'tuf-keys.json', '../tuf-keys.json', '%2e%2e/tuf-keys.json', 'targets/../../keys.json', '0.root.json', 'targets/trusted_root.json', '']) {
    assert.equal((await fetch(`${base}/${name}`)).status, 404, name);
  }
  assert.equal((await fetch(`${base}/timestamp.json`, { method: 'POST', body: '{}' })).status, 405);
});

test('issue 11: after `gitsign sandbox rotate-tuf`, a refresh gets root version 2 (signed by the old and the new root key) and the new trusted_root.json target', async () => {
  const s = await sandbox();
  const { paths } = s.sb;
  const cache = join(newDir(), 'tuf');
  const before = await fetchTrustedRoot(cache, mirrorOf(s), paths.tufRoot);
  const rootV1 = rootMetadata(paths.tufRoot);

  const r = await gitsignAsync(['sandbox', 'rotate-tuf', '--dir', s.dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /TUF root version 2/);
  const after = file(paths.trustedRoot);
  assert.notEqual(after, before);
  // The same client cache, refreshed: it walks from root 1 to root 2 and gets the new target.
  assert.equal(await fetchTrustedRoot(cache, mirrorOf(s), paths.tufRoot), after);
  const cachedRoot = readdirSync(cache).map((d) => join(cache, d, 'root.json'))[0];
  assert.equal(rootMetadata(cachedRoot).signed.version, 2);

  const rootV2 = rootMetadata(paths.tufRoot);
  assert.equal(rootV2.signed.version, 2);
  rootV1.verifyDelegate('root', rootV2); // the old root key signed it
  rootV2.verifyDelegate('root', rootV2); // and so did the new one
  for (const role of ['root', 'targets', 'snapshot', 'timestamp']) {
    assert.notDeepEqual(rootV2.signed.roles[role].keyIDs, rootV1.signed.roles[role].keyIDs, `${role} key rotated`);
  }
  // The new target is a usable trusted root: the services' keys unchanged, one more CT log key announced.
  const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(after)));
  assert.equal(material.tlogs.length, 2);
  assert.equal(material.ctlogs.length, 2);
  assert.equal(material.certificateAuthorities.length, 1);

  // A restart keeps the rotated keys and root, and publishes on: a client from root 1 still gets there.
  await s.sb.close();
  const again = await startInProcessAt(s.dir);
  assert.equal(again.sb.tufRootVersion, 2);
  assert.equal(await fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(again), join(s.dir, 'tuf', '1.root.json')), file(paths.trustedRoot));
});

async function startInProcessAt(dir: string): Promise<InProcess> {
  const s = await startInProcess(dir);
  sandboxes.push(s);
  return s;
}

test('issue 11: expiry: an expired timestamp is refused until `up` re-signs it at start; a root near its expiry gets a new version', async () => {
  const DAY = 24 * 3600 * 1000;
  const paths = sandboxPaths(prepareSandboxDir(newDir()));
  // A repository made 340 days ago: its root (valid 365 days) has 25 days left.
  publishTufRepository({ paths, baseTrustedRoot: {}, now: new Date(Date.now() - 340 * DAY) });
  const s = await startInProcessAt(paths.dir);
  assert.equal(s.sb.tufRootVersion, 2, 'a new root version at start');
  const cache = join(newDir(), 'tuf');
  assert.equal(await fetchTrustedRoot(cache, mirrorOf(s), join(paths.tufRepo, '1.root.json')), file(paths.trustedRoot));
  assert.equal(rootMetadata(readdirSync(cache).map((d) => join(cache, d, 'root.json'))[0]).signed.version, 2);

  // Published two days ago (a sandbox stopped since): the timestamp has expired and a client refuses it.
  publishTufRepository({ paths, baseTrustedRoot: sandboxTrustedRoot(s.material, s.sb.url), now: new Date(Date.now() - 2 * DAY) });
  await assert.rejects(fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(s), paths.tufRoot), /expired/i);
  await s.sb.close();
  const again = await startInProcessAt(paths.dir);
  assert.equal(await fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(again), paths.tufRoot), file(paths.trustedRoot));
});

test('issue 11: expiry: while `up` runs, a timestamp with less than half its life left is signed again', async () => {
  const paths = sandboxPaths(prepareSandboxDir(newDir()));
  const opts = { paths, baseTrustedRoot: {} };
  const timestamp = () => JSON.parse(file(join(paths.tufRepo, 'timestamp.json'))) as { signed: { version: number; expires: string } };
  // Signed 20 hours ago: 4 of its 24 hours left.
  const first = publishTufRepository({ ...opts, now: new Date(Date.now() - 20 * 3600 * 1000) });
  assert.equal(timestamp().signed.version, 1);
  const stop = keepTimestampFresh(opts, first, 20);
  try {
    for (let waited = 0; timestamp().signed.version === 1 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  } finally {
    stop();
  }
  assert.equal(timestamp().signed.version, 2, 'signed again');
  assert.ok(Date.parse(timestamp().signed.expires) - Date.now() > 12 * 3600 * 1000, timestamp().signed.expires);
  // A fresh timestamp is left alone.
  const fresh = publishTufRepository(opts);
  const stopFresh = keepTimestampFresh(opts, fresh, 20);
  await new Promise((r) => setTimeout(r, 200));
  stopFresh();
  assert.equal(timestamp().signed.version, 3);
});

/** Changes one byte of a served file (the server reads it at each request); returns the undo. */
function tamper(path: string, at: (text: string) => number): () => void {
  const original = readFileSync(path);
  const bytes = Buffer.from(original);
  const i = at(bytes.toString('latin1'));
  assert.ok(i >= 0, `nothing to tamper with in ${path}`);
  bytes[i] = bytes[i] === 0x30 ? 0x31 : 0x30; // a digit for another: still valid JSON
  writeFileSync(path, bytes);
  return () => writeFileSync(path, original);
}

test('issue 11: tampered TUF metadata, a tampered target and a forged new root are refused by the client', async (t: TestContext) => {
  const s = await sandbox();
  const { paths } = s.sb;
  const repo = paths.tufRepo;
  const target = join(repo, 'targets', readdirSync(join(repo, 'targets'))[0]);
  /** The first character of a field's value (a digit of a date, a hex digit of a hash). */
  const valueOf = (field: string) => (text: string) => {
    const m = new RegExp(`"${field}": "[0-9a-f]`).exec(text);
    return m ? m.index + m[0].length - 1 : -1;
  };
  const cases: [string, () => () => void][] = [
    ['timestamp.json, its expiry (signature)', () => tamper(join(repo, 'timestamp.json'), valueOf('expires'))],
    ['1.snapshot.json, its expiry (hash named by the timestamp)', () => tamper(join(repo, '1.snapshot.json'), valueOf('expires'))],
    ['1.targets.json, the target\'s hash (hash named by the snapshot)', () => tamper(join(repo, '1.targets.json'), valueOf('sha256'))],
    ['the trusted_root.json target (hash named by targets)', () => tamper(target, (text) => text.search(/\d/))],
    [
      '2.root.json, a copy of root 1 claiming version 2 (signature)',
      () => {
        const forged = join(repo, '2.root.json');
        writeFileSync(forged, file(join(repo, '1.root.json')).replace('"version": 1', '"version": 2'));
        return () => rmSync(forged);
      },
    ],
  ];
  // The untampered repository is accepted, so each refusal below is the tampering's doing.
  assert.equal(await fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(s), paths.tufRoot), file(paths.trustedRoot));
  for (const [what, apply] of cases) {
    const undo = apply();
    try {
      await assert.rejects(fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(s), paths.tufRoot), (err: Error) => {
        t.diagnostic(`${what}: ${err.message}`);
        return !/ECONNREFUSED|timed out/i.test(err.message);
      }, what);
    } finally {
      undo();
    }
  }
  assert.equal(await fetchTrustedRoot(join(newDir(), 'tuf'), mirrorOf(s), paths.tufRoot), file(paths.trustedRoot));
});

test('issue 11: rotate-tuf without a sandbox is a configuration error naming `up`', () => {
  const r = spawnSync(process.execPath, [BIN, 'sandbox', 'rotate-tuf', '--dir', join(newDir(), 'none')], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /no sandbox in .*gitsign sandbox up --detach --dir/);
});

/** Listens on `port` (0: any) on 127.0.0.1 and closes again; resolves with the port. */
function probePort(port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer().once('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as { port: number }).port;
      srv.close(() => resolve(got));
    });
  });
}

test('issue 11: a link at tuf-keys.json or DIR/tuf is refused and nothing is written through it; a damaged TUF key file stops `up` with one sentence and lets the port go', async () => {
  const victimDir = newDir();
  const victim = join(victimDir, 'victim');
  writeFileSync(victim, 'victim');
  for (const [name, target, why] of [
    ['tuf-keys.json', victim, /tuf-keys\.json is a symbolic link; move it away/],
    ['tuf', victimDir, /tuf is not a directory \(a link or a file\); move it away/],
  ] as const) {
    const dir = newDir();
    symlinkSync(target, join(dir, name));
    await assert.rejects(startSandbox({ dir, port: 0 }), why, name);
    assert.equal(readFileSync(victim, 'utf8'), 'victim');
    assert.deepEqual(readdirSync(victimDir), ['victim'], `${name}: nothing written into the link's target`);
    assert.ok(lstatSync(join(dir, name)).isSymbolicLink());
  }
  // Damaged key files: each named with what is wrong, never a runtime message.
  const valid = sandboxPaths(prepareSandboxDir(newDir()));
  publishTufRepository({ paths: valid, baseTrustedRoot: {} });
  const state = JSON.parse(file(valid.tufState)) as Record<string, Record<string, unknown>>;
  const damaged: [string, unknown, RegExp][] = [
    ['{"version":1,"keys":{}}', undefined, /\(unknown format\)/],
    ['announced', { ...state, announcedCtlogs: [{ rawBytes: 'AAAA', start: '2026-01-01T00:00:00Z' }] }, /\(announced CT logs\)/],
    ['swapped keys', { ...state, keys: { ...state.keys, root: state.keys.timestamp } }, /\(key root is not of its role's type\)/],
    ['root of another repository', { ...state, keys: { ...state.keys, targets: state.keys.root } }, /does not check \(targets was signed by 0\/1 keys\)/],
  ];
  for (const [what, content, why] of damaged) {
    const dir = newDir();
    writeFileSync(join(dir, 'tuf-keys.json'), content === undefined ? what : JSON.stringify(content), { mode: 0o600 });
    const port = await probePort();
    await assert.rejects(startSandbox({ dir, port }), (err: Error) => {
      assert.match(err.message, /^(sandbox TUF key file .*tuf-keys\.json is invalid|the sandbox's TUF repository in .*tuf-keys\.json does not check)/, what);
      assert.match(err.message, why, what);
      assert.match(err.message, /move it and .*tuf away/, what);
      return true;
    });
    assert.equal(await probePort(port), port, `${what}: the failed start closed its listening socket`);
  }
});

/** Settings that would trust the sandbox without TUF: the end-to-end test runs without every one of them. */
const DIRECT_TRUST = ['GITSIGN_TRUSTED_ROOT', 'GITSIGN_FULCIO_ROOT', 'GITSIGN_TIMESTAMP_CERT_CHAIN', 'SIGSTORE_REKOR_PUBLIC_KEY', 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE', 'SIGSTORE_ROOT_FILE'];

test('issue 11: `gitsign initialize --mirror $URL/tuf --root DIR/root.json`, then a commit signed against the sandbox verifies with plain `git verify-commit`, no GITSIGN_TRUSTED_ROOT', async () => {
  const dir = newDir();
  const sb = await spawnSandbox(dir);
  try {
    const env = readSandboxEnv(dir);
    for (const k of DIRECT_TRUST) delete env[k];
    const home = join(newDir(), 'home');
    mkdirSync(home);
    const userEnv = { ...env, HOME: home, XDG_CACHE_HOME: join(home, '.cache'), XDG_CONFIG_HOME: join(home, '.config'), TUF_ROOT: join(home, 'tuf-root') };
    const repo = signingRepo({ ...userEnv, SIGSTORE_ID_TOKEN: mintToken(dir) });
    try {
      for (const k of DIRECT_TRUST) assert.equal(repo.env[k], undefined, k);
      const init = repo.gitsign(['initialize', '--mirror', env.GITSIGN_SANDBOX_TUF_URL, '--root', env.GITSIGN_SANDBOX_TUF_ROOT]);
      assert.equal(init.status, 0, init.stderr);
      repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'signed against the sandbox, trusted through its TUF repository');
      const verify = repo.gitResult(['verify-commit', 'HEAD']);
      assert.equal(verify.status, 0, verify.stderr);
      assert.match(verify.stderr, /Good signature from test@example\.com \(/);
      // A key rotation in the sandbox's repository: once a day has passed, the next call starts a
      // background refresh that walks to root v2 and fetches the new trusted root.
      const rotate = spawnSync(process.execPath, [BIN, 'sandbox', 'rotate-tuf', '--dir', dir], { encoding: 'utf8', env: { ...process.env, ...userEnv } });
      assert.equal(rotate.status, 0, rotate.stderr);
      const files = mirrorFiles(userEnv.TUF_ROOT, join(userEnv.XDG_CACHE_HOME, 'sigstore', 'gitsign-ts'), env.GITSIGN_SANDBOX_TUF_URL);
      const refreshed = readState(files).lastSuccess;
      writeState(files, { ...readState(files), lastSuccess: new Date(Date.now() - 2 * 86_400_000).toISOString() });
      assert.equal(repo.gitResult(['verify-commit', 'HEAD']).status, 0, 'the call does not wait for the refresh');
      const until = Date.now() + 60_000;
      const ctlogs = (path: string): string[] => (JSON.parse(readFileSync(path, 'utf8')) as { ctlogs: { logId: { keyId: string } }[] }).ctlogs.map((l) => l.logId.keyId).sort();
      const rotated = ctlogs(join(dir, 'trusted_root.json'));
      assert.equal(rotated.length, 2, 'the rotation added a CT log key');
      // Our copy is the verified target re-serialized, so it is compared by content, not bytes.
      while (JSON.stringify(ctlogs(files.trustedRoot)) !== JSON.stringify(rotated)) {
        assert.ok(Date.now() < until, 'the background refresh fetched the rotated trusted root within 60 s');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.notEqual(readState(files).lastSuccess, refreshed);
      assert.equal(JSON.parse(readFileSync(join(files.tufDir, 'root.json'), 'utf8')).signed.version, 2);
      assert.equal(repo.gitResult(['verify-commit', 'HEAD']).status, 0, 'the commit still verifies under the rotated root');
      // A fresh user bootstrapping from the public-good root instead does not trust this commit.
      const stranger = new TempRepo({ ...env, GITSIGN_OFFLINE: 'true' });
      try {
        stranger.git('fetch', '-q', repo.dir, 'HEAD');
        assert.notEqual(stranger.gitResult(['-c', 'gpg.format=x509', '-c', `gpg.x509.program=${BIN}`, 'verify-commit', 'FETCH_HEAD']).status, 0);
      } finally {
        stranger.remove();
      }
    } finally {
      repo.remove();
    }
  } finally {
    await sb.stop();
  }
});
