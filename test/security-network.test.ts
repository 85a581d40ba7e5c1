/**
 * Network answers are bounded (finding 7), cleartext http to another machine is refused unless a
 * setting says so (finding 15), and a relative XDG_CACHE_HOME cannot supply the trusted root (finding
 * 13), against real local servers that send 600 MiB, drip a byte at a time or never answer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, networkInterfaces, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DEFAULTS, loadConfig } from '../src/config/config';
import { GitsignError } from '../src/errors';
import { requestCertificate } from '../src/fulcio/client';
import { httpCall } from '../src/net/http';
import { REKOR_ENTRY } from '../src/net/answerLimits';
import { allowCleartextHttp, setNetworkWarningSink } from '../src/net/transport';
import { deviceFlow } from '../src/oidc/deviceFlow';
import { discoverIssuer } from '../src/oidc/discovery';
import { verifyIdToken } from '../src/oidc/idToken';
import { obtainIdToken } from '../src/oidc/token';
import { createEntry, getEntry, searchByHash } from '../src/rekor/client';
import { createEntryV2 } from '../src/rekor/v2/client';
import { refreshFromTuf, seededPublicGoodRoot } from '../src/trust/publicGood';
import { cacheDir } from '../src/trust/tufMirror';
import { timestampSignature } from '../src/tsa/client';
import { TempRepo } from './helpers/gitRepo';
import { type Behaviour, drip, type Hostile, huge, MiB, serveHostile, silent, within } from './helpers/hostileServer';
import { BIN } from './helpers/paths';
import { gitAsync, mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';
import { removeDir } from './sandbox/support';

const HUGE = 600 * MiB;
/** What a client may have let the server write before hanging up: its limit plus socket buffers. */
const STOPPED_EARLY = 64 * MiB;

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const io = { say: () => undefined, ask: async () => null };

/** An unsigned JWT: enough for the token providers, which leave verification to Fulcio. */
function unsignedJwt(claims: Record<string, unknown>): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${enc(claims)}.${Buffer.from('sig').toString('base64url')}`;
}

/** Discovery answered properly, every other path by `rest`. */
function issuerThen(rest: Behaviour): Behaviour {
  return (req, res, count) => {
    const base = `http://${req.headers.host}`;
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token`, jwks_uri: `${base}/keys`, device_authorization_endpoint: `${base}/device`, response_types_supported: ['code'] }));
      return;
    }
    if (req.url === '/device') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ device_code: 'dc', user_code: 'AB-CD', verification_uri: `${base}/activate`, expires_in: 60, interval: 1 }));
      return;
    }
    rest(req, res, count);
  };
}

/** Every kind of call, each against a server sending `behaviour`'s answer. */
const CLIENTS: { kind: string; wrap?: (b: Behaviour) => Behaviour; call: (url: string) => Promise<unknown> }[] = [
  { kind: 'Fulcio certificate chain', call: (url) => requestCertificate(url, 'token', 'a@example.com', privateKey, publicKey) },
  { kind: 'Rekor entry', call: (url) => getEntry(url, 'ab'.repeat(32)) },
  { kind: 'Rekor upload', call: (url) => createEntry(url, {}) },
  { kind: 'Rekor search', call: (url) => searchByHash(url, `sha256:${'00'.repeat(32)}`) },
  { kind: 'Rekor v2 entry', call: (url) => createEntryV2(url, {}) },
  { kind: 'TSA reply', call: (url) => timestampSignature(`${url}/api/v1/timestamp`, Buffer.from('signature')) },
  { kind: 'OIDC discovery', call: (url) => discoverIssuer({ ...DEFAULTS, issuer: url }, '') },
  { kind: 'OIDC JWKS', call: (url) => verifyIdToken(unsignedJwt({}), { issuer: url, audience: 'sigstore', jwksUri: `${url}/keys` }, 'interactive') },
  {
    kind: 'OIDC device authorization',
    wrap: (b) => (req, res, count) => (req.url === '/device' ? b(req, res, count) : issuerThen(b)(req, res, count)),
    call: async (url) => deviceFlow({ ...DEFAULTS, issuer: url }, await discoverIssuer({ ...DEFAULTS, issuer: url }, ''), io, async () => undefined),
  },
  { kind: 'OIDC token', wrap: issuerThen, call: async (url) => deviceFlow({ ...DEFAULTS, issuer: url }, await discoverIssuer({ ...DEFAULTS, issuer: url }, ''), io, async () => undefined) },
  {
    kind: 'GitHub Actions ID token',
    call: (url) => obtainIdToken({ ...DEFAULTS, tokenProvider: 'github-actions' }, io, { ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/token?x=1`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' }),
  },
];

