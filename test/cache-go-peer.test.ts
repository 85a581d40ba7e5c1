/**
 * The credential cache against Go itself (test/go/cachepeer: Go's net/rpc and gob with gitsign's
 * types): our client with a Go daemon (store, get, miss, our Config as Go reads it, and real
 * commits signed through it), a Go client with our daemon (one connection carrying get, store and
 * get as gitsign's signing does), hostile peers answered while the daemon keeps serving Go, and
 * doctor's probe of a Go daemon.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CacheClient } from '../src/cache/client';
import { GobWriter } from '../src/cache/gob/wire';
import { goConfig, type WireCredential } from '../src/cache/rpc';
import { loadConfig } from '../src/config/config';
import { checkCache } from '../src/doctor/cache';
import { toWire } from '../src/sign/cachedCredential';
import { Certificate } from '../src/x509/certificate';
import { errorReply, rawExchange, startDaemon } from './helpers/cacheDaemon';
import { type GoDaemon, jsonLines, runGo, startGoDaemon } from './helpers/goPeer';
import { countingOpener, gitAsync, loginRepo, mintToken, signingCertificates, signingSandboxPerFile } from './helpers/signingSandbox';
import { certify } from './sandbox/support';

const ctx = signingSandboxPerFile();

let n = 0;
/** A socket path in a fresh 0700 directory. */
function socketPath(): string {
  const dir = join(ctx.work, `s${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  return join(dir, 'cache.sock');
}

/** A fresh sandbox credential (our daemon keeps only a certificate with its key), and its three PEM files for the Go client. */
async function credential(): Promise<{ wire: WireCredential; files: string[] }> {
  const id = await certify(ctx.sb.env.GITSIGN_FULCIO_URL, mintToken(ctx.sb.dir, 'sandbox-user@example.com'), 'sandbox-user@example.com');
  const wire = toWire({ privateKey: id.key, certificate: new Certificate(id.chain[0]), chain: id.chain.slice(1) });
  const dir = join(ctx.work, `c${++n}`);
  mkdirSync(dir);
  const files = (['privateKey', 'cert', 'chain'] as const).map((k) => {
    writeFileSync(join(dir, k), wire[k]);
    return join(dir, k);
  });
  return { wire, files };
}

const text = (c: WireCredential): Record<string, string> => ({ privateKey: c.privateKey.toString(), cert: c.cert.toString(), chain: c.chain.toString() });

async function withGoDaemon(run: (socket: string, daemon: GoDaemon) => Promise<void>): Promise<void> {
  const socket = socketPath();
  const daemon = await startGoDaemon(socket);
  try {
    await run(socket, daemon);
  } finally {
    await daemon.stop();
  }
}

describe('our client, a Go daemon', () => {
  test('store then get returns the credential byte for byte; a miss is the Go daemon\'s "not found"', async () => {
    const { wire } = await credential();
    await withGoDaemon(async (socket, daemon) => {
      const client = new CacheClient(socket);
      assert.deepEqual(await client.get('host@/repo'), { ok: false, why: '"host@/repo" not found', answered: true });
      assert.deepEqual(await client.store('host@/repo', wire), { ok: true, value: null });
      const got = await client.get('host@/repo');
      assert.ok(got.ok);
      assert.deepEqual(text(got.value), text(wire));
      // go-cache's Add refuses a second store under the same ID: an answer, not a broken connection.
      assert.deepEqual(await client.store('host@/repo', wire), { ok: false, why: 'Item host@/repo already exists', answered: true });
      assert.deepEqual(
        (await daemon.events(4)).map((e) => [e.event, e.id]),
        [
          ['get', 'host@/repo'],
          ['store', 'host@/repo'],
          ['get', 'host@/repo'],
          ['store', 'host@/repo'],
        ],
      );
    });
  });

  test('our Config reaches Go as gitsign\'s config.Config, every field in its Go type', async () => {
    await withGoDaemon(async (socket, daemon) => {
      const cfg = { ...loadConfig({ ...ctx.sb.env, GITSIGN_MATCH_COMMITTER: 'true', GITSIGN_REKOR_VERSION: '2', GITSIGN_AUTOCLOSE_TIMEOUT: '9', GITSIGN_URL_OPENER: 'firefox {{.URL}}' }, ctx.work), matchCommitter: true };
      const r = await new CacheClient(socket).get('host@/miss', goConfig(cfg));
      assert.equal(r.ok, false);
      assert.match((r as { why: string }).why, /^cachepeer cannot log in \(the Config for .* arrived\)$/);
      const [get] = (await daemon.events(1)) as { config: Record<string, unknown> }[];
      const expected = Object.fromEntries(Object.entries(goConfig(cfg)).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
      assert.deepEqual(get.config, expected);
      assert.equal(get.config.Fulcio, ctx.sb.env.GITSIGN_FULCIO_URL);
      assert.equal(get.config.RekorVersion, 2);
      assert.equal(get.config.MatchCommitter, true);
    });
  });

  test('git commit -S through a Go daemon: the first commit logs in and stores there, the next ones use its credential', async () => {
    await withGoDaemon(async (socket, daemon) => {
      const dir = join(ctx.work, `o${++n}`);
      mkdirSync(dir);
      const opener = countingOpener(dir);
      const repo = loginRepo(ctx.sb, { GITSIGN_TOKEN_PROVIDER: 'interactive', GITSIGN_URL_OPENER: opener.urlOpener, GITSIGN_CREDENTIAL_CACHE: socket });
      try {
        for (let i = 0; i < 3; i++) {
          const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', `through Go ${i}`]);
          assert.equal(r.status, 0, r.stderr);
        }
        assert.equal(opener.count(), 1, 'one login for three commits');
        assert.equal(new Set(signingCertificates(repo, 'HEAD')).size, 1);
        assert.deepEqual(new Set(repo.git('log', '--format=%G?').trim().split('\n')), new Set(['G']));
        const id = `${hostname()}@${repo.dir}`;
        // A quick lookup, then (a miss) a lookup with our Config, then the store; then one lookup per commit.
        assert.deepEqual(
          (await daemon.events(5)).map((e) => [e.event, e.id, e.config !== undefined]),
          [
            ['get', id, false],
            ['get', id, true],
            ['store', id, false],
            ['get', id, false],
            ['get', id, false],
          ],
        );
      } finally {
        repo.remove();
      }
    });
  });

  test("doctor's cache check: a Go daemon answers the protocol", async () => {
    await withGoDaemon(async (socket) => {
      const r = await checkCache({ GITSIGN_CREDENTIAL_CACHE: socket });
      assert.equal(r.status, 'ok', r.summary);
      assert.equal(r.summary, `${socket}: our user's daemon answers net/rpc with gob (Go gitsign)`);
    });
  });
});

