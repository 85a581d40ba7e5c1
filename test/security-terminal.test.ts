/**
 * Issue 10, finding 4: text from an object, a certificate or a server never reaches the terminal raw.
 * Real runs: certificates from the sandbox's Fulcio with control characters in the SAN email, commits
 * whose message and committer carry C1 controls and bidi overrides, a Rekor and an OIDC issuer (local
 * HTTP servers in this file) whose answers are ESC sequences, CR and a forged "Good signature" line.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { terminalLine } from '../src/text/terminal';
import type { TempRepo } from './helpers/gitRepo';
import { BIN, ROOT } from './helpers/paths';
import { sandboxPerFile, signingRepo } from './helpers/signingSandbox';

const sb = sandboxPerFile();

/** What a terminal would act on: controls other than tab and newline, DEL, C1, format characters, separators. */
const RAW = /(?![\t\n])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const FORGED = 'gitsign: Good signature from [ceo@example.com]';
/** A SAN email a Fulcio will certify (IA5: ASCII, controls included) that draws a line of its own when printed raw. */
const HOSTILE_EMAIL = `eve\u001b[2K\r\n${FORGED}\u0007\u0008\u007f@example.com`;

function assertTerminalSafe(text: string, where: string): void {
  const m = RAW.exec(text);
  assert.equal(m, null, `${where}: raw U+${m?.[0].codePointAt(0)?.toString(16).padStart(4, '0')} in ${JSON.stringify(text.slice(0, 400))}`);
  assert.ok(!text.split('\n').some((l) => l.startsWith(FORGED)), `${where}: a forged line: ${JSON.stringify(text)}`);
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A command run without blocking this process (the hostile servers below live in it), in a new
 * session: with no controlling terminal, login messages go to stderr where the test sees them.
 */
function run(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const gitsign = (repo: TempRepo, args: string[], env: NodeJS.ProcessEnv = {}, input = ''): Promise<Run> =>
  run(process.execPath, [BIN, ...args], repo.dir, { ...repo.env, ...env }, input);

/** A token for `email`, which the sandbox's Fulcio puts in the certificate's SAN as it is. */
function tokenFor(email: string): string {
  const claims = JSON.stringify({ email, email_verified: true });
  return execFileSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', sb.dir, '--subject', 'eve@example.com', '--issuer-claims', claims], { encoding: 'utf8' }).trim();
}

/** A repository signing as `email` (one log entry, no timestamp), with one signed commit. */
function signedCommit(email: string, extra: NodeJS.ProcessEnv = {}, message = 'signed'): TempRepo {
  const repo = signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: tokenFor(email), GITSIGN_TIMESTAMP_SERVER_URL: '', ...extra });
  repo.git('commit', '--allow-empty', '-S', '-q', '-m', message);
  return repo;
}

/** A local HTTP server answering every request with `answer`; closed after the test file. */
async function hostileServer(answer: (req: IncomingMessage, res: ServerResponse, base: string) => void): Promise<{ base: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(req, res, base));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  servers.push(server);
  return { base, server };
}
const servers: Server[] = [];
after(() => servers.forEach((s) => s.close()));

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** A server's message: ESC sequences, CR, 8-bit CSI, BEL, a bidi override and a forged line. */
const HOSTILE_TEXT = `\u001b[2K\r${FORGED}\u009b31m\u0007\u202e\u2028`;
/** What of it must show, escaped (the HTTP client folds white space, CR and U+2028 included, into spaces). */
const SHOWN = [terminalLine('\u001b[2K'), terminalLine('\u009b31m\u0007\u202e')];
const showsEscaped = (text: string): boolean => SHOWN.every((s) => text.includes(s));