async function expectNetworkError(call: Promise<unknown>, server: Hostile, pattern: RegExp): Promise<GitsignError> {
  let caught: unknown;
  await within(20_000, call.then(() => assert.fail('the call succeeded'), (err: unknown) => (caught = err)), 'the call');
  assert.ok(caught instanceof GitsignError, `not a GitsignError: ${String(caught)}`);
  assert.equal(caught.code, 'NETWORK', caught.message);
  assert.match(caught.message, pattern);
  assert.ok(caught.message.includes(new URL(server.url).host), `the host is not named: ${caught.message}`);
  return caught;
}

/** bin/gitsign called as git calls it to sign, asynchronously (the hostile server runs in this process). */
function signDirectly(repo: TempRepo, env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--status-fd=2', '-bsau', 'x'], { cwd: repo.dir, env: { ...repo.env, ...env } });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(out), stderr: err }));
    child.stdin.end('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmessage\n');
  });
}

/** Highest RSS seen while `run` runs (sampled), minus the RSS before. */
async function rssGrowth(run: () => Promise<void>): Promise<number> {
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss) - before;
}

describe('finding 7: every answer has a size limit', () => {
  for (const c of CLIENTS) {
    test(`finding 7: a 600 MiB ${c.kind} is cut off at its limit, memory stays bounded`, async () => {
      const server = await serveHostile((c.wrap ?? ((b) => b))(huge(HUGE, { declare: false })));
      try {
        const growth = await rssGrowth(async () => {
          await expectNetworkError(c.call(server.url), server, /sent more than \d+ [KM]iB, too much for /);
        });
        assert.ok(server.sent() < STOPPED_EARLY, `the server wrote ${server.sent()} bytes before the client hung up`);
        assert.ok(growth < 128 * MiB, `RSS grew by ${Math.round(growth / MiB)} MiB`);
      } finally {
        await server.close();
      }
    });
  }

  test('finding 7: an answer that announces 600 MiB is refused before its body is read', async () => {
    const server = await serveHostile(huge(HUGE, { declare: true }));
    try {
      await expectNetworkError(requestCertificate(server.url, 'token', 'a@example.com', privateKey, publicKey), server, /Fulcio at .*: sent more than 256 KiB, too much for a certificate chain/);
      assert.ok(server.sent() < STOPPED_EARLY, `the server wrote ${server.sent()} bytes`);
    } finally {
      await server.close();
    }
  });

  test('finding 7: an answer just under the limit is accepted', async () => {
    const body = JSON.stringify({ pad: 'x'.repeat(REKOR_ENTRY.bytes - 20) });
    const server = await serveHostile((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(body);
    });
    try {
      const res = await httpCall(server.url, { service: 'Rekor', method: 'GET', limit: REKOR_ENTRY });
      assert.equal(res.body.length, body.length);
    } finally {
      await server.close();
    }
  });
});

describe('finding 7: every call has a deadline', () => {
  for (const [what, behaviour] of [
    ['drips one byte every 200 ms', drip(200)],
    ['never answers', silent],
  ] as const) {
    test(`finding 7: a server that ${what} is given up at the deadline, naming the host`, async () => {
      const server = await serveHostile(behaviour);
      try {
        await expectNetworkError(httpCall(server.url, { service: 'Rekor', method: 'GET', limit: REKOR_ENTRY, deadlineMs: 1_500 }), server, /Rekor at http:\/\/127\.0\.0\.1:\d+: no complete answer within 1\.5 s/);
      } finally {
        await server.close();
      }
    });
  }

  test('finding 7: a login\'s abort ends a pending call at once', async () => {
    const server = await serveHostile(silent);
    try {
      const ac = new AbortController();
      const call = httpCall(server.url, { service: 'the OIDC issuer', method: 'GET', limit: REKOR_ENTRY, signal: ac.signal });
      setTimeout(() => ac.abort(), 200);
      await expectNetworkError(call, server, /abandoned/);
    } finally {
      await server.close();
    }
  });
});

