/**
 * gitsign-credential-cache with real git against the sandbox: a 20-commit rebase with one login, a
 * daemon killed mid-session, dead and hung daemons, other users refused, malformed requests, systemd
 * socket activation, and the client's checks of what the cache returns. The protocol is Go
 * gitsign's (net/rpc with gob); cache-go-peer.test.ts runs it against Go itself.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CacheClient } from '../src/cache/client';
import { serveConnection } from '../src/cache/connection';
import { GobEncoder } from '../src/cache/gob/encoder';
import { GobWriter } from '../src/cache/gob/wire';
import { encodeCall, GET_CREDENTIAL, GET_CREDENTIAL_REQUEST, STORE_CREDENTIAL, STORE_CREDENTIAL_REQUEST, type WireCredential } from '../src/cache/rpc';
import { loadConfig } from '../src/config/config';
import { fromCache, toWire } from '../src/sign/cachedCredential';
import { loadTrust, trustOptionsFromConfig } from '../src/trust/trustMaterial';
import { Certificate } from '../src/x509/certificate';
import { CACHE_BIN, type Daemon, errorReply, rawExchange, serves, startDaemon } from './helpers/cacheDaemon';
import type { TempRepo } from './helpers/gitRepo';
import { BIN } from './helpers/paths';
import { countingOpener, gitAsync, loginRepo, removeDir, type SigningSandbox, signingCertificates, startSigningSandbox, tempDir } from './helpers/signingSandbox';
import { certify } from './sandbox/support';

const NOBODY = 65534;
let sb: SigningSandbox;
let work: string;

before(async () => {
  sb = await startSigningSandbox();
  work = tempDir();
  chmodSync(work, 0o755); // so that another user can reach the sockets the tests open up on purpose
});

after(async () => {
  await sb?.stop();
  removeDir(work);
});

let n = 0;
/** A socket path in its own fresh directory. */
function socketPath(): string {
  const dir = join(work, `d${++n}`, 'gitsign');
  return join(dir, 'cache.sock');
}

/** A repository that logs in through a counting opener and uses the cache at `socket`. */
function cachedRepo(socket: string): { repo: TempRepo; logins: () => number } {
  const dir = join(work, `o${++n}`);
  mkdirSync(dir);
  const opener = countingOpener(dir);
  const repo = loginRepo(sb, { GITSIGN_TOKEN_PROVIDER: 'interactive', GITSIGN_URL_OPENER: opener.urlOpener, GITSIGN_CREDENTIAL_CACHE: socket });
  return { repo, logins: opener.count };
}

async function commits(repo: TempRepo, count: number, label: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', `${label} ${i}`]);
    assert.equal(r.status, 0, r.stderr);
  }
}

describe('signing through the cache', () => {
  test('a rebase re-signing 20 commits logs in once; all 20 signatures carry one certificate', async (t) => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket]);
    const { repo, logins } = cachedRepo(socket);
    try {
      repo.git('commit', '--allow-empty', '-q', '-m', 'base');
      for (let i = 0; i < 20; i++) repo.git('commit', '--allow-empty', '-q', '-m', `change ${i}`);
      const r = await gitAsync(repo, ['rebase', '-q', '--force-rebase', '--gpg-sign', 'HEAD~20']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(logins(), 1);
      const certs = signingCertificates(repo, 'HEAD~20..HEAD');
      assert.equal(certs.length, 20);
      assert.equal(new Set(certs).size, 1);
      assert.deepEqual(new Set(repo.git('log', '--format=%G?', 'HEAD~20..HEAD').trim().split('\n')), new Set(['G']));
      // Cached under gitsign's ID for the repository: this host and the directory git signed in.
      const entry = await new CacheClient(socket).get(`${hostname()}@${repo.dir}`);
      assert.ok(entry.ok, JSON.stringify(entry));
      t.diagnostic(`rebase of 20 signed commits through the cache: ${r.ms.toFixed(0)} ms, ${logins()} login`);
    } finally {
      await daemon.stop();
      repo.remove();
    }
  });

  test('a daemon killed mid-session costs one extra login and no failure', async () => {
    const socket = socketPath();
    let daemon: Daemon = await startDaemon(['--socket', socket]);
    const { repo, logins } = cachedRepo(socket);
    try {
      await commits(repo, 5, 'before');
      assert.equal(logins(), 1);
      await daemon.stop('SIGKILL'); // leaves its socket file behind
      daemon = await startDaemon(['--socket', socket]); // a supervisor restarts it
      await commits(repo, 5, 'after');
      assert.equal(logins(), 2);
      assert.equal(new Set(signingCertificates(repo, 'HEAD')).size, 2);
    } finally {
      await daemon.stop();
      repo.remove();
    }
  });

  // A hung daemon would hang the commit without the client's 1 s bound: the test's timeout catches
  // that (a time limit on the commit itself failed on a busy machine: 5.8 s for a normal signature).
  test('a dead daemon (stale socket) or a hung one never blocks a commit', { timeout: 120_000 }, async (t) => {
    const dead = socketPath();
    const daemon = await startDaemon(['--socket', dead]);
    await daemon.stop('SIGKILL');
    const hung = socketPath();
    mkdirSync(join(hung, '..'), { recursive: true, mode: 0o700 });
    const silent = createServer(() => undefined).listen(hung); // accepts, never answers
    try {
      for (const socket of [dead, hung]) {
        const { repo, logins } = cachedRepo(socket);
        try {
          const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'no cache']);
          assert.equal(r.status, 0, r.stderr);
          assert.equal(logins(), 1);
          // Two bounded calls (get, store) at most on top of a normal signature.
          t.diagnostic(`commit past a ${socket === dead ? 'dead' : 'hung'} daemon: ${r.ms.toFixed(0)} ms`);
        } finally {
          repo.remove();
        }
      }
    } finally {
      silent.close();
    }
  });
});

