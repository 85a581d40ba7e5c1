/**
 * The trust root's life (issue 11): `gitsign initialize` against a real TUF repository on 127.0.0.1
 * (built here with @tufjs/models, signed with an Ed25519 key), git's calls that never wait for a
 * refresh, a background refresh at most daily with back-off after failures, one refresh however
 * many calls run in parallel, and reports that say which root was used and how old it is.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canonicalize } from '@tufjs/canonical-json';
import { Metadata, MetadataKind, Signature } from '@tufjs/models';
import { backoffMs, refreshDue, REFRESH_AFTER_MS } from '../src/trust/tufMirror';
import { seededPublicGoodRoot } from '../src/trust/publicGood';
import type { TempRepo } from './helpers/gitRepo';
import { loadAddon } from '../src/addon';
import { BIN, ROOT } from './helpers/paths';
import { gitAsync, mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';
import type { TrustRootInfo } from '../src/trust/rootInfo';
import { removeDir, tempDir } from './sandbox/support';

const DAY = 24 * 3600 * 1000;
const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;

/** TUF's date format: seconds, Z. */
function tufDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A TUF repository (no consistent snapshots) with one Ed25519 key for every role, publishing trusted_root.json. */
class TufRepository {
  private readonly key: KeyObject;
  private readonly keyId: string;
  private readonly keyJson: Record<string, unknown>;
  readonly files = new Map<string, Buffer>();
  private version = 0;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.key = privateKey;
    const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    this.keyJson = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: raw.toString('hex') } };
    this.keyId = createHash('sha256').update(canonicalize(this.keyJson)).digest('hex');
    const roles = Object.fromEntries(ROLES.map((r) => [r, { keyids: [this.keyId], threshold: 1 }]));
    this.files.set('1.root.json', this.signed(MetadataKind.Root, { _type: 'root', spec_version: '1.0.31', version: 1, expires: tufDate(Date.now() + 365 * DAY), keys: { [this.keyId]: this.keyJson }, roles, consistent_snapshot: false }));
  }

  private signed(kind: MetadataKind, signed: Record<string, unknown>): Buffer {
    const md = Metadata.fromJSON(kind as MetadataKind.Root, { signed, signatures: [] } as never);
    md.sign((data) => new Signature({ keyID: this.keyId, sig: sign(null, data, this.key).toString('hex') }));
    return Buffer.from(JSON.stringify(md.toJSON()));
  }

  get root(): Buffer {
    return this.files.get('1.root.json') as Buffer;
  }

  /** A new version of the targets (trusted_root.json), snapshot and timestamp metadata. */
  publish(trustedRoot: Buffer): void {
    const v = ++this.version;
    const hashes = { sha256: createHash('sha256').update(trustedRoot).digest('hex') };
    const expires = tufDate(Date.now() + 30 * DAY);
    this.files.set('targets/trusted_root.json', trustedRoot);
    this.files.set('targets.json', this.signed(MetadataKind.Targets, { _type: 'targets', spec_version: '1.0.31', version: v, expires, targets: { 'trusted_root.json': { length: trustedRoot.length, hashes } } }));
    this.files.set('snapshot.json', this.signed(MetadataKind.Snapshot, { _type: 'snapshot', spec_version: '1.0.31', version: v, expires, meta: { 'targets.json': { version: v } } }));
    // The timestamp expires first: the reports must name the earliest expiry.
    this.timestampExpires = tufDate(Date.now() + 7 * DAY);
    this.files.set('timestamp.json', this.signed(MetadataKind.Timestamp, { _type: 'timestamp', spec_version: '1.0.31', version: v, expires: this.timestampExpires, meta: { 'snapshot.json': { version: v } } }));
  }

  timestampExpires = '';
}

interface Mirror {
  url: string;
  /** Requests by path. */
  requests: string[];
  /** While held, timestamp.json requests wait (a slow mirror) until release(). */
  hold(): void;
  release(): void;
  /** Answer 503 to everything (a broken mirror). */
  fail(on: boolean): void;
  close(): Promise<void>;
}