describe('finding 7: the TUF refresh is bounded in size and time', () => {
  const work = mkdtempSync(join(tmpdir(), 'gitsign-tuf-'));
  after(() => removeDir(work));
  /** @sigstore/tuf's seeded root.json, to start a client against another mirror. */
  const rootFile = join(work, 'root.json');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const seeds = require('@sigstore/tuf/seeds.json') as Record<string, { 'root.json': string }>;
  writeFileSync(rootFile, Buffer.from(seeds['https://tuf-repo-cdn.sigstore.dev']['root.json'], 'base64'));

  test('finding 7: a TUF repository sending 600 MiB is cut off by tuf-js\'s metadata limits', async () => {
    const server = await serveHostile(huge(HUGE, { declare: false }));
    try {
      await expectNetworkError(refreshFromTuf({ cachePath: join(work, 'huge'), mirrorURL: server.url, rootPath: rootFile }), server, /TUF repository http:\/\/127\.0\.0\.1:\d+: .*Max length reached/);
      // make-fetch-happen reads without backpressure until tuf-js's count trips (tens of MiB on loopback).
      assert.ok(server.sent() < 2 * STOPPED_EARLY, `the server wrote ${server.sent()} bytes`);
      assert.ok(server.paths.length >= 1);
    } finally {
      await server.close();
    }
  });

  test('finding 7: a TUF repository dripping bytes is given up at the deadline', async () => {
    const server = await serveHostile(drip(200));
    try {
      await expectNetworkError(refreshFromTuf({ cachePath: join(work, 'drip'), mirrorURL: server.url, rootPath: rootFile, deadlineMs: 2_000 }), server, /no complete answer within 2 s/);
    } finally {
      await server.close();
    }
  });
});

describe('finding 7: signing with a hostile Fulcio', () => {
  test('finding 7: a 600 MiB Fulcio answer fails the commit; git gets nothing, HEAD and the index stay', async () => {
    const server = await serveHostile(huge(HUGE, { declare: false }));
    const work = mkdtempSync(join(tmpdir(), 'gitsign-fulcio-'));
    const rootFile = join(work, 'trusted_root.json');
    writeFileSync(rootFile, JSON.stringify(seededPublicGoodRoot()));
    const repo = new TempRepo({
      GITSIGN_FULCIO_URL: server.url,
      GITSIGN_TRUSTED_ROOT: rootFile,
      GITSIGN_TIMESTAMP_SERVER_URL: '',
      SIGSTORE_ID_TOKEN: unsignedJwt({ iss: 'https://issuer.example', sub: 's', email: 'test@example.com', email_verified: true }),
    });
    try {
      repo.git('config', 'gpg.format', 'x509');
      repo.git('config', 'gpg.x509.program', BIN);
      repo.git('commit', '--allow-empty', '-q', '-m', 'unsigned base');
      const head = repo.git('rev-parse', 'HEAD');
      writeFileSync(join(repo.dir, 'a.txt'), 'staged\n');
      repo.git('add', 'a.txt');
      const status = repo.git('status', '--porcelain');
      const r = await within(60_000, gitAsync(repo, ['commit', '-S', '-q', '-m', 'signed']), 'git commit -S');
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /failed to sign/);
      assert.equal(repo.git('rev-parse', 'HEAD'), head);
      assert.equal(repo.git('status', '--porcelain'), status);
      // git 2.39 keeps a failing signer's stderr to itself: the same call made directly shows it.
      const direct = await within(60_000, signDirectly(repo), 'gitsign -bsau');
      assert.equal(direct.status, 1);
      assert.equal(direct.stdout.length, 0, 'something reached stdout');
      assert.match(direct.stderr, /gitsign: error signing: Fulcio at http:\/\/127\.0\.0\.1:\d+: sent more than 256 KiB, too much for a certificate chain/);
      assert.ok(server.sent() < STOPPED_EARLY, `the server wrote ${server.sent()} bytes`);
    } finally {
      repo.remove();
      removeDir(work);
      await server.close();
    }
  });
});

/** This machine's first address that is not loopback, for a server reached as "another machine". */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
}