describe('the daemon', () => {
  test('socket and directory modes; --version; the path on stdout', async () => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket]);
    try {
      assert.equal(daemon.stdout, `${socket}\n`);
      assert.equal(statSync(join(socket, '..')).mode & 0o777, 0o700);
      assert.equal(statSync(socket).mode & 0o777, 0o600);
      const v = spawnSync(process.execPath, [CACHE_BIN, '--version'], { encoding: 'utf8' });
      assert.match(v.stdout, /^gitsign-credential-cache version \d+\.\d+\.\d+/);
      const second = spawnSync(process.execPath, [CACHE_BIN, '--socket', socket], { encoding: 'utf8' });
      assert.equal(second.status, 1);
      assert.match(second.stderr, /already listening/);
    } finally {
      await daemon.stop();
    }
  });

  // The other user only listens: a refused connection is closed at once, so a request it wrote could
  // meet EPIPE before the refusal is read.
  test('another user is kept out: by the directory, and by peer credentials when it gets through', async () => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket]);
    const asNobody = (): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, ['-e', `const s=require('net').connect(${JSON.stringify(socket)});s.on('error',e=>console.log(e.code));s.on('data',d=>process.stdout.write(d.toString('hex')));`], {
        uid: NOBODY,
        gid: NOBODY,
        cwd: '/',
        encoding: 'utf8',
      });
    try {
      assert.equal(asNobody().stdout.trim(), 'EACCES');
      // Open the directory and socket to everyone, as a careless setup or a forwarded socket would.
      chmodSync(join(socket, '..'), 0o755);
      chmodSync(join(socket, '..', '..'), 0o755);
      chmodSync(socket, 0o666);
      // An error reply, as net/rpc gives: a Go client sees it as the answer to its first call.
      assert.equal(errorReply(Buffer.from(asNobody().stdout, 'hex')), 'gitsign-credential-cache: this credential cache serves only its own user');
      assert.ok(await serves(socket));
    } finally {
      await daemon.stop();
    }
  });

  test('gitsign never talks to a socket another user owns', async () => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket]);
    try {
      chownSync(socket, NOBODY, NOBODY);
      const r = await new CacheClient(socket).get('h@/r');
      assert.deepEqual(r, { ok: false, why: `${socket} belongs to uid ${NOBODY}, not us`, refused: true });
    } finally {
      await daemon.stop();
    }
  });

  test('malformed requests (truncated, huge, binary, not gob, wrong types, unknown methods, bad credentials, idle) are answered, never fatal', async () => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket]);
    try {
      const idle = rawExchange(socket, '', { keepOpen: true, timeoutMs: 10_000 });
      const call = (method: string, arg: Parameters<typeof encodeCall>[4], argType = GET_CREDENTIAL_REQUEST): Buffer => encodeCall(new GobEncoder(), method, 5n, argType, arg);
      const get = call(GET_CREDENTIAL, { ID: 'h@/r' });
      const notUtf8 = Buffer.from(get.toString('hex').replace(Buffer.from('h@/r').toString('hex'), 'c328ff2f'), 'hex');
      const length = (n: number): Buffer => {
        const w = new GobWriter();
        w.uint(n);
        return w.toBuffer();
      };
      const storeBad = call(STORE_CREDENTIAL, { ID: 'h@/r', Credential: { PrivateKey: Buffer.from('x'), Cert: Buffer.from('y') } }, STORE_CREDENTIAL_REQUEST);
      const cases: [string | Buffer, RegExp][] = [
        [get.subarray(0, get.length - 3), /the connection ended inside a request$/], // truncated: the client ends early
        [Buffer.concat([length(4 * 1024 * 1024), Buffer.alloc(100)]), /a message of 4194304 bytes is more than the 65536 accepted$/],
        [Buffer.alloc(4 * 1024 * 1024, 0x41), /a type definition for id 33 \(defined ids are 64 and up\)$/],
        [Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x0a]), /the connection ended inside a request$/],
        ['{"v":1,"op":"ping"}\n', /the connection ended inside a request$/], // the old JSON protocol: 123 bytes announced ("{")
        [Buffer.from('{"v":1,"op":"ping","padding":"' + 'x'.repeat(200) + '"}\n'), /the message holds a type 17, not a struct$/],
        [notUtf8, /a string is not UTF-8$/],
        [call('Service.DeleteEverything', { ID: 'h@/r' }), /^rpc: can't find method Service.DeleteEverything$/],
        [call('Other.GetCredential', { ID: 'h@/r' }), /^rpc: can't find service Other.GetCredential$/],
        [call('nodot', { ID: 'h@/r' }), /^rpc: service\/method request ill-formed: nodot$/],
        [storeBad, /^not stored: the credential is not a PEM certificate with its private key$/],
        [call(STORE_CREDENTIAL, { ID: 'h@/r' }, STORE_CREDENTIAL_REQUEST), /^no credential to store for "h@\/r"$/],
        [get, /^"h@\/r" not found$/],
      ];
      const answers = await Promise.all(cases.map(([data]) => rawExchange(socket, data)));
      answers.forEach((a, i) => assert.match(errorReply(a), cases[i][1], `case ${i}`));
      // 200 connections of random bytes at once.
      await Promise.all(Array.from({ length: 200 }, (_, i) => rawExchange(socket, Buffer.from(Array.from({ length: 50 + i }, () => Math.floor(Math.random() * 256)))).catch(() => Buffer.alloc(0))));
      assert.ok(await serves(socket));
      assert.match(errorReply(await idle), /^gitsign-credential-cache: no complete request within 5 s$/);
      assert.equal(daemon.proc.exitCode, null);
    } finally {
      await daemon.stop();
    }
  });

  test('systemd socket activation: serves the listening socket passed as fd 3', async () => {
    const socket = socketPath();
    mkdirSync(join(socket, '..'), { recursive: true, mode: 0o700 });
    // What systemd does: bind and listen, put the socket at fd 3, set LISTEN_PID/LISTEN_FDS, exec.
    const launcher = [
      'import os, socket, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      's.bind(sys.argv[1]); s.listen(16)',
      'if s.fileno() != 3: os.dup2(s.fileno(), 3)',
      'os.set_inheritable(3, True)',
      'os.environ["LISTEN_PID"] = str(os.getpid()); os.environ["LISTEN_FDS"] = "1"',
      'os.execv(sys.argv[2], sys.argv[2:])',
    ].join('\n');
    writeFileSync(join(work, 'activate.py'), launcher);
    const daemon = await startDaemon(['--systemd-socket-activation'], { command: ['python3', join(work, 'activate.py'), socket, process.execPath, CACHE_BIN] });
    try {
      assert.equal(daemon.stdout, 'listening on 1 socket(s) from systemd\n');
      assert.ok(await serves(socket));
      const wrongPid = spawnSync(process.execPath, [CACHE_BIN, '--systemd-socket-activation'], { env: { ...process.env, LISTEN_PID: '1', LISTEN_FDS: '1' }, encoding: 'utf8' });
      assert.equal(wrongPid.status, 2);
      assert.match(wrongPid.stderr, /LISTEN_PID 1 is not this process/);
    } finally {
      await daemon.stop();
    }
  });
});