describe('a Go client, our daemon', () => {
  test('get, store and get on one connection, as gitsign signs: a miss, then the credential byte for byte', async () => {
    const { wire, files } = await credential();
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket, '--no-login']);
    try {
      const r = await runGo(['session', socket, 'host@/repo', ...files]);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(jsonLines(r.stdout), [{ ok: false, error: '"host@/repo" not found' }, { ok: true }, { ok: true, credential: text(wire) }]);
      // A second Go process, a connection of its own: the entry is there; another ID is not.
      const again = await runGo(['get', socket, 'host@/repo']);
      assert.deepEqual(jsonLines(again.stdout), [{ ok: true, credential: text(wire) }]);
      const other = await runGo(['get', socket, 'host@/other']);
      assert.deepEqual(jsonLines(other.stdout), [{ ok: false, error: '"host@/other" not found' }]);
    } finally {
      await daemon.stop();
    }
  });

  test('what our daemon refuses, a Go client reads as an answer: a bad credential, a Config for another Fulcio, --no-login', async () => {
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket], { env: { GITSIGN_FULCIO_URL: 'https://fulcio.ours.example', GITSIGN_OIDC_ISSUER: 'https://issuer.ours.example' }, cwd: ctx.work });
    const noLogin = socketPath();
    const quiet = await startDaemon(['--socket', noLogin, '--no-login']);
    try {
      const junk = join(ctx.work, 'junk');
      writeFileSync(junk, 'not PEM');
      const store = await runGo(['store', socket, 'host@/repo', junk, junk, junk]);
      assert.deepEqual(jsonLines(store.stdout), [{ ok: false, error: 'not stored: the credential is not a PEM certificate with its private key' }]);
      const foreign = await runGo(['get', socket, 'host@/repo', 'https://fulcio.theirs.example', 'https://issuer.ours.example']);
      assert.deepEqual(jsonLines(foreign.stdout), [
        {
          ok: false,
          error:
            '"host@/repo" not found, and no login: not logging in: the client asks for Fulcio "https://fulcio.theirs.example" and issuer "https://issuer.ours.example"; this daemon logs in only for its own, "https://fulcio.ours.example" and "https://issuer.ours.example"',
        },
      ]);
      const off = await runGo(['get', noLogin, 'host@/repo', 'https://fulcio.ours.example', 'https://issuer.ours.example']);
      assert.deepEqual(jsonLines(off.stdout), [{ ok: false, error: '"host@/repo" not found (this daemon does not log in: --no-login)' }]);
    } finally {
      await daemon.stop();
      await quiet.stop();
    }
  });

  test('hostile peers (garbage, an oversized gob message, a half message left hanging) get an error reply; the daemon goes on serving Go', async () => {
    const { wire, files } = await credential();
    const socket = socketPath();
    const daemon = await startDaemon(['--socket', socket, '--no-login', '--connection-timeout', '1']);
    try {
      const stored = await runGo(['store', socket, 'host@/repo', ...files]);
      assert.deepEqual(jsonLines(stored.stdout), [{ ok: true }]);
      const huge = new GobWriter();
      huge.uint(16 * 1024 * 1024);
      const answers = await Promise.all([
        rawExchange(socket, Buffer.from(`GET / HTTP/1.1\r\nHost: cache\r\nUser-Agent: ${'x'.repeat(100)}\r\n\r\n`)),
        rawExchange(socket, Buffer.concat([huge.toBuffer(), Buffer.alloc(256 * 1024, 7)])),
        rawExchange(socket, Buffer.from([0x40, 0xff]), { keepOpen: true }),
      ]);
      assert.match(errorReply(answers[0]), /^gitsign-credential-cache: the credential cache peer sent a malformed message: /);
      assert.equal(errorReply(answers[1]), 'gitsign-credential-cache: the credential cache peer sent a malformed message: a message of 16777216 bytes is more than the 65536 accepted');
      assert.equal(errorReply(answers[2]), 'gitsign-credential-cache: no complete request within 1 s');
      const after = await runGo(['get', socket, 'host@/repo']);
      assert.deepEqual(jsonLines(after.stdout), [{ ok: true, credential: text(wire) }]);
      assert.equal(daemon.proc.exitCode, null);
    } finally {
      await daemon.stop();
    }
  });
});