describe('finding 15: plain http only to this machine, unless gitsign.insecureAllowHTTP', () => {
  // .invalid never resolves (RFC 6761): a NETWORK error would mean a request was attempted.
  const REMOTE = 'http://sigstore.invalid';
  const refused: [string, () => Promise<unknown>][] = [
    ['Fulcio', () => requestCertificate(REMOTE, 'token', 'a@example.com', privateKey, publicKey)],
    ['Rekor upload', () => createEntry(REMOTE, {})],
    ['Rekor lookup', () => getEntry(REMOTE, 'ab'.repeat(32))],
    ['Rekor v2', () => createEntryV2(REMOTE, {})],
    ['the timestamp authority', () => timestampSignature(`${REMOTE}/api/v1/timestamp`, Buffer.from('s'))],
    ['the OIDC issuer', () => discoverIssuer({ ...DEFAULTS, issuer: REMOTE }, '')],
    ['the issuer\'s JWKS', () => verifyIdToken(unsignedJwt({}), { issuer: REMOTE, audience: 'sigstore', jwksUri: `${REMOTE}/keys` }, 'interactive')],
  ];
  for (const [what, call] of refused) {
    test(`finding 15: ${what} over plain http to another host is refused before any request`, async () => {
      await assert.rejects(within(10_000, call(), what), (err: unknown) => {
        assert.ok(err instanceof GitsignError, String(err));
        assert.equal(err.code, 'CONFIG', err.message);
        assert.match(err.message, /http:\/\/sigstore\.invalid is plain http to another machine: .*ID token.*gitsign\.insecureAllowHTTP \(GITSIGN_INSECURE_ALLOW_HTTP\)/);
        return true;
      });
    });
  }

  test('finding 15: http to 127.0.0.0/8 and localhost stays allowed; other schemes never are', async () => {
    const server = await serveHostile((_req, res) => res.end('{}'));
    try {
      const port = new URL(server.url).port;
      for (const host of ['127.0.0.1', 'localhost']) {
        const res = await httpCall(`http://${host}:${port}/`, { service: 'Rekor', method: 'GET', limit: REKOR_ENTRY });
        assert.equal(res.status, 200);
      }
      for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'javascript:alert(1)']) {
        await assert.rejects(httpCall(url, { service: 'Rekor', method: 'GET', limit: REKOR_ENTRY }), (e: GitsignError) => e.code === 'CONFIG' && /is not an https URL/.test(e.message));
      }
    } finally {
      await server.close();
    }
  });

  test('finding 15: the setting is gitsign.insecureAllowHTTP or GITSIGN_INSECURE_ALLOW_HTTP', () => {
    const repo = new TempRepo();
    try {
      assert.equal(loadConfig(repo.env, repo.dir).insecureAllowHTTP, false);
      assert.equal(loadConfig({ ...repo.env, GITSIGN_INSECURE_ALLOW_HTTP: 'true' }, repo.dir).insecureAllowHTTP, true);
      repo.git('config', 'gitsign.insecureAllowHTTP', 'true');
      assert.equal(loadConfig(repo.env, repo.dir).insecureAllowHTTP, true);
    } finally {
      loadConfig({ PATH: process.env.PATH, GITSIGN_INSECURE_ALLOW_HTTP: 'false' }, tmpdir());
      repo.remove();
    }
  });

  const outside = outsideAddress();
  test('finding 15: allowed by the setting, cleartext http is used and warned about once per origin', { skip: outside ? false : 'no address other than loopback here' }, async () => {
    const server = await serveHostile((_req, res) => res.end('{}'), outside);
    const warnings: string[] = [];
    try {
      await assert.rejects(httpCall(server.url, { service: 'Rekor', method: 'GET', limit: REKOR_ENTRY }), (e: GitsignError) => e.code === 'CONFIG');
      assert.equal(server.paths.length, 0);
      allowCleartextHttp(true);
      setNetworkWarningSink((line) => warnings.push(line));
      for (let i = 0; i < 2; i++) assert.equal((await httpCall(server.url, { service: 'Rekor', method: 'GET', limit: REKOR_ENTRY })).status, 200);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /^gitsign: WARNING: Rekor URL http:\/\/[\d.]+:\d+ is plain http \(allowed by gitsign\.insecureAllowHTTP/);
    } finally {
      allowCleartextHttp(false);
      setNetworkWarningSink((line) => process.stderr.write(`${line}\n`));
      await server.close();
    }
  });

  test('finding 15: git commit -S refuses a cleartext Fulcio, and with the setting warns on its output', { skip: outside ? false : 'no address other than loopback here' }, async () => {
    const server = await serveHostile(huge(HUGE, { declare: false }), outside);
    const work = mkdtempSync(join(tmpdir(), 'gitsign-cleartext-'));
    const rootFile = join(work, 'trusted_root.json');
    writeFileSync(rootFile, JSON.stringify(seededPublicGoodRoot()));
    const repo = new TempRepo({
      GITSIGN_FULCIO_URL: server.url,
      GITSIGN_TRUSTED_ROOT: rootFile,
      SIGSTORE_ID_TOKEN: unsignedJwt({ iss: 'https://issuer.example', sub: 's', email: 'test@example.com', email_verified: true }),
    });
    try {
      repo.git('config', 'gpg.format', 'x509');
      repo.git('config', 'gpg.x509.program', BIN);
      const refused = await within(60_000, gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'x']), 'git commit -S');
      assert.notEqual(refused.status, 0);
      assert.equal(repo.gitResult(['rev-parse', '--verify', '-q', 'HEAD']).status, 1);
      const direct = await within(60_000, signDirectly(repo), 'gitsign -bsau');
      assert.equal(direct.stdout.length, 0);
      assert.match(direct.stderr, /gitsign: error signing: Fulcio URL http:\/\/[\d.]+:\d+ is plain http to another machine/);
      assert.equal(server.paths.length, 0);
      // Allowed: the request is made (this server then sends too much), and the output says it was cleartext.
      const allowed = await within(60_000, signDirectly(repo, { GITSIGN_INSECURE_ALLOW_HTTP: 'true' }), 'gitsign -bsau');
      assert.equal(allowed.status, 1);
      assert.match(allowed.stderr, /gitsign: WARNING: Fulcio URL http:\/\/[\d.]+:\d+ is plain http \(allowed by gitsign\.insecureAllowHTTP/);
      assert.equal(server.paths.length, 1);
    } finally {
      repo.remove();
      removeDir(work);
      await server.close();
    }
  });
});