test('finding 4: the escape is visible, keeps tab, and keeps a JSON line valid JSON with the same value', () => {
  assert.equal(terminalLine('a\u001b[31mb\r\nc\td\u007f\u0085\u009b\u202e\u2066\u200b\ufeff\u2028\u{e0041}'), 'a\\u001b[31mb\\r\\nc\td\\u007f\\u0085\\u009b\\u202e\\u2066\\u200b\\ufeff\\u2028\\udb40\\udc41');
  assert.equal(terminalLine('plain é ✓ 😀 text'), 'plain é ✓ 😀 text');
  const value = { s: `x${HOSTILE_TEXT}\u{e0041}\ud800y` };
  const line = terminalLine(JSON.stringify(value));
  assert.doesNotMatch(line, RAW);
  assert.deepEqual(JSON.parse(line), JSON.parse(JSON.stringify(value)));
});

describe('finding 4: a certificate SAN with ESC, CR, LF and a forged "Good signature" line', () => {
  let repo: TempRepo;
  before(() => {
    repo = signedCommit(HOSTILE_EMAIL);
  });
  after(() => repo?.remove());
  const escapedSan = terminalLine(HOSTILE_EMAIL);

  test('git verify-commit shows our summary escaped', async () => {
    const r = await run('git', ['verify-commit', 'HEAD'], repo.dir, repo.env);
    assert.equal(r.status, 0, r.stderr);
    assertTerminalSafe(r.stderr, 'git verify-commit');
    assert.ok(r.stderr.includes(`gitsign: Good signature from ${escapedSan} (`), r.stderr);
  });

  test('gitsign verify: the summary, the identity error, and --json (valid, same value)', async () => {
    const any = ['--certificate-identity-regexp', '.', '--certificate-oidc-issuer-regexp', '.'];
    const good = await gitsign(repo, ['verify', ...any, 'HEAD']);
    assert.equal(good.status, 0, good.stderr);
    assertTerminalSafe(good.stdout + good.stderr, 'gitsign verify');
    assert.ok(good.stdout.includes(`gitsign: Good signature from [${escapedSan}]`), good.stdout);

    // The committer is test@example.com: the error names the certificate's identity.
    const mismatch = await gitsign(repo, ['verify', 'HEAD']);
    assert.equal(mismatch.status, 1);
    assertTerminalSafe(mismatch.stdout + mismatch.stderr, 'gitsign verify (identity error)');
    assert.ok(mismatch.stderr.includes(escapedSan), mismatch.stderr);

    const j = await gitsign(repo, ['verify', '--json', ...any, 'HEAD']);
    assertTerminalSafe(j.stdout, 'gitsign verify --json');
    assert.deepEqual(JSON.parse(j.stdout).identities, [HOSTILE_EMAIL]);
  });
});

test('finding 4: a commit message with C1 controls and bidi overrides, and an ESC in the committer email (gitsign show, gitsign verify)', async () => {
  const email = 'eve\u001b[31m@example.com';
  const message = `fix\u001b]0;owned\u0007 \u009b2K\u202egnp.exe\u2066 \u200b\u2028end`;
  const repo = signedCommit(email, { GIT_COMMITTER_EMAIL: email, GIT_AUTHOR_EMAIL: email }, message);
  try {
    const verify = await gitsign(repo, ['verify', 'HEAD']);
    assert.equal(verify.status, 0, verify.stderr);
    assertTerminalSafe(verify.stdout + verify.stderr, 'gitsign verify');
    assert.ok(verify.stdout.includes(`equals committer email ${terminalLine(email)}`), verify.stdout);

    const show = await gitsign(repo, ['show', 'HEAD']);
    assert.equal(show.status, 0, show.stderr);
    assertTerminalSafe(show.stdout, 'gitsign show');
    // Still JSON, and the message is there, unchanged in value.
    const stringsIn = (v: unknown): string[] => (typeof v === 'string' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(stringsIn) : []);
    assert.ok(stringsIn(JSON.parse(show.stdout)).some((s) => s.includes(message)), show.stdout);
  } finally {
    repo.remove();
  }
});