async function serveMirror(repo: TufRepository): Promise<Mirror> {
  let held: ServerResponse[] | null = null;
  let failing = false;
  const requests: string[] = [];
  const answer = (path: string, res: ServerResponse): void => {
    const body = repo.files.get(path);
    if (failing || !body) {
      res.writeHead(failing ? 503 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const path = (req.url ?? '').replace(/^\/tuf\//, '');
    requests.push(path);
    if (held && path === 'timestamp.json') held.push(res);
    else answer(path, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/tuf`,
    requests,
    hold: () => (held = held ?? []),
    release: () => {
      const waiting = held ?? [];
      held = null;
      for (const res of waiting) answer('timestamp.json', res);
    },
    fail: (on) => (failing = on),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` holds, at most `ms`: a test that would hang fails instead. */
async function waitFor(check: () => boolean, what: string, ms = 45_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, env, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

type TrustRootJson = TrustRootInfo;

describe('issue 11: the trust root\'s life', () => {
  const sb = sandboxPerFile();
  let repo: TempRepo;
  let work: string;
  let n = 0;
  /** The sandbox's trusted_root.json, and the public-good one (which does not trust the sandbox). */
  let sandboxRoot: Buffer;
  const publicGoodRoot = Buffer.from(JSON.stringify(seededPublicGoodRoot()));

  before(() => {
    work = tempDir();
    repo = signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir), GITSIGN_TIMESTAMP_SERVER_URL: '' });
    repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'signed by the sandbox');
    sandboxRoot = readFileSync(sb.env.GITSIGN_TRUSTED_ROOT);
  });
  after(() => {
    repo?.remove();
    removeDir(work);
  });

  /** A user with no trust configured (no GITSIGN_TRUSTED_ROOT): a fresh TUF_ROOT and cache of their own. */
  function user(): { env: NodeJS.ProcessEnv; tufRoot: string; cache: string } {
    const home = join(work, `user${++n}`);
    const tufRoot = join(home, 'tuf');
    const cache = join(home, 'cache');
    mkdirSync(home, { recursive: true });
    const env = {
      ...repo.env,
      GITSIGN_TRUSTED_ROOT: undefined,
      GITSIGN_FULCIO_ROOT: undefined,
      SIGSTORE_REKOR_PUBLIC_KEY: undefined,
      SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: undefined,
      GITSIGN_TIMESTAMP_CERT_CHAIN: undefined,
      GITSIGN_OFFLINE: undefined,
      TUF_ROOT: tufRoot,
      XDG_CACHE_HOME: cache,
    };
    return { env, tufRoot, cache };
  }

  function mirrorDir(cache: string, mirror: string): string {
    const url = new URL(mirror);
    return join(cache, 'sigstore', 'gitsign-ts', 'mirrors', encodeURIComponent(url.host + url.pathname));
  }
  const statePath = (cache: string, mirror: string): string => join(mirrorDir(cache, mirror), 'refresh-state.json');
  const lockPath = (cache: string, mirror: string): string => join(mirrorDir(cache, mirror), 'refresh.lock');
  const readStateFile = (cache: string, mirror: string): Record<string, unknown> => JSON.parse(readFileSync(statePath(cache, mirror), 'utf8')) as Record<string, unknown>;
  function editState(cache: string, mirror: string, change: Record<string, unknown>): void {
    writeFileSync(statePath(cache, mirror), JSON.stringify({ ...readStateFile(cache, mirror), ...change }));
  }

  function verifyJson(env: NodeJS.ProcessEnv, extra: string[] = [], bin = BIN): { verified: boolean; trustRoot: TrustRootJson | null; status: number | null; stderr: string } {
    const r = spawnSync(process.execPath, [bin, 'verify', '--json', ...extra, 'HEAD'], { cwd: repo.dir, env: { ...repo.env, ...env }, encoding: 'utf8', timeout: 90_000 });
    const line = r.stdout.trim().split('\n')[0];
    const json = line ? (JSON.parse(line) as { verified: boolean; trustRoot: TrustRootJson | null }) : { verified: false, trustRoot: null };
    return { ...json, status: r.status, stderr: r.stderr };
  }

  /** A TUF repository publishing a trusted root (the sandbox's unless given), served on 127.0.0.1 for one test, closed whatever happens. */
  async function withMirror(body: (tuf: TufRepository, mirror: Mirror) => Promise<void>, first = sandboxRoot): Promise<void> {
    const tuf = new TufRepository();
    tuf.publish(first);
    const mirror = await serveMirror(tuf);
    try {
      await body(tuf, mirror);
    } finally {
      mirror.release();
      await mirror.close();
    }
  }

  async function initialize(env: NodeJS.ProcessEnv, mirror: Mirror, tuf: TufRepository): Promise<void> {
    const rootFile = join(work, `root-${n}.json`);
    writeFileSync(rootFile, tuf.root);
    const r = await run(['initialize', '--mirror', mirror.url, '--root', rootFile], env, repo.dir);
    assert.equal(r.status, 0, r.stderr);
  }

  test('issue 11: gitsign initialize --mirror --root bootstraps a TUF mirror on 127.0.0.1; git verify-commit and gitsign verify then use it with no GITSIGN_TRUSTED_ROOT', async () => {
    await withMirror(async (tuf, mirror) => {
      const { env, tufRoot } = user();
      const before = verifyJson(env, ['--offline']);
      assert.equal(before.verified, false, 'the public-good seed does not trust the sandbox');
      assert.equal(before.trustRoot?.source, 'seed');

      await initialize(env, mirror, tuf);
      assert.deepEqual(JSON.parse(readFileSync(join(tufRoot, 'remote.json'), 'utf8')), { mirror: mirror.url });

      const git = await gitAsync(repo, ['verify-commit', 'HEAD'], env);
      assert.equal(git.status, 0, git.stderr);
      const after = verifyJson(env);
      assert.equal(after.verified, true, after.stderr);
      assert.equal(after.trustRoot?.source, 'tuf-cache');
      assert.equal(after.trustRoot?.mirror, mirror.url);
      assert.equal(after.trustRoot?.expired, false);
      assert.equal(after.trustRoot?.metadataExpires, new Date(tuf.timestampExpires).toISOString());
      assert.ok(after.trustRoot?.lastRefresh && Date.now() - Date.parse(after.trustRoot.lastRefresh) < DAY);
      const human = repo.gitsign(['verify', 'HEAD'], undefined, env);
      assert.match(human.stdout, new RegExp(`gitsign: trusted root: TUF mirror ${mirror.url.replace(/[.]/g, '\\.')}, refreshed \\d{4}-.*; metadata expires `));
    });
  });

  /** bin/gitsign and the bundle's files, copied without the native addon: child_process then starts the refresh. */
  function addonlessCopy(): string {
    const dir = join(work, 'no-addon');
    mkdirSync(join(dir, 'bin'), { recursive: true });
    mkdirSync(join(dir, 'dist'), { recursive: true });
    copyFileSync(BIN, join(dir, 'bin', 'gitsign'));
    for (const f of readdirSync(join(ROOT, 'dist'))) if (f.endsWith('.js')) copyFileSync(join(ROOT, 'dist', f), join(dir, 'dist', f));
    assert.equal(existsSync(join(dir, 'dist', 'peercred.node')), false);
    return join(dir, 'bin', 'gitsign');
  }

  for (const addon of [true, false]) {
    test(`issue 11: a new trusted_root.json in the mirror is picked up by a background refresh once a day has passed, and the call does not wait for it (${addon ? 'started by the native addon' : 'without the native addon: started by child_process'})`, async () => {
      let bin = BIN;
      if (addon) assert.equal(typeof loadAddon()?.spawnDetached, 'function', 'dist/peercred.node is not built (or lacks spawnDetached): the path under test is absent');
      else bin = addonlessCopy();
      await withMirror(async (tuf, mirror) => {
        const { env, cache } = user();
        await initialize(env, mirror, tuf);
        assert.equal(verifyJson(env, [], bin).verified, false, 'the first trusted root does not trust the sandbox');

        tuf.publish(sandboxRoot); // the key rotation
        const seen = mirror.requests.length;
        assert.equal(verifyJson(env, [], bin).verified, false, 'not refreshed before a day has passed');
        assert.equal(existsSync(lockPath(cache, mirror.url)), false);
        assert.equal(mirror.requests.length, seen);

        editState(cache, mirror.url, { lastSuccess: new Date(Date.now() - REFRESH_AFTER_MS - 60_000).toISOString() });
        mirror.hold();
        const asked = mirror.requests.filter((p) => p === 'timestamp.json').length;
        const during = verifyJson(env, [], bin);
        // The call has ended while its refresh still waits on the mirror: nothing held it up.
        assert.equal(during.verified, false);
        assert.equal(existsSync(lockPath(cache, mirror.url)), true, 'a background refresh holds the lock');
        await waitFor(() => mirror.requests.filter((p) => p === 'timestamp.json').length > asked, 'the background refresh reaching the mirror');
        mirror.release();
        await waitFor(() => !existsSync(lockPath(cache, mirror.url)), 'the background refresh ending');
        const refreshed = verifyJson(env, [], bin);
        assert.equal(refreshed.verified, true, refreshed.stderr);
        assert.ok(Date.now() - Date.parse(refreshed.trustRoot?.lastRefresh ?? '') < 120_000);
      }, publicGoodRoot);
    });
  }

  test('issue 11: the refresh process the addon starts has its own session, a lower priority, our directory, /dev/null for stdio, none of our other descriptors, default signals', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
    const spawnDetached = loadAddon()?.spawnDetached;
    assert.ok(spawnDetached, 'dist/peercred.node is not built (or lacks spawnDetached)');
    const dir = join(work, 'spawned');
    mkdirSync(dir, { recursive: true });
    // A sleep started by a process that holds a pipe on descriptor 3 (as git's pipes would be), looked at while it sleeps.
    const starter = `process.stdout.write(String(require(${JSON.stringify(join(ROOT, 'dist', 'peercred.node'))}).spawnDetached('/bin/sleep', ['sleep', '60'], ${JSON.stringify(dir)}, 10)))`;
    const started = spawnSync(process.execPath, ['-e', starter], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
    assert.equal(started.status, 0, started.stderr);
    const pid = Number(started.stdout);
    assert.ok(Number.isSafeInteger(pid) && pid > 0, started.stdout);
    try {
      const proc = `/proc/${pid}`;
      // It execs once its starter has exited.
      await waitFor(() => /^\d+ \(sleep\) /.test(readFileSync(`${proc}/stat`, 'utf8')), 'the started process running sleep', 30_000);
      const stat = readFileSync(`${proc}/stat`, 'utf8');
      // After the command's closing parenthesis: state ppid pgrp session ... niceness (the 17th).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      assert.equal(Number(fields[3]), pid, 'the session is its own');
      assert.equal(Number(fields[16]), 10, 'niceness 10');
      assert.equal(readlinkSync(`${proc}/cwd`), dir);
      // Signals 1-31 (32 and up are real-time signals, two of them glibc's own).
      const ignored = BigInt(`0x${/^SigIgn:\s+([0-9a-f]+)$/m.exec(readFileSync(`${proc}/status`, 'utf8'))?.[1] ?? 'ff'}`);
      assert.equal(ignored & 0x7fffffffn, 0n, 'no standard signal ignored (Node ignores SIGPIPE)');
      assert.deepEqual(
        readdirSync(`${proc}/fd`).map((fd) => `${fd} ${readlinkSync(`${proc}/fd/${fd}`)}`).sort(),
        ['0 /dev/null', '1 /dev/null', '2 /dev/null'],
      );
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  test('issue 11: a failing mirror is tried once in the background, then left alone for the back-off; the cached root is used meanwhile', async () => {
    await withMirror(async (tuf, mirror) => {
      const { env, cache } = user();
      await initialize(env, mirror, tuf);
      mirror.fail(true);
      editState(cache, mirror.url, { lastSuccess: new Date(Date.now() - REFRESH_AFTER_MS - 60_000).toISOString() });
      const first = verifyJson(env);
      assert.equal(first.verified, true, first.stderr);
      await waitFor(() => readStateFile(cache, mirror.url).failures === 1 && !existsSync(lockPath(cache, mirror.url)), 'the failure being recorded');
      const requests = mirror.requests.length;
      const failedAt = readStateFile(cache, mirror.url).lastFailure;

      const calls = await Promise.all([1, 2, 3, 4, 5].map(() => gitAsync(repo, ['verify-commit', 'HEAD'], env)));
      for (const c of calls) assert.equal(c.status, 0, c.stderr);
      const later = verifyJson(env);
      assert.equal(existsSync(lockPath(cache, mirror.url)), false, 'no refresh started during the back-off');
      assert.equal(mirror.requests.length, requests);
      assert.equal(readStateFile(cache, mirror.url).lastFailure, failedAt);
      assert.equal(later.trustRoot?.lastRefreshFailure?.time, failedAt);
      assert.match(later.trustRoot?.lastRefreshFailure?.error ?? '', /503/);

      // An hour later it is tried again; after a second failure the back-off is two hours.
      editState(cache, mirror.url, { lastFailure: new Date(Date.now() - 3600_000 - 60_000).toISOString() });
      verifyJson(env);
      await waitFor(() => readStateFile(cache, mirror.url).failures === 2 && !existsSync(lockPath(cache, mirror.url)), 'the second failure being recorded');
      editState(cache, mirror.url, { lastFailure: new Date(Date.now() - 3600_000 - 60_000).toISOString() });
      const seen = mirror.requests.length;
      verifyJson(env);
      assert.equal(existsSync(lockPath(cache, mirror.url)), false, 'two hours have not passed');
      assert.equal(mirror.requests.length, seen);
    });
  });

  test('issue 11: calls run in parallel start one refresh, and the cached root stays whole', async () => {
    await withMirror(async (tuf, mirror) => {
      const { env, cache } = user();
      await initialize(env, mirror, tuf);
      tuf.publish(sandboxRoot);
      editState(cache, mirror.url, { lastSuccess: new Date(Date.now() - REFRESH_AFTER_MS - 60_000).toISOString() });
      mirror.hold();
      const before = mirror.requests.filter((p) => p === 'timestamp.json').length;
      const calls = await Promise.all(Array.from({ length: 8 }, () => gitAsync(repo, ['verify-commit', 'HEAD'], env)));
      for (const c of calls) assert.equal(c.status, 0, c.stderr);
      await waitFor(() => mirror.requests.filter((p) => p === 'timestamp.json').length > before, 'the refresh asking for the timestamp');
      mirror.release();
      await waitFor(() => !existsSync(lockPath(cache, mirror.url)), 'the refresh ending');
      assert.equal(mirror.requests.filter((p) => p === 'timestamp.json').length, before + 1);
      JSON.parse(readFileSync(join(mirrorDir(cache, mirror.url), 'trusted_root.json'), 'utf8'));
      assert.equal(verifyJson(env).verified, true);
    });
  });

  test('issue 11: --offline and GITSIGN_OFFLINE make no request and start no refresh, even when one is due', async () => {
    await withMirror(async (tuf, mirror) => {
      const { env, cache } = user();
      await initialize(env, mirror, tuf);
      editState(cache, mirror.url, { lastSuccess: new Date(Date.now() - 2 * DAY).toISOString() });
      const seen = mirror.requests.length;
      assert.equal(verifyJson(env, ['--offline']).verified, true);
      const git = await gitAsync(repo, ['verify-commit', 'HEAD'], { ...env, GITSIGN_OFFLINE: 'true' });
      assert.equal(git.status, 0, git.stderr);
      assert.equal(existsSync(lockPath(cache, mirror.url)), false);
      assert.equal(mirror.requests.length, seen);
    });
  });

  test('issue 11: expired TUF metadata is refused online (saying how to refresh) and used offline, reported as expired', async () => {
    await withMirror(async (tuf, mirror) => {
      const { env, cache } = user();
      await initialize(env, mirror, tuf);
      await mirror.close();
      const expired = new Date(Date.now() - 60_000).toISOString();
      editState(cache, mirror.url, { metadataExpires: expired });
      const online = verifyJson(env);
      assert.notEqual(online.status, 0);
      assert.match(online.stderr, /TUF metadata of http:\/\/127\.0\.0\.1:\d+\/tuf expired at .* run gitsign initialize --mirror .*--offline/);
      const offline = verifyJson(env, ['--offline']);
      assert.equal(offline.verified, true, offline.stderr);
      assert.equal(offline.trustRoot?.expired, true);
      assert.equal(offline.trustRoot?.metadataExpires, expired);
      await waitFor(() => !existsSync(lockPath(cache, mirror.url)), 'the refresh the online call started ending');
    });
  });

  test('issue 11: initialize refuses plain http to another host and a root.json that did not sign the mirror, and keeps the mirror in use', async () => {
    await withMirror(async (_tuf, mirror) => {
      const { env, tufRoot } = user();
      const plain = await run(['initialize', '--mirror', 'http://tuf.example.invalid/tuf'], env, repo.dir);
      assert.equal(plain.status, 1);
      assert.match(plain.stderr, /TUF mirror http:\/\/tuf\.example\.invalid is plain http to another machine/);
      const stranger = new TufRepository();
      const rootFile = join(work, 'stranger-root.json');
      writeFileSync(rootFile, stranger.root);
      const wrong = await run(['initialize', '--mirror', mirror.url, '--root', rootFile], env, repo.dir);
      assert.equal(wrong.status, 1);
      assert.match(wrong.stderr, /gitsign: refreshing the trusted root from the TUF repository http:\/\/127\.0\.0\.1:\d+\/tuf: .*/);
      assert.equal(existsSync(join(tufRoot, 'remote.json')), false, 'the failed mirror is not the one in use');
      const noRoot = await run(['initialize', '--mirror', mirror.url], env, repo.dir);
      assert.equal(noRoot.status, 1);
      assert.match(noRoot.stderr, /give its trusted initial root\.json with --root/);
      // The right root, by URL (http to this machine is allowed): the mirror is in use.
      const byUrl = await run(['initialize', '--mirror', mirror.url, '--root', `${mirror.url}/1.root.json`], env, repo.dir);
      assert.equal(byUrl.status, 0, byUrl.stderr);
      assert.equal(verifyJson(env).trustRoot?.mirror, mirror.url);
    });
  });

  test('issue 11: a symlink planted at the cached trusted root is not followed', async () => {
    await withMirror(async (tuf, mirror) => {
      const { env, cache } = user();
      await initialize(env, mirror, tuf);
      const copy = join(mirrorDir(cache, mirror.url), 'trusted_root.json');
      rmSync(copy);
      symlinkSync(sb.env.GITSIGN_TRUSTED_ROOT, copy);
      const r = verifyJson(env, ['--offline']);
      assert.equal(r.verified, false);
      assert.match(r.stderr, /no trusted root from the TUF mirror http:\/\/127\.0\.0\.1:\d+\/tuf yet/);
    }, publicGoodRoot);
  });

  test('issue 11: a refresh is due after a day or at expiry; after failures it waits 1 h, 2 h, 4 h ... at most a day', () => {
    const now = Date.parse('2026-06-01T12:00:00Z');
    const iso = (ms: number): string => new Date(ms).toISOString();
    assert.equal(refreshDue({}, now), true);
    assert.equal(refreshDue({ lastSuccess: iso(now - 3600_000) }, now), false);
    assert.equal(refreshDue({ lastSuccess: iso(now - DAY) }, now), true);
    assert.equal(refreshDue({ lastSuccess: iso(now - 3600_000), metadataExpires: iso(now - 1) }, now), true);
    assert.equal(refreshDue({ lastSuccess: iso(now + DAY) }, now), true, 'a last success in the future (a clock set back) is no reason to wait');
    assert.deepEqual([1, 2, 3, 4, 5, 6, 40].map(backoffMs), [1, 2, 4, 8, 16, 24, 24].map((h) => h * 3600_000));
    assert.equal(refreshDue({ lastFailure: iso(now - 59 * 60_000), failures: 1 }, now), false);
    assert.equal(refreshDue({ lastFailure: iso(now - 61 * 60_000), failures: 1 }, now), true);
    assert.equal(refreshDue({ lastFailure: iso(now - 61 * 60_000), failures: 2 }, now), false);
  });
});