describe('finding 13: the trusted root never comes from a relative XDG_CACHE_HOME', () => {
  const sb = sandboxPerFile();
  const HOME_CACHE = join(homedir(), '.cache', 'sigstore', 'gitsign-ts');

  test('finding 13: a relative or empty XDG_CACHE_HOME is ignored (~/.cache); an absolute one is used', () => {
    assert.equal(cacheDir({ XDG_CACHE_HOME: 'cache' }), HOME_CACHE);
    assert.equal(cacheDir({ XDG_CACHE_HOME: './.cache' }), HOME_CACHE);
    assert.equal(cacheDir({ XDG_CACHE_HOME: '' }), HOME_CACHE);
    assert.equal(cacheDir({}), HOME_CACHE);
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/var/cache/x' }), '/var/cache/x/sigstore/gitsign-ts');
  });

  test('finding 13: an empty or relative HOME falls back to the account\'s home, never the current directory', () => {
    const saved = process.env.HOME;
    try {
      for (const home of ['', '.', 'home']) {
        process.env.HOME = home;
        const dir = cacheDir({});
        assert.ok(dir === null || isAbsolute(dir), `${JSON.stringify(home)} -> ${dir}`);
      }
    } finally {
      process.env.HOME = saved;
    }
  });

  test('finding 13: a cloned repository\'s cache directory cannot make its own signatures verify', () => {
    const repo = signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir), GITSIGN_TIMESTAMP_SERVER_URL: '' });
    try {
      repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'signed by the sandbox');
      // The "repository" ships the sandbox's root where a relative XDG_CACHE_HOME would look for the TUF copy.
      const planted = join(repo.dir, 'cache', 'sigstore', 'gitsign-ts');
      mkdirSync(planted, { recursive: true });
      writeFileSync(join(planted, 'trusted_root.json'), readFileSync(sb.env.GITSIGN_TRUSTED_ROOT));
      const noSandboxTrust = {
        GITSIGN_TRUSTED_ROOT: undefined,
        GITSIGN_FULCIO_ROOT: undefined,
        SIGSTORE_REKOR_PUBLIC_KEY: undefined,
        SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: undefined,
        GITSIGN_TIMESTAMP_CERT_CHAIN: undefined,
        GITSIGN_OFFLINE: 'true',
      };
      const verify = (xdg: string): { verified: boolean } => {
        const r = repo.gitsign(['verify', '--json', 'HEAD'], undefined, { ...noSandboxTrust, XDG_CACHE_HOME: xdg });
        return JSON.parse(r.stdout.trim().split('\n')[0]) as { verified: boolean };
      };
      // The same file at an absolute XDG_CACHE_HOME is the user's own cache: it is used (so the test can fail).
      assert.equal(verify(join(repo.dir, 'cache')).verified, true);
      assert.equal(verify('cache').verified, false);
    } finally {
      repo.remove();
    }
  });
});
