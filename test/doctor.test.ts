/**
 * `gitsign doctor` (issue 11) with real peers: the sandbox running and stopped, a misconfigured
 * repository, a skewed clock (GITSIGN_DOCTOR_NOW, the test-only clock), the token provider, the
 * credential cache daemon, a hostile server's text, and a broken trust root.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { realpathSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { test } from 'node:test';
import { startDaemon } from './helpers/cacheDaemon';
import type { TempRepo } from './helpers/gitRepo';
import { serveHostile } from './helpers/hostileServer';
import { BIN, ROOT } from './helpers/paths';
import { gitAsync, mintToken, readSandboxEnv, removeDir, sandboxPerFile, signingRepo, tempDir } from './helpers/signingSandbox';
import { spawnSandbox } from './sandbox/support';

const sb = sandboxPerFile();
const BIN_DIR = join(ROOT, 'bin');
const WITH_BIN = `${BIN_DIR}${delimiter}${process.env.PATH}`;

interface Check {
  id: string;
  title: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  summary: string;
  fix?: string[];
  details?: Record<string, unknown>;
}
interface Report {
  schemaVersion: number;
  ok: boolean;
  gitsignVersion: string;
  offline: boolean;
  checks: Check[];
}
interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** `gitsign doctor ARGS` in the repository, asynchronously (servers in this process keep answering), bounded. */
function doctor(repo: TempRepo, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'doctor', ...args], { cwd: repo.dir, env: { ...repo.env, ...env }, timeout: 90_000 }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function doctorJson(repo: TempRepo, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ran: Ran; report: Report; check: (id: string) => Check }> {
  const ran = await doctor(repo, ['--json', ...args], env);
  assert.equal(ran.stderr, '', 'doctor writes its report to stdout only');
  const report = JSON.parse(ran.stdout) as Report;
  const check = (id: string): Check => {
    const found = report.checks.find((c) => c.id === id);
    assert.ok(found, `no check ${id} in ${ran.stdout}`);
    return found;
  };
  return { ran, report, check };
}

/** A repository set up as the README says, against the running sandbox, with an ambient token. */
function goodRepo(extra: NodeJS.ProcessEnv = {}): TempRepo {
  const repo = signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir), PATH: WITH_BIN, ...extra });
  repo.git('config', 'gpg.x509.program', 'gitsign');
  repo.git('config', 'commit.gpgsign', 'true');
  repo.git('config', 'tag.gpgsign', 'true');
  return repo;
}

/** The documented JSON schema, checked on every report. */
function assertSchema(report: Report): void {
  assert.equal(report.schemaVersion, 1);
  assert.equal(typeof report.ok, 'boolean');
  assert.equal(typeof report.gitsignVersion, 'string');
  assert.equal(typeof report.offline, 'boolean');
  for (const c of report.checks) {
    assert.deepEqual(Object.keys(c).filter((k) => !['fix', 'details'].includes(k)), ['id', 'title', 'status', 'summary']);
    assert.match(c.id, /^[a-z0-9.]+$/i);
    assert.ok(['ok', 'warn', 'fail', 'skip'].includes(c.status), c.status);
    assert.equal(typeof c.summary, 'string');
    if (c.fix !== undefined) assert.ok(Array.isArray(c.fix) && c.fix.length > 0 && c.fix.every((f) => typeof f === 'string'));
  }
  assert.equal(report.ok, report.checks.every((c) => c.status !== 'fail'));
}