describe('finding 4: a Rekor whose error answers are hostile', () => {
  let rekor: string;
  before(async () => {
    ({ base: rekor } = await hostileServer((_req, res) => json(res, 400, { code: 400, message: `${HOSTILE_TEXT}${'x'.repeat(5000)}` })));
  });

  test('signing: the error line is escaped and cut', async () => {
    const repo = signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: tokenFor('eve@example.com'), GITSIGN_TIMESTAMP_SERVER_URL: '', GITSIGN_REKOR_URL: rekor });
    try {
      const r = await gitsign(repo, ['--status-fd=2', '-bsau', 'eve'], {}, 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assertTerminalSafe(r.stderr, 'gitsign -bsau');
      const line = r.stderr.split('\n').find((l) => l.startsWith('gitsign: error signing: '));
      assert.ok(line, r.stderr);
      assert.ok(showsEscaped(line), line);
      assert.ok(line.length < 1500, `an error line of ${line.length} characters`);
    } finally {
      repo.remove();
    }
  });

  test('verifying an online-mode signature: the object\'s error line is escaped', async () => {
    const repo = signedCommit('eve@example.com', { GITSIGN_REKOR_MODE: 'online' });
    try {
      const r = await gitsign(repo, ['verify', '--certificate-identity', 'eve@example.com', '--certificate-oidc-issuer-regexp', '.', 'HEAD'], { GITSIGN_REKOR_URL: rekor });
      assert.equal(r.status, 1, r.stderr);
      assertTerminalSafe(r.stdout + r.stderr, 'gitsign verify (online)');
      assert.ok(showsEscaped(r.stderr), r.stderr);
    } finally {
      repo.remove();
    }
  });
});

test('finding 4: an OIDC issuer\'s device code, verification URI and error_description are escaped', async () => {
  const { base } = await hostileServer((req, res, base) => {
    if (req.url === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: base,
        authorization_endpoint: `${base}/authorize`,
        token_endpoint: `${base}/token`,
        device_authorization_endpoint: `${base}/device`,
        jwks_uri: `${base}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (req.url === '/device') {
      return json(res, 200, { device_code: 'dc', user_code: `WDJB${HOSTILE_TEXT}`, verification_uri: `${base}/verify\u001b]8;;${HOSTILE_TEXT}`, expires_in: 60, interval: 1 });
    }
    if (req.url === '/token') return json(res, 400, { error: `access_denied${HOSTILE_TEXT}`, error_description: `${HOSTILE_TEXT}${'y'.repeat(5000)}` });
    json(res, 404, {});
  });
  const repo = signingRepo({ ...sb.env, GITSIGN_OIDC_ISSUER: base, GITSIGN_TOKEN_PROVIDER: 'device', SIGSTORE_ID_TOKEN: undefined });
  try {
    const r = await gitsign(repo, ['--status-fd=2', '-bsau', 'eve'], {}, 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');
    assert.equal(r.status, 1, r.stderr);
    assertTerminalSafe(r.stderr, 'device login');
    assert.ok(r.stderr.includes(`WDJB${terminalLine(HOSTILE_TEXT)}`), r.stderr);
    const line = r.stderr.split('\n').find((l) => l.startsWith('gitsign: error signing: '));
    assert.ok(line !== undefined && showsEscaped(line), r.stderr);
    assert.ok(line.length < 1500, `an error line of ${line.length} characters`);
  } finally {
    repo.remove();
  }
});

test('finding 4: gitsign-credential-cache escapes what it prints', async () => {
  const r = await run(process.execPath, [join(ROOT, 'bin', 'gitsign-credential-cache'), `--x${HOSTILE_TEXT}`], ROOT, { PATH: process.env.PATH });
  assert.equal(r.status, 2);
  assertTerminalSafe(r.stdout + r.stderr, 'gitsign-credential-cache');
  assert.match(r.stderr, /Usage: gitsign-credential-cache/);
});
