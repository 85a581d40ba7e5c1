/**
 * The daemon's login on a miss, as Go gitsign's daemon logs in since its PR #211: a socket forwarded
 * over SSH (`ssh -R`, played here by a Unix-socket relay) lets a `git commit -S` on the "remote"
 * side get a credential from a login on the daemon's side, against the sandbox's issuer (the
 * daemon's gitsign.urlOpener follows the login URL, as a browser would). Then what the daemon
 * refuses: another Fulcio or issuer, a client's own urlOpener, an ambient token; and its bounds:
 * one login at a time, a deadline, an answer at once when it cannot log in.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CacheClient } from '../src/cache/client';
import { loginOnMiss } from '../src/cache/loginOnMiss';
import { goConfig, type WireCredential } from '../src/cache/rpc';
import { loadConfig } from '../src/config/config';
import { GitsignError } from '../src/errors';
import { type Daemon, startDaemon } from './helpers/cacheDaemon';
import { jsonLines, runGo } from './helpers/goPeer';
import type { TempRepo } from './helpers/gitRepo';
import { countingOpener, gitAsync, loginRepo, mintToken, signingCertificates, signingSandboxPerFile } from './helpers/signingSandbox';

const ctx = signingSandboxPerFile();

let n = 0;
function freshDir(): string {
  const dir = join(ctx.work, `d${++n}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

/** What `ssh -R REMOTE:LOCAL` does for the cache: every connection to `remote` is carried to `local`, both ways. */
function relay(remote: string, local: string): Promise<{ connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const open = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (a) => {
    count++;
    const b = connect({ path: local, allowHalfOpen: true });
    for (const [from, to] of [
      [a, b],
      [b, a],
    ]) {
      open.add(from);
      from.pipe(to);
      from.on('error', () => to.destroy());
      from.on('close', () => {
        open.delete(from);
        to.destroy();
      });
    }
  });
  return new Promise((resolve) =>
    server.listen(remote, () =>
      resolve({
        connections: () => count,
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

/** The daemon of the machine with the browser: the sandbox's Fulcio and issuer, its own opener, no git configuration of its own. */
async function loginDaemon(extraEnv: NodeJS.ProcessEnv = {}, opener = 'follow'): Promise<{ daemon: Daemon; socket: string; logins: () => number }> {
  const home = freshDir();
  const counting = countingOpener(home);
  const env = { ...ctx.sb.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GITSIGN_URL_OPENER: opener === 'follow' ? counting.urlOpener : opener, ...extraEnv };
  const socket = join(freshDir(), 'cache.sock');
  const daemon = await startDaemon(['--socket', socket], { env, cwd: home });
  return { daemon, socket, logins: counting.count };
}

/** A repository signing through the cache at `socket`, whose own logins (there should be none) are counted. */
function cachedRepo(socket: string): { repo: TempRepo; logins: () => number } {
  const opener = countingOpener(freshDir());
  const repo = loginRepo(ctx.sb, { GITSIGN_TOKEN_PROVIDER: 'interactive', GITSIGN_URL_OPENER: opener.urlOpener, GITSIGN_CREDENTIAL_CACHE: socket });
  return { repo, logins: opener.count };
}

const cacheId = (repo: TempRepo): string => `${hostname()}@${repo.dir}`;

describe('ssh -R: the daemon logs in for the remote side', () => {
  test('a remote git commit -S through the forwarded socket gets the login of the daemon; its next commit, and a local client, use the daemon too', async () => {
    const { daemon, socket, logins } = await loginDaemon();
    const remoteSocket = join(freshDir(), 'forwarded.sock');
    const forwarded = await relay(remoteSocket, socket);
    const remote = cachedRepo(remoteSocket);
    const local = cachedRepo(socket);
    try {
      for (let i = 0; i < 2; i++) {
        const r = await gitAsync(remote.repo, ['commit', '--allow-empty', '-S', '-q', '-m', `remote ${i}`]);
        assert.equal(r.status, 0, r.stderr);
      }
      assert.equal(logins(), 1, "one login, in the daemon's browser");
      assert.equal(remote.logins(), 0, 'the remote side never logged in itself');
      assert.ok(forwarded.connections() >= 3, 'the calls went through the forwarded socket');
      assert.equal(new Set(signingCertificates(remote.repo, 'HEAD')).size, 1);
      assert.deepEqual(new Set(remote.repo.git('log', '--format=%G?').trim().split('\n')), new Set(['G']));
      assert.match(daemon.stderr(), /gitsign-credential-cache: no cached credential: logging in \(interactive\) for a client/);
      // The local client is another ID (another directory): the daemon logs in for it as well.
      const l = await gitAsync(local.repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'local']);
      assert.equal(l.status, 0, l.stderr);
      assert.equal(local.logins(), 0);
      assert.equal(logins(), 2);
      // Both entries are there, under each side's ID.
      for (const repo of [remote.repo, local.repo]) assert.ok((await new CacheClient(socket).get(cacheId(repo))).ok);
    } finally {
      remote.repo.remove();
      local.repo.remove();
      await forwarded.close();
      await daemon.stop();
    }
  });

  test("a Go client (gitsign's GetCredential with its Config) through the forwarded socket gets the daemon's login", async () => {
    const { daemon, socket, logins } = await loginDaemon();
    const remoteSocket = join(freshDir(), 'forwarded.sock');
    const forwarded = await relay(remoteSocket, socket);
    try {
      const r = await runGo(['get', remoteSocket, 'go-host@/src/project', ctx.sb.env.GITSIGN_FULCIO_URL, ctx.sb.env.GITSIGN_OIDC_ISSUER]);
      assert.equal(r.status, 0, r.stderr);
      const [answer] = jsonLines(r.stdout) as { ok: boolean; credential: { privateKey: string; cert: string; chain: string } }[];
      assert.equal(answer.ok, true, r.stdout);
      assert.match(answer.credential.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.match(answer.credential.cert, /^-----BEGIN CERTIFICATE-----\n/);
      assert.match(answer.credential.chain, /-----END CERTIFICATE-----\n$/);
      assert.equal(logins(), 1);
      // Stored as Go's daemon stores it: the next lookup, without a Config, finds it.
      const again = await runGo(['get', remoteSocket, 'go-host@/src/project']);
      assert.deepEqual(jsonLines(again.stdout), [answer]);
      assert.equal(logins(), 1);
    } finally {
      await forwarded.close();
      await daemon.stop();
    }
  });
});

describe('what the daemon refuses, and its bounds', () => {
  test("the daemon logs in only with its own configuration: another Fulcio or issuer is refused at once, a client's urlOpener never runs", async () => {
    const { daemon, socket, logins } = await loginDaemon();
    try {
      const cfg = goConfig(loadConfig(ctx.sb.env, ctx.work));
      const client = new CacheClient(socket);
      for (const [field, value] of [
        ['Fulcio', 'https://fulcio.attacker.example'],
        ['Issuer', 'https://issuer.attacker.example'],
      ]) {
        const r = await client.get('h@/refused', { ...cfg, [field]: value }, 30_000);
        assert.equal(r.ok, false);
        assert.match((r as { why: string }).why, new RegExp(`^"h@/refused" not found, and no login: not logging in: the client asks for Fulcio ".*" and issuer ".*"; this daemon logs in only for its own`));
      }
      assert.equal(logins(), 0);
      const marker = join(ctx.work, 'client-opener-ran');
      const r = await client.get('h@/opener', { ...cfg, URLOpener: `touch ${marker}`, TokenProvider: 'filesystem' }, 60_000);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(existsSync(marker), false, "the client's urlOpener ran on the daemon's machine");
      assert.equal(logins(), 1, "the daemon's own opener, an interactive login whatever the client's tokenProvider");
    } finally {
      await daemon.stop();
    }
  });

  test("an ambient ID token in the daemon's environment is not handed to socket peers: the daemon's login is a person's", async () => {
    const { daemon, socket, logins } = await loginDaemon({ SIGSTORE_ID_TOKEN: mintToken(ctx.sb.dir, 'ambient@example.com'), GITSIGN_TOKEN_PROVIDER: '' });
    try {
      const r = await new CacheClient(socket).get('h@/ambient', goConfig(loadConfig(ctx.sb.env, ctx.work)), 60_000);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(logins(), 1, 'the login went through the browser, not the ambient token');
      const subject = new X509Certificate(r.value.cert).subjectAltName ?? '';
      assert.match(subject, /@/);
      assert.doesNotMatch(subject, /ambient@example\.com/);
    } finally {
      await daemon.stop();
    }
  });

  test('concurrent misses share one login', async () => {
    const { daemon, socket, logins } = await loginDaemon();
    try {
      const cfg = goConfig(loadConfig(ctx.sb.env, ctx.work));
      const results = await Promise.all(['h@/a', 'h@/b', 'h@/c'].map((id) => new CacheClient(socket).get(id, cfg, 60_000)));
      assert.ok(results.every((r) => r.ok), JSON.stringify(results));
      const certs = new Set(results.map((r) => (r as { value: WireCredential }).value.cert.toString()));
      assert.equal(certs.size, 1);
      assert.equal(logins(), 1);
    } finally {
      await daemon.stop();
    }
  });

  test('a daemon that cannot open a browser answers at once (it reads no code from a terminal); the remote side then logs in itself', async () => {
    const { daemon, socket } = await loginDaemon({}, 'false {{.URL}}');
    const remote = cachedRepo(socket);
    try {
      const r = await new CacheClient(socket).get('h@/nobrowser', goConfig(loadConfig(ctx.sb.env, ctx.work)), 60_000);
      assert.equal(r.ok, false);
      assert.match((r as { why: string }).why, /^"h@\/nobrowser" not found, and no login: no browser could be opened .* and there is no terminal to paste the code into/);
      const c = await gitAsync(remote.repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'logged in here']);
      assert.equal(c.status, 0, c.stderr);
      assert.equal(remote.logins(), 1);
    } finally {
      remote.repo.remove();
      await daemon.stop();
    }
  });

  test('the login has a deadline; a refused or failed login leaves the next miss free to log in', async () => {
    let runs = 0;
    const own = (run: () => Promise<WireCredential>) => () => ({ fulcio: 'https://f.example/', issuer: 'https://i.example', run: () => (runs++, run()) });
    const never = loginOnMiss(own(() => new Promise<never>(() => undefined)), 200);
    const asked = { Fulcio: 'https://f.example', Issuer: 'https://i.example/' };
    await assert.rejects(Promise.all([never(asked), never(asked)]), (e: unknown) => e instanceof GitsignError && e.code === 'TOKEN' && e.message === 'the login did not finish within 0.2 s');
    assert.equal(runs, 1, 'two misses at once, one login');
    await assert.rejects(never(asked), /did not finish/);
    assert.equal(runs, 2, 'a new miss after the deadline logs in again');
    await assert.rejects(never({ ...asked, Issuer: 'https://other.example' }), (e: unknown) => e instanceof GitsignError && e.code === 'CONFIG');
    assert.equal(runs, 2, 'a refused request starts no login');
  });
});