test('issue 11: doctor against a running sandbox: every check passes, exit 0, and signing then works', async () => {
  const repo = goodRepo();
  try {
    const { ran, report, check } = await doctorJson(repo, []);
    assertSchema(report);
    const bad = report.checks.filter((c) => c.status === 'fail' || c.status === 'warn');
    assert.deepEqual(bad, [], ran.stdout);
    assert.equal(ran.status, 0);
    for (const id of ['git.version', 'config.gpg.format', 'config.gpg.x509.program', 'config.gpgsign', 'config.user.email', 'binary.path', 'trust.root', 'service.fulcio', 'service.rekor', 'service.tsa', 'clock.skew', 'token.provider']) {
      assert.equal(check(id).status, 'ok', `${id}: ${check(id).summary}`);
    }
    assert.equal(check('trust.root').details?.path, sb.env.GITSIGN_TRUSTED_ROOT);
    assert.equal(check('token.provider').details?.provider, 'envvar');
    assert.equal(check('token.provider').details?.subject, 'test@example.com');
    assert.equal(check('service.oidc').status, 'skip', 'the token is ambient: no login, so the issuer is not needed');
    assert.equal(check('cache').status, 'skip');
    // The skew is read from the TSA's signed genTime, the most precise clock at hand.
    assert.match(check('clock.skew').summary, /timestamp authority/);
    const human = await doctor(repo, []);
    assert.equal(human.status, 0, human.stdout);
    assert.match(human.stdout, /^gitsign doctor \(gitsign-ts /);
    assert.match(human.stdout, /\n  ok    Fulcio +http:\/\/127\.0\.0\.1:\d+ answers as Fulcio/);
    assert.match(human.stdout, /0 problems, 0 warnings: signing and verifying should work here\.\n$/);
    // What doctor promised: a signed commit, verified by git.
    writeFileSync(join(repo.dir, 'f'), 'x');
    repo.git('add', 'f');
    const commit = await gitAsync(repo, ['commit', '-q', '-m', 'signed']);
    assert.equal(commit.status, 0, commit.stderr);
    const verify = await gitAsync(repo, ['verify-commit', 'HEAD']);
    assert.equal(verify.status, 0, verify.stderr);
  } finally {
    repo.remove();
  }
});

test('issue 11: doctor with a stopped sandbox: each service is unreachable with its fix, exit 1', async () => {
  const dir = tempDir();
  const stopped = await spawnSandbox(dir);
  const env = readSandboxEnv(dir);
  await stopped.stop();
  // No ambient token and a device login: the OIDC issuer is needed too.
  const repo = signingRepo({ ...env, PATH: WITH_BIN, GITSIGN_TOKEN_PROVIDER: 'device' });
  try {
    const { ran, report, check } = await doctorJson(repo, []);
    assertSchema(report);
    assert.equal(ran.status, 1);
    assert.equal(report.ok, false);
    for (const id of ['service.fulcio', 'service.rekor', 'service.oidc', 'service.tsa']) {
      const c = check(id);
      assert.equal(c.status, 'fail', `${id}: ${c.summary}`);
      assert.match(c.summary, /cannot reach .* at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
      assert.ok(c.fix?.some((f) => f.includes('gitsign sandbox up')), `${id}: ${String(c.fix)}`);
    }
    assert.ok(check('service.fulcio').fix?.some((f) => f.startsWith('git config --global gitsign.fulcio URL')));
    assert.ok(check('service.tsa').fix?.some((f) => f.startsWith('git config --global gitsign.timestampServerURL URL')));
    assert.equal(check('clock.skew').status, 'skip');
    // The local checks are unaffected.
    assert.equal(check('config.gpg.format').status, 'ok');
    assert.equal(check('trust.root').status, 'ok');
    const human = await doctor(repo, []);
    assert.equal(human.status, 1);
    assert.match(human.stdout, /\n  FAIL  Fulcio +cannot reach Fulcio at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)[^\n]*\n +fix: start the local service/);
    assert.match(human.stdout, /[1-9]\d* problems?, \d+ warnings?: signing or verifying would fail here; run the fix commands above\.\n$/);
  } finally {
    repo.remove();
    removeDir(dir);
  }
});

test('issue 11: doctor in a misconfigured repository: gpg.format openpgp and a program that is not gitsign, with the exact fix commands', async () => {
  const repo = goodRepo();
  try {
    repo.git('config', 'gpg.format', 'openpgp');
    repo.git('config', 'gpg.x509.program', '/bin/true');
    const { ran, report, check } = await doctorJson(repo, ['--offline']);
    assertSchema(report);
    assert.equal(ran.status, 1);
    assert.equal(report.offline, true);
    assert.equal(check('config.gpg.format').status, 'fail');
    assert.match(check('config.gpg.format').summary, /^openpgp \(this repository's config\): git would sign with gpg/);
    assert.deepEqual(check('config.gpg.format').fix, ['git config --local gpg.format x509']);
    assert.equal(check('config.gpg.x509.program').status, 'fail');
    assert.match(check('config.gpg.x509.program').summary, /runs \/bin\/true, which is not gitsign/);
    // gitsign on PATH is this binary, so the setting can name it.
    assert.deepEqual(check('config.gpg.x509.program').fix, ['git config --local gpg.x509.program gitsign']);
    assert.equal(check('services').status, 'skip');
    const human = await doctor(repo, ['--offline']);
    assert.match(human.stdout, /\n  FAIL  gpg\.format +openpgp .*\n +fix: git config --local gpg\.format x509\n/);

    // The fixes work: after running them, these checks pass.
    repo.git('config', '--local', 'gpg.format', 'x509');
    repo.git('config', '--local', 'gpg.x509.program', 'gitsign');
    const fixed = await doctorJson(repo, ['--offline']);
    assert.equal(fixed.check('config.gpg.format').status, 'ok');
    assert.equal(fixed.check('config.gpg.x509.program').status, 'ok');
    assert.equal(fixed.ran.status, 0, fixed.ran.stdout);
  } finally {
    repo.remove();
  }
});

test('issue 11: doctor with settings only in the global config and gitsign not on PATH: --global fixes with the absolute path', async () => {
  const repo = goodRepo({ PATH: process.env.PATH });
  try {
    repo.git('config', '--unset', 'gpg.format');
    repo.git('config', '--unset', 'gpg.x509.program');
    repo.git('config', '--global', 'gpg.x509.program', 'no-such-gitsign');
    const { ran, check } = await doctorJson(repo, ['--offline']);
    assert.equal(ran.status, 1);
    assert.match(check('config.gpg.format').summary, /unset \(git's default is openpgp\)/);
    assert.deepEqual(check('config.gpg.format').fix, ['git config --global gpg.format x509']);
    assert.match(check('config.gpg.x509.program').summary, /no-such-gitsign \(global config\): no such executable/);
    assert.deepEqual(check('config.gpg.x509.program').fix, [`git config --global gpg.x509.program ${realpathSync(BIN)}`]);
    assert.equal(check('binary.path').status, 'warn');
  } finally {
    repo.remove();
  }
});

test('issue 11: doctor with a skewed clock (GITSIGN_DOCTOR_NOW): behind fails, ahead warns, against the TSA and Rekor', async () => {
  const repo = goodRepo();
  try {
    const behind = await doctorJson(repo, [], { GITSIGN_DOCTOR_NOW: new Date(Date.now() - 3600_000).toISOString() });
    assert.equal(behind.ran.status, 1);
    const skew = behind.check('clock.skew');
    assert.equal(skew.status, 'fail');
    assert.match(skew.summary, /^this clock is 60 min behind the timestamp authority's signed genTime .*: a fresh certificate would look not yet valid/);
    assert.ok(skew.fix?.some((f) => f.includes('timedatectl set-ntp true')));
    // Both readings are reported: the TSA's genTime and Rekor's HTTP Date header (its log info has no time).
    const samples = skew.details?.samples as { server: string; how: string; skewMs: number }[];
    assert.deepEqual(samples.map((s) => s.how).sort(), ['HTTP Date header', 'signed genTime of a fresh timestamp']);
    for (const s of samples) assert.ok(s.skewMs < -3500_000 && s.skewMs > -3700_000, JSON.stringify(s));
    assert.equal(behind.check('clock.faked').status, 'warn', 'the report says the clock was faked');

    const ahead = await doctorJson(repo, [], { GITSIGN_DOCTOR_NOW: new Date(Date.now() + 180_000).toISOString() });
    assert.equal(ahead.check('clock.skew').status, 'warn');
    assert.match(ahead.check('clock.skew').summary, /^this clock is 3 min ahead of the timestamp authority's signed genTime/);
    const human = await doctor(repo, [], { GITSIGN_DOCTOR_NOW: new Date(Date.now() - 3600_000).toISOString() });
    assert.match(human.stdout, /\n  FAIL  clock +this clock is 60 min behind/);

    const invalid = await doctor(repo, [], { GITSIGN_DOCTOR_NOW: 'yesterday\u001b[31m' });
    assert.equal(invalid.status, 1);
    assert.match(invalid.stderr, /^gitsign: GITSIGN_DOCTOR_NOW "yesterday\\u001b\[31m" is not an RFC 3339 time \(it is for tests only; unset it\)\n$/);
  } finally {
    repo.remove();
  }
});

/** A JWT-shaped token (unsigned: doctor only reads the claims). */
function token(claims: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'none' })}.${part(claims)}.sig`;
}

test('issue 11: doctor token provider: why it was chosen, an expired ambient token, a named provider missing here', async () => {
  const repo = goodRepo();
  try {
    const expired = token({ iss: 'https://issuer.example', sub: 'x', email: 'e@example.com', email_verified: true, exp: Math.floor(Date.now() / 1000) - 60 });
    const a = await doctorJson(repo, ['--offline'], { SIGSTORE_ID_TOKEN: expired });
    assert.equal(a.ran.status, 1);
    assert.equal(a.check('token.provider').status, 'fail');
    assert.match(a.check('token.provider').summary, /^envvar \(SIGSTORE_ID_TOKEN is set, first in the default order\): its token for e@example\.com expired at /);
    assert.deepEqual(a.check('token.provider').fix, ['unset SIGSTORE_ID_TOKEN   (or set it to a fresh token)']);

    const b = await doctorJson(repo, ['--offline'], { SIGSTORE_ID_TOKEN: '', GITSIGN_TOKEN_PROVIDER: 'github-actions' });
    assert.equal(b.check('token.provider').status, 'fail');
    assert.match(b.check('token.provider').summary, /^github-actions: gitsign\.tokenProvider names it .* and it is not here$/);
    assert.ok(b.check('token.provider').fix?.[0].startsWith('git config --global --unset gitsign.tokenProvider'));

    const c = await doctorJson(repo, ['--offline'], { SIGSTORE_ID_TOKEN: '', GITSIGN_TOKEN_PROVIDER: 'device' });
    assert.equal(c.check('token.provider').status, 'ok');
    assert.equal(c.check('token.provider').summary, 'device (gitsign.tokenProvider names it)');
  } finally {
    repo.remove();
  }
});

test("issue 11: doctor credential cache: our daemon answers Go gitsign's protocol; a dead socket warns with the command that starts one", async () => {
  const repo = goodRepo();
  const dir = tempDir();
  const socket = join(dir, 'cache.sock');
  const daemon = await startDaemon(['--socket', socket], { env: repo.env });
  try {
    const up = await doctorJson(repo, ['--offline'], { GITSIGN_CREDENTIAL_CACHE: socket });
    const cache = up.check('cache');
    assert.equal(cache.status, 'ok', cache.summary);
    assert.match(cache.summary, /our user's daemon answers net\/rpc with gob \(Go gitsign\)$/);
    assert.equal(cache.details?.protocol, 'net/rpc with gob (Go gitsign)');
    assert.equal(up.ran.status, 0, up.ran.stdout);
    await daemon.stop();
    const down = await doctorJson(repo, ['--offline'], { GITSIGN_CREDENTIAL_CACHE: socket });
    assert.equal(down.check('cache').status, 'warn');
    assert.match(down.check('cache').summary, /not answering .*signing logs in every time$/);
    assert.deepEqual(down.check('cache').fix, [`gitsign-credential-cache --socket ${socket} &`]);
    assert.equal(down.ran.status, 0, 'signing still works without the cache');
  } finally {
    await daemon.stop();
    repo.remove();
    removeDir(dir);
  }
});

test('issue 11: doctor escapes what a server says, and reports a Fulcio that is not Fulcio', async () => {
  const hostile = await serveHostile((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ issuers: [{ issuerUrl: 'https://evil.example/\u001b[2J\u001b]0;owned\u0007\nFAIL forged line' }] }));
  });
  const repo = goodRepo();
  try {
    const ran = await doctor(repo, [], { GITSIGN_FULCIO_URL: hostile.url });
    assert.equal(ran.status, 1);
    assert.doesNotMatch(ran.stdout, /[\u001b\u0007]/);
    assert.match(ran.stdout, /\n  FAIL  Fulcio +http:\/\/127\.0\.0\.1:\d+ answers as Fulcio but does not accept tokens from http:\/\/127\.0\.0\.1:\d+\/auth \(it accepts https:\/\/evil\.example\/\\u001b\[2J\\u001b\]0;owned\\u0007\\nFAIL forged line\)\n/);
    assert.deepEqual(hostile.paths, ['/api/v2/configuration']);
  } finally {
    repo.remove();
    await hostile.close();
  }
});

test('issue 11: doctor with a broken trust root: the failure and the setting to change', async () => {
  const repo = goodRepo();
  try {
    const bad = join(repo.dir, 'bad_root.json');
    writeFileSync(bad, '{"tlogs": [{"baseUrl": "x"}]}');
    const { ran, check } = await doctorJson(repo, ['--offline'], { GITSIGN_TRUSTED_ROOT: bad });
    assert.equal(ran.status, 1);
    assert.equal(check('trust.root').status, 'fail');
    assert.match(check('trust.root').summary, /^invalid trusted root \(.*bad_root\.json\): tlogs\[0\] \(x\) has no public key$/);
    assert.ok(check('trust.root').fix?.[0].startsWith('git config --global --unset gitsign.trustedRoot'));
  } finally {
    repo.remove();
  }
});

test('issue 11: doctor with Rekor v2: its write API is recognised, and a missing timestamp authority is the problem named', async () => {
  const repo = goodRepo({ GITSIGN_REKOR_VERSION: '2' });
  try {
    const { ran, check } = await doctorJson(repo, []);
    assert.equal(ran.status, 0, ran.stdout);
    assert.equal(check('service.rekor').status, 'skip');
    assert.equal(check('service.rekor.v2').status, 'ok');
    assert.match(check('service.rekor.v2').summary, /answers as Rekor v2 \(an empty entry is refused with 400/);
    const noTsa = await doctorJson(repo, [], { GITSIGN_TIMESTAMP_SERVER_URL: '' });
    assert.equal(noTsa.ran.status, 1);
    assert.equal(noTsa.check('service.rekor.v2').status, 'fail');
    assert.deepEqual(noTsa.check('service.rekor.v2').fix, ['git config --global gitsign.timestampServerURL URL']);
    // Rekor v1's path answers 404 on a v2-only host: a v1 log at a v2 URL is told apart.
    const v1 = await doctorJson(repo, [], { GITSIGN_REKOR_VERSION: '1', GITSIGN_REKOR_URL: `${sb.env.GITSIGN_REKOR_URL}/auth` });
    assert.equal(v1.check('service.rekor').status, 'fail');
    assert.match(v1.check('service.rekor').summary, /is not a Rekor v1 log: GET \/api\/v1\/log answered 404/);
  } finally {
    repo.remove();
  }
});

test('issue 11: doctor with a black-holed service: the probe ends at its deadline and says so', async () => {
  const hole = await serveHostile(() => undefined);
  const repo = goodRepo();
  try {
    const { ran, check } = await doctorJson(repo, [], { GITSIGN_FULCIO_URL: hole.url });
    assert.equal(ran.status, 1);
    assert.equal(check('service.fulcio').status, 'fail');
    assert.match(check('service.fulcio').summary, /^Fulcio at http:\/\/127\.0\.0\.1:\d+: no complete answer within 10 s/);
    assert.equal(check('service.rekor').status, 'ok', 'the other services are probed meanwhile');
  } finally {
    repo.remove();
    await hole.close();
  }
});

test('issue 11: doctor with the public-good root offline: the seeded copy, no refresh attempted', async () => {
  const repo = goodRepo({ GITSIGN_TRUSTED_ROOT: '', GITSIGN_FULCIO_ROOT: '', SIGSTORE_REKOR_PUBLIC_KEY: '', SIGSTORE_CT_LOG_PUBLIC_KEY_FILE: '', GITSIGN_TIMESTAMP_CERT_CHAIN: '', GITSIGN_TIMESTAMP_SERVER_URL: '' });
  try {
    const { report, check } = await doctorJson(repo, ['--offline']);
    assertSchema(report);
    assert.equal(check('trust.root').status, 'ok', check('trust.root').summary);
    assert.equal(check('trust.root').summary, 'trusted root: seed copy shipped for https://tuf-repo-cdn.sigstore.dev (never refreshed here)');
    assert.equal(check('trust.root').details?.tufMirror, 'https://tuf-repo-cdn.sigstore.dev');
    assert.equal(check('trust.root').details?.kind, 'public-good');
    assert.equal(check('trust.refresh').status, 'skip');
    assert.equal(check('trust.refresh').summary, 'offline');
  } finally {
    repo.remove();
  }
});

test('issue 11: doctor with an invalid gitsign setting: the setting is the problem, the local checks still run', async () => {
  const repo = goodRepo({ GITSIGN_REKOR_VERSION: '3' });
  try {
    const { ran, report, check } = await doctorJson(repo, []);
    assertSchema(report);
    assert.equal(ran.status, 1);
    assert.equal(check('config.gitsign').status, 'fail');
    assert.equal(check('config.gitsign').summary, 'invalid GITSIGN_REKOR_VERSION: rekor version must be 1 or 2, got "3"');
    assert.equal(check('config.gpg.format').status, 'ok');
    assert.equal(report.checks.some((c) => c.id.startsWith('service.')), false, 'no service is probed with a configuration that does not load');
  } finally {
    repo.remove();
  }
});

/**
 * The sandbox seen through a proxy whose clock is `aheadMs` off: every answer's Date header is
 * rewritten, the rest passed through. A server with a wrong clock, made in the test, not the product.
 */
async function skewedProxy(target: string, aheadMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, { ...answer.headers, date: new Date(Date.now() + aheadMs).toUTCString() });
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test("issue 11: doctor against a Rekor whose Date header is an hour ahead: this clock is reported behind, from the HTTP Date header", async () => {
  const proxy = await skewedProxy(sb.env.GITSIGN_REKOR_URL, 3600_000);
  // No TSA: Rekor v1's log info has no time, so its Date header is the only clock reading.
  const repo = goodRepo({ GITSIGN_REKOR_URL: proxy.url, GITSIGN_TIMESTAMP_SERVER_URL: '' });
  try {
    const { ran, report, check } = await doctorJson(repo, []);
    assert.equal(check('service.rekor').status, 'ok', 'the proxied log answers as Rekor');
    const skew = check('clock.skew');
    assert.equal(skew.status, 'fail');
    assert.match(skew.summary, /^this clock is 60 min behind Rekor's HTTP Date header, within 0\.\d s: a fresh certificate would look not yet valid/);
    assert.equal(report.checks.some((c) => c.id === 'clock.faked'), false, 'the real clock: no GITSIGN_DOCTOR_NOW');
    assert.equal(ran.status, 1);
  } finally {
    repo.remove();
    await proxy.close();
  }
});

test('doctor says which way each service goes: through the environment\'s proxy, around it by NO_PROXY, or refused (SOCKS)', async () => {
  const repo = goodRepo({ GITSIGN_FULCIO_URL: 'https://fulcio.example', GITSIGN_REKOR_URL: 'https://rekor.example' });
  try {
    const none = await doctorJson(repo, ['--offline'], { HTTPS_PROXY: '', https_proxy: '' });
    assert.equal(none.check('network.proxy').status, 'ok');
    assert.match(none.check('network.proxy').summary, /Fulcio direct, Rekor direct.*\(no proxy applies\)$/);
    const { check } = await doctorJson(repo, ['--offline'], { HTTPS_PROXY: 'http://user:secret@proxy.example:3128', NO_PROXY: 'rekor.example' });
    assert.equal(check('network.proxy').status, 'ok');
    assert.deepEqual({ Fulcio: check('network.proxy').details?.Fulcio, Rekor: check('network.proxy').details?.Rekor }, { Fulcio: 'through http://proxy.example:3128', Rekor: 'direct (NO_PROXY)' });
    assert.doesNotMatch(JSON.stringify(check('network.proxy')), /secret/);
    const socks = await doctorJson(repo, ['--offline'], { HTTPS_PROXY: 'socks5://127.0.0.1:1080' });
    assert.equal(socks.ran.status, 1);
    assert.equal(socks.check('network.proxy').status, 'fail');
    assert.deepEqual(socks.check('network.proxy').fix, ['export HTTPS_PROXY=http://HOST:PORT   # an HTTP proxy']);
  } finally {
    repo.remove();
  }
});