describe('what gitsign accepts from the cache', () => {
  test('a credential is used only if its key matches, its chain is trusted and 30 s of validity are left', async () => {
    const cfg = loadConfig({ ...sb.env }, work);
    const trust = (await loadTrust(trustOptionsFromConfig(cfg, { offline: true }, sb.env))).material;
    const token = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', sb.dir], { encoding: 'utf8' }).stdout.trim();
    const id = await certify(sb.env.GITSIGN_FULCIO_URL, token, 'sandbox-user@example.com');
    const other = await certify(sb.env.GITSIGN_FULCIO_URL, token, 'sandbox-user@example.com');
    const good = toWire({ privateKey: id.key, certificate: new Certificate(id.chain[0]), chain: id.chain.slice(1) });
    const foreignKey = { ...good, privateKey: toWire({ privateKey: other.key, certificate: new Certificate(other.chain[0]), chain: [] }).privateKey };
    // A stand-in daemon (the product's connection code) that answers every call with the credential under test.
    let answer: WireCredential = good;
    const socket = socketPath();
    mkdirSync(join(socket, '..'), { recursive: true, mode: 0o700 });
    const fake = createServer((s) => serveConnection(s, async () => ({ credential: answer }), { requestMs: 5_000, idleMs: 5_000 })).listen(socket);
    try {
      const client = new CacheClient(socket);
      const used = async (now?: number): Promise<boolean> => (await fromCache(client, cfg, trust, process.env, now)).credential !== null;
      const notAfter = new Certificate(id.chain[0]).notAfter.getTime();
      assert.ok(await used());
      assert.equal(await used(notAfter - 29_000), false, 'less than 30 s left');
      assert.ok(await used(notAfter - 31_000));
      answer = foreignKey;
      assert.equal(await used(), false, 'key of another certificate');
      answer = { ...good, cert: Buffer.from(good.chain.toString().split('-----END CERTIFICATE-----')[0] + '-----END CERTIFICATE-----\n') };
      assert.equal(await used(), false, 'a CA certificate as the leaf');
      answer = { privateKey: Buffer.from('garbage'), cert: Buffer.from('garbage'), chain: Buffer.alloc(0) };
      assert.equal(await used(), false, 'garbage');
      const otherRoot = loadConfig({ ...sb.env, GITSIGN_TRUSTED_ROOT: '' }, work);
      answer = good;
      const publicGood = (await loadTrust(trustOptionsFromConfig({ ...otherRoot, fulcioRoot: '' }, { offline: true }, {}))).material;
      assert.equal((await fromCache(client, cfg, publicGood)).credential, null, 'a chain the trust root does not know');
    } finally {
      fake.close();
    }
  });

  test("entries are found by gitsign's ID (host@directory), as Go's daemon keys them; a second store replaces the first", async () => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket]);
    try {
      const token = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', sb.dir], { encoding: 'utf8' }).stdout.trim();
      const credential = async (): Promise<WireCredential> => {
        const id = await certify(sb.env.GITSIGN_FULCIO_URL, token, 'sandbox-user@example.com');
        return toWire({ privateKey: id.key, certificate: new Certificate(id.chain[0]), chain: id.chain.slice(1) });
      };
      const [first, second] = [await credential(), await credential()];
      const client = new CacheClient(socket);
      assert.deepEqual(await client.store('host@/repo', first), { ok: true, value: null });
      assert.deepEqual(await client.get('host@/repo'), { ok: true, value: first });
      for (const other of ['host@/other', 'other-host@/repo', 'host@/repo/']) {
        assert.deepEqual(await client.get(other), { ok: false, why: `"${other}" not found`, answered: true }, other);
      }
      assert.deepEqual(await client.store('host@/repo', second), { ok: true, value: null });
      assert.deepEqual(await client.get('host@/repo'), { ok: true, value: second });
    } finally {
      await daemon.stop();
    }
  });
});

test('the daemon drops an entry when its certificate expires', async () => {
  const { CredentialStore } = await import('../src/cache/store');
  let now = Date.now();
  const store = new CredentialStore(() => now);
  const token = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', sb.dir], { encoding: 'utf8' }).stdout.trim();
  const id = await certify(sb.env.GITSIGN_FULCIO_URL, token, 'sandbox-user@example.com');
  const cert = new Certificate(id.chain[0]);
  const key = 'h@/r';
  store.put(key, toWire({ privateKey: id.key, certificate: cert, chain: id.chain.slice(1) }));
  assert.ok(store.get(key));
  now = cert.notAfter.getTime() + 1;
  assert.equal(store.get(key), null);
  assert.equal(store.size, 0);
  store.clear();
});
