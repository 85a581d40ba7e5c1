/**
 * The credential cache against other users, for real: the tests run as root, and the hostile side
 * runs as nobody (a Node process started with another uid). Finding 10: gitsign talks only to a
 * daemon of its own user, checked on the connected socket, not on the file. Finding 16: another
 * user cannot jam the daemon, and no connection is held open for long. Finding 13 (socket part): a
 * relative XDG_CACHE_HOME is ignored.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lchownSync, mkdirSync, symlinkSync } from 'node:fs';
import { userInfo } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CacheClient } from '../src/cache/client';
import { GobEncoder } from '../src/cache/gob/encoder';
import { encodeCall, encodeReply, GET_CREDENTIAL, GET_CREDENTIAL_REQUEST } from '../src/cache/rpc';
import { loadPeerCheck } from '../src/cache/peer';
import { defaultSocketPath, userCacheDir } from '../src/cache/socketPath';
import { toWire } from '../src/sign/cachedCredential';
import { Certificate } from '../src/x509/certificate';
import { CACHE_BIN, errorReply, holdOpen, type OtherUser, replies, runAs, serves, startDaemon } from './helpers/cacheDaemon';
import { countingOpener, gitAsync, loginRepo, mintToken, removeDir, type SigningSandbox, signingCertificates, startSigningSandbox, tempDir } from './helpers/signingSandbox';
import { certify } from './sandbox/support';

const NOBODY = 65534;
const KEY = 'host@/repo';
const MISS = { ok: false, why: `"${KEY}" not found`, answered: true };
let sb: SigningSandbox;
let work: string;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'these tests play another user through setuid: run them as root');
  sb = await startSigningSandbox();
  work = tempDir();
  chmodSync(work, 0o755); // so that nobody can reach the directories made for it below
});

after(async () => {
  await sb?.stop();
  removeDir(work);
});

let n = 0;
/** A fresh directory of ours, 0700. */
function ownDir(): string {
  const dir = join(work, `d${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** A good credential of the sandbox: a cache that returned it would be believed by gitsign. */
async function goodCredential(): Promise<{ wire: ReturnType<typeof toWire>; fingerprint: string }> {
  const token = mintToken(sb.dir, 'sandbox-user@example.com');
  const id = await certify(sb.env.GITSIGN_FULCIO_URL, token, 'sandbox-user@example.com');
  const certificate = new Certificate(id.chain[0]);
  const { createHash } = await import('node:crypto');
  return { wire: toWire({ privateKey: id.key, certificate, chain: id.chain.slice(1) }), fingerprint: createHash('sha256').update(id.chain[0]).digest('hex') };
}

/**
 * A "daemon" of nobody that answers every connection at once with `answer` (a reply to gitsign's
 * first call, in the protocol) and reports each byte it
 * receives. By default its socket lies in a directory of ours (0777 only while nobody binds) and
 * its socket file is then given to us, as if the file had been swapped between our lstat and our
 * connect: the path and the file's owner are right, only the listener is not. With `inNobodysDir`
 * the directory stays nobody's.
 */
async function foreignDaemon(answer: ReturnType<typeof toWire> | null, inNobodysDir = false): Promise<{ socket: string; other: OtherUser; received: () => number }> {
  const dir = join(work, `f${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  if (inNobodysDir) chownSync(dir, NOBODY, NOBODY);
  else chmodSync(dir, 0o777);
  const socket = join(dir, 'cache.sock');
  const script = `const [path, answer] = process.argv.slice(1);
require('node:net').createServer((s) => {
  s.on('error', () => undefined);
  s.on('data', (d) => console.log('received ' + d.length));
  s.write(Buffer.from(answer, 'hex'));
}).listen(path, () => console.log('listening'));`;
  const reply = encodeReply(new GobEncoder(), GET_CREDENTIAL, 0n, answer ? { credential: answer } : { error: 'not found' });
  const other = runAs(NOBODY, script, [socket, reply.toString('hex')]);
  await other.line(/^listening$/);
  if (!inNobodysDir) {
    chmodSync(dir, 0o700);
    chownSync(socket, 0, 0);
  }
  const received = (): number => other.lines.filter((l) => l.startsWith('received')).length;
  return { socket, other, received };
}

describe('finding 10: gitsign checks who listens on the socket', () => {
  test('finding 10: a daemon of another uid behind a socket file we own gets nothing and is not believed', async () => {
    assert.ok('addon' in loadPeerCheck(), 'dist/peercred.node is not built: the peer check under test is absent');
    const { wire } = await goodCredential();
    const foreign = await foreignDaemon(wire);
    const warnings: string[] = [];
    try {
      const client = new CacheClient(foreign.socket, { onRefused: (why) => warnings.push(why) });
      const why = `the daemon on ${foreign.socket} runs as uid ${NOBODY}, not as us (uid 0)`;
      assert.deepEqual(await client.get(KEY), { ok: false, why, refused: true });
      assert.deepEqual(await client.store(KEY, wire), { ok: false, why, refused: true });
      assert.deepEqual(warnings, [why], 'told once per client');
      // Nothing of ours was sent: not the request, not the credential offered by store. (A line of
      // our own shows that what reaches the foreign daemon is seen.)
      const marker = connect(foreign.socket);
      marker.on('error', () => undefined);
      marker.write('marker\n');
      await foreign.other.line(/^received/);
      marker.destroy();
      assert.equal(foreign.received(), 1, 'more than our marker reached the foreign daemon');
    } finally {
      await foreign.other.stop();
    }
  });

  test('finding 10: signing through a foreign daemon logs in afresh and never uses its credential', async () => {
    const { wire, fingerprint } = await goodCredential();
    const foreign = await foreignDaemon(wire);
    const dir = ownDir();
    const opener = countingOpener(dir);
    const repo = loginRepo(sb, { GITSIGN_TOKEN_PROVIDER: 'interactive', GITSIGN_URL_OPENER: opener.urlOpener, GITSIGN_CREDENTIAL_CACHE: foreign.socket });
    try {
      const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'signed past a foreign cache']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(opener.count(), 1, 'a fresh login');
      const [used] = signingCertificates(repo, 'HEAD');
      assert.notEqual(used, fingerprint, "the foreign daemon's certificate signed");
      assert.equal(repo.git('log', '-1', '--format=%G?').trim(), 'G');
      assert.equal(foreign.received(), 0, 'the foreign daemon got a request or our new credential');
    } finally {
      repo.remove();
      await foreign.other.stop();
    }
  });

  test('finding 10: without the peercred helper, a socket is used only on a path no one else can change', async () => {
    const noAddon = { peerCheck: { reason: 'not built (test)' } };
    const dir = join(ownDir(), 'gitsign');
    const socket = join(dir, 'cache.sock');
    const daemon = await startDaemon(['--socket', socket]);
    const foreign = await foreignDaemon(null, true);
    try {
      // Ours, under directories of ours or root's (and sticky /tmp): used.
      assert.deepEqual(await new CacheClient(socket, noAddon).get(KEY), MISS);
      // A directory on the way that others may write: they could swap the socket after our check.
      chmodSync(join(dir, '..'), 0o777);
      assert.deepEqual(await new CacheClient(socket, noAddon).get(KEY), { ok: false, why: `${join(dir, '..')} is writable by other users`, refused: true });
      chmodSync(join(dir, '..'), 0o700);
      // A link of another user on the way: they choose where it points.
      const link = join(ownDir(), 'link');
      symlinkSync(dir, link);
      lchownSync(link, NOBODY, NOBODY);
      assert.deepEqual(await new CacheClient(join(link, 'cache.sock'), noAddon).get(KEY), { ok: false, why: `${link} belongs to uid ${NOBODY}, not us`, refused: true });
      // A link of ours to our socket is followed and checked like the path itself.
      const ownLink = join(ownDir(), 'link');
      symlinkSync(dir, ownLink);
      assert.deepEqual(await new CacheClient(join(ownLink, 'cache.sock'), noAddon).get(KEY), MISS);
      // The foreign daemon's socket lies in nobody's directory: refused before connecting.
      assert.deepEqual(await new CacheClient(foreign.socket, noAddon).get(KEY), { ok: false, why: `${join(foreign.socket, '..')} belongs to uid ${NOBODY}, not us`, refused: true });
      assert.equal(foreign.received(), 0);
      // Nothing there is not a refusal (no warning), only no cache.
      assert.deepEqual(await new CacheClient(join(dir, 'missing.sock'), noAddon).get(KEY), { ok: false, why: `${join(dir, 'missing.sock')}: ENOENT`, refused: false });
    } finally {
      await daemon.stop();
      await foreign.other.stop();
    }
  });
});

describe('finding 16: the daemon cannot be jammed', () => {
  test('finding 16: 100 connections of another user held open are closed at once; the owner is still served', async () => {
    const socket = join(ownDir(), 'gitsign', 'cache.sock');
    const daemon = await startDaemon(['--socket', socket]);
    // Let nobody reach the socket, as a careless setup or a forwarded socket would.
    chmodSync(join(socket, '..'), 0o755);
    chmodSync(join(socket, '..', '..'), 0o755);
    chmodSync(socket, 0o666);
    // Never ends nor destroys a connection (allowHalfOpen: the daemon's end does not close ours), and
    // after the daemon's end of stream keeps writing, which fails only once the daemon let go.
    const script = `const path = process.argv[1];
let connected = 0, closed = 0, forbidden = 0;
const held = [];
for (let i = 0; i < 100; i++) {
  const s = require('node:net').connect({ path, allowHalfOpen: true });
  held.push(s);
  s.on('connect', () => { if (++connected === 100) console.log('connected'); });
  s.on('data', (d) => { if (String(d).includes('serves only its own user')) forbidden++; });
  s.on('end', () => { const probe = setInterval(() => s.writable && s.write(' '), 100); s.on('close', () => clearInterval(probe)); });
  s.on('error', () => undefined);
  s.on('close', () => { if (++closed === 100) console.log(JSON.stringify({ closed, forbidden })); });
}
setTimeout(() => { console.log(JSON.stringify({ closed, forbidden })); process.exit(0); }, 15000);`;
    const attacker = runAs(NOBODY, script, [socket]);
    try {
      await attacker.line(/^connected$/);
      assert.ok(await serves(socket));
      assert.deepEqual(JSON.parse(await attacker.line(/^\{/, 20_000)), { closed: 100, forbidden: 100 });
      assert.equal(daemon.proc.exitCode, null);
    } finally {
      await attacker.stop();
      await daemon.stop();
    }
  });

  test('finding 16: idle, dripping and unread connections are closed after --connection-timeout (--idle-timeout once answered); the slots come back', async () => {
    const socket = join(ownDir(), 'gitsign', 'cache.sock');
    const daemon = await startDaemon(['--socket', socket, '--connection-timeout', '0.5', '--idle-timeout', '0.5']);
    try {
      const [idle, drip, ...more] = await Promise.all([
        holdOpen(socket),
        holdOpen(socket, { drip: 'x' }), // one byte every 200 ms: a message of 120 bytes ("x") that never ends
        // With these, every one of the 64 slots is taken: without a deadline the owner stays locked out.
        ...Array.from({ length: 62 }, () => holdOpen(socket)),
      ]);
      for (const [what, r] of [['idle', idle], ['drip', drip]] as const) {
        assert.equal(r.closedByDaemon, true, `${what} connection still open`);
        assert.equal(errorReply(r.answer), 'gitsign-credential-cache: no complete request within 0.5 s', what);
      }
      assert.ok(more.every((r) => r.closedByDaemon));
      // A client that gets its answer but never closes its side is let go too.
      const answered = await holdOpen(socket, { first: encodeCall(new GobEncoder(), GET_CREDENTIAL, 3n, GET_CREDENTIAL_REQUEST, { ID: KEY }) });
      assert.equal(answered.closedByDaemon, true);
      assert.deepEqual(replies(answered.answer), [{ method: GET_CREDENTIAL, seq: 3, error: `"${KEY}" not found` }]);
      assert.ok(await serves(socket));
    } finally {
      await daemon.stop();
    }
  });

  test('finding 16: --connection-timeout takes seconds from 0.1 to 600, --idle-timeout from 0.1 to 3600', () => {
    for (const bad of ['0', '0.05', '601', 'abc', '1e3', '-1', '']) {
      const r = spawnSync(process.execPath, [CACHE_BIN, '--socket', join(work, 'never.sock'), `--connection-timeout=${bad}`], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--connection-timeout: ".*" is not a number of seconds from 0\.1 to 600/);
    }
    for (const bad of ['0', '3601', 'x']) {
      const r = spawnSync(process.execPath, [CACHE_BIN, '--socket', join(work, 'never.sock'), `--idle-timeout=${bad}`], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--idle-timeout: ".*" is not a number of seconds from 0\.1 to 3600/);
    }
    assert.equal(existsSync(join(work, 'never.sock')), false);
  });
});

describe('finding 13: the cache socket ignores relative XDG paths', () => {
  test('finding 13: a relative XDG_CACHE_HOME or HOME is ignored for the default socket', () => {
    const home = userInfo().homedir;
    assert.equal(defaultSocketPath({ XDG_CACHE_HOME: '/abs/cache', HOME: '/home/u' }), '/abs/cache/sigstore/gitsign/cache.sock');
    for (const rel of ['cache', './cache', '../cache', '.']) {
      assert.equal(defaultSocketPath({ XDG_CACHE_HOME: rel, HOME: '/home/u' }), '/home/u/.cache/sigstore/gitsign/cache.sock', rel);
      assert.equal(defaultSocketPath({ XDG_CACHE_HOME: rel, HOME: rel }), join(home, '.cache', 'sigstore', 'gitsign', 'cache.sock'), rel);
      assert.equal(userCacheDir({ XDG_CACHE_HOME: '/abs', HOME: rel }, 'darwin'), join(home, 'Library', 'Caches'), rel);
    }
  });

  test('finding 13: the daemon started in a repository with XDG_CACHE_HOME=cache does not listen inside it', async () => {
    const repo = ownDir();
    const home = ownDir();
    const env = { XDG_CACHE_HOME: 'cache', HOME: home, GITSIGN_CREDENTIAL_CACHE: '' };
    const daemon = await startDaemon([], { env, cwd: repo });
    try {
      assert.equal(daemon.stdout, `${join(home, '.cache', 'sigstore', 'gitsign', 'cache.sock')}\n`);
      assert.equal(existsSync(join(repo, 'cache')), false);
    } finally {
      await daemon.stop();
    }
  });
});
