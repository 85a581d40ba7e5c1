/**
 * Signing configuration and the edges of the service clients, against the sandbox: gitsign version,
 * config precedence, the GitHub Actions token provider, Fulcio's v1 fallback, retries on 5xx, Rekor's
 * 409, gitsign.matchCommitter, and the GITSIGN_LOG tee.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { createEntry } from '../src/rekor/client';
import { TempRepo } from './helpers/gitRepo';
import { mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';
import { BIN } from './helpers/paths';
import { certify, entryFor } from './sandbox/support';

const EMAIL = 'test@example.com';
const sb = sandboxPerFile();

function token(subject = EMAIL): string {
  return mintToken(sb.dir, subject);
}

function repoWith(extra: NodeJS.ProcessEnv): TempRepo {
  return signingRepo({ ...sb.env, GITSIGN_TIMESTAMP_SERVER_URL: '', SIGSTORE_ID_TOKEN: token(), ...extra });
}

/** git run asynchronously, so servers in this process keep answering. */
function gitAsync(repo: TempRepo, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: repo.dir, env: { ...repo.env, ...extra } }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A proxy in front of the sandbox that can answer some requests itself. */
function proxy(
  intercept: (method: string, path: string) => { status: number; body: string } | null,
  rewrite?: (method: string, path: string, body: Buffer) => Buffer,
): Promise<{ url: string; seen: string[]; server: Server }> {
  const seen: string[] = [];
  const target = new URL(sb.sandbox.url);
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const own = intercept(req.method ?? '', req.url ?? '');
    if (own) {
      res.writeHead(own.status, { 'Content-Type': 'application/json' });
      res.end(own.body);
      req.resume();
      return;
    }
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const body = rewrite ? rewrite(req.method ?? '', req.url ?? '', Buffer.concat(chunks)) : Buffer.concat(chunks);
        res.writeHead(r.statusCode ?? 502, { ...r.headers, 'content-length': String(body.length) });
        res.end(body);
      });
    });
    req.pipe(up);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, seen, server })));
}

test('gitsign version: env and parsed config under gitsign\'s Go field names, token redacted', () => {
  const repo = repoWith({ GITSIGN_REKOR_MODE: 'online' });
  try {
    repo.git('config', 'gitsign.fulcio', 'https://fulcio.example.test');
    for (const args of [['version'], ['--version']]) {
      const r = repo.gitsign(args, undefined, { GITSIGN_FULCIO_URL: undefined as unknown as string });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^gitsign version v\d+\.\d+\.\d+\n/);
      assert.match(r.stdout, /\n\t GITSIGN_REKOR_MODE=online\n/);
      assert.match(r.stdout, /\n\t SIGSTORE_ID_TOKEN=<redacted>\n/);
      const config = JSON.parse(r.stdout.slice(r.stdout.indexOf('parsed config:\n') + 15)) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config).slice(0, 20), ['Fulcio', 'FulcioRoot', 'Rekor', 'RekorMode', 'EnableSigstoreGo', 'RekorVersion', 'ClientID', 'RedirectURL', 'Issuer', 'ConnectorID', 'TokenProvider', 'TimestampURL', 'TimestampCert', 'LogPath', 'CommitterName', 'CommitterEmail', 'MatchCommitter', 'Autoclose', 'AutocloseTimeout', 'URLOpener']);
      assert.equal(config.RekorMode, 'online');
    }
  } finally {
    repo.remove();
  }
});

test('config precedence: git config < SIGSTORE_* < GITSIGN_*, set-but-empty counts; a bad rekor version is exit 2', () => {
  const repo = new TempRepo();
  try {
    repo.git('config', 'gitsign.rekor', 'https://from-git-config');
    const rekor = (e: NodeJS.ProcessEnv): string => (JSON.parse(repo.gitsign(['version'], undefined, e).stdout.split('parsed config:\n')[1]) as { Rekor: string }).Rekor;
    assert.equal(rekor({}), 'https://from-git-config');
    assert.equal(rekor({ SIGSTORE_REKOR_URL: 'https://sigstore-env' }), 'https://sigstore-env');
    assert.equal(rekor({ SIGSTORE_REKOR_URL: 'https://sigstore-env', GITSIGN_REKOR_URL: 'https://gitsign-env' }), 'https://gitsign-env');
    assert.equal(rekor({ GITSIGN_REKOR_URL: '' }), '');
    const bad = repo.gitsign(['version'], undefined, { GITSIGN_REKOR_VERSION: '3' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /rekor version must be 1 or 2/);
  } finally {
    repo.remove();
  }
});

test('GitHub Actions provider: token requested with audience sigstore and the bearer, commit signed', async () => {
  const jwt = token();
  const seen: { url?: string; auth?: string } = {};
  const server = createServer((req, res) => {
    seen.url = req.url;
    seen.auth = req.headers.authorization;
    res.end(JSON.stringify({ value: jwt }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const repo = repoWith({ SIGSTORE_ID_TOKEN: undefined, ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}/token?api-version=2.0`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'runner-secret' });
  try {
    const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'from actions']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(seen.auth, 'bearer runner-secret');
    assert.match(seen.url ?? '', /audience=sigstore/);
    assert.equal(repo.gitResult(['verify-commit', 'HEAD']).status, 0);
  } finally {
    server.close();
    repo.remove();
  }
});

test('Fulcio without the v2 API: the v1 signingCert gitsign uses', async () => {
  const p = await proxy((_method, path) => (path === '/api/v2/signingCert' ? { status: 404, body: '{"code":5,"message":"Not Found"}' } : null));
  const repo = repoWith({ GITSIGN_FULCIO_URL: p.url });
  try {
    const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'v1']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(p.seen, ['POST /api/v2/signingCert', 'POST /api/v1/signingCert']);
  } finally {
    p.server.close();
    repo.remove();
  }
});

test('a 5xx from Rekor is retried; a 4xx is not', async () => {
  let failures = 1;
  const p = await proxy((method, path) => (method === 'POST' && path === '/api/v1/log/entries' && failures-- > 0 ? { status: 503, body: '{"code":503,"message":"busy"}' } : null));
  const repo = repoWith({ GITSIGN_REKOR_URL: p.url });
  try {
    const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'retried']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(p.seen.filter((s) => s === 'POST /api/v1/log/entries').length, 2);
    failures = 0;
    p.seen.length = 0;
  } finally {
    p.server.close();
  }
  const refusing = await proxy((method, path) => (method === 'POST' && path === '/api/v1/log/entries' ? { status: 400, body: '{"code":400,"message":"invalid entry"}' } : null));
  try {
    const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'refused'], { GITSIGN_REKOR_URL: refusing.url });
    assert.notEqual(r.status, 0);
    assert.equal(refusing.seen.filter((s) => s === 'POST /api/v1/log/entries').length, 1);
  } finally {
    refusing.server.close();
    repo.remove();
  }
});

test('Rekor 409: the existing entry is fetched from its Location', async () => {
  const id = await certify(sb.sandbox.url, token(), EMAIL);
  const { entry } = entryFor(id, Buffer.from('the same message twice'));
  const first = await createEntry(sb.sandbox.url, entry);
  let told = false;
  const second = await createEntry(sb.sandbox.url, entry, () => (told = true));
  assert.equal(told, true);
  assert.equal(second.uuid.slice(-64), first.uuid.slice(-64));
  assert.equal(second.entry.logIndex, first.entry.logIndex);
});

test('gitsign.matchCommitter: a certificate for another identity is refused before signing', () => {
  const repo = repoWith({ SIGSTORE_ID_TOKEN: token('someone-else@example.com') });
  try {
    repo.git('config', 'gitsign.matchCommitter', 'true');
    repo.git('config', 'user.name', 'Test');
    repo.git('config', 'user.email', EMAIL);
    const r = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /gitsign\.matchCommitter: certificate identity does not match config - want Test <test@example\.com>, got email: \[someone-else@example\.com\]/);
    repo.git('config', 'user.email', 'someone-else@example.com');
    assert.equal(repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n').status, 0);
  } finally {
    repo.remove();
  }
});

test('gitsign.matchCommitter compares user.email with the certificate\'s emails exactly (case counts), as gitsign', () => {
  const repo = repoWith({});
  try {
    repo.git('config', 'gitsign.matchCommitter', 'yes');
    repo.git('config', 'user.name', 'Test');
    repo.git('config', 'user.email', 'Test@Example.com');
    const r = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /gitsign\.matchCommitter: certificate identity does not match config - want Test <Test@Example\.com>, got email: \[test@example\.com\]/);
  } finally {
    repo.remove();
  }
});

test('gitsign.matchCommitter with neither user.name nor user.email: refused (the Go gitsign skips the check and signs)', () => {
  const repo = repoWith({});
  try {
    repo.git('config', 'gitsign.matchCommitter', 'true');
    repo.git('config', 'user.name', '');
    repo.git('config', 'user.email', '');
    const r = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /gitsign\.matchCommitter: certificate identity does not match config - want {2}<>, got email: \[test@example\.com\]/);
  } finally {
    repo.remove();
  }
});

test('gitsign.matchCommitter set to something that is not a boolean: a configuration error, nothing signed', () => {
  const repo = repoWith({});
  try {
    repo.git('config', 'gitsign.matchCommitter', 'ture');
    const r = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n');
    assert.equal(r.status, 2, 'a configuration that cannot be loaded exits 2, as Go');
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^gitsign: error signing: invalid git config gitsign\.matchcommitter: "ture" is not a boolean/m);
  } finally {
    repo.remove();
  }
});

test('GITSIGN_LOG: what gitsign writes on stderr is also in the log file', () => {
  const repo = repoWith({});
  try {
    repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'logged');
    const log = join(repo.dir, 'gitsign.log');
    const r = repo.gitResult(['verify-commit', 'HEAD']);
    assert.equal(r.status, 0);
    const r2 = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n', { GITSIGN_FULCIO_URL: 'http://127.0.0.1:1', GITSIGN_LOG: log });
    assert.equal(r2.status, 1);
    assert.match(readFileSync(log, 'utf8'), /gitsign: error signing: cannot reach Fulcio/);
  } finally {
    repo.remove();
  }
});

test('a Rekor answer whose inclusion proof or SET does not verify is refused: no signature, no commit', async () => {
  const tamper = (field: 'hashes' | 'signedEntryTimestamp') => (method: string, path: string, body: Buffer): Buffer => {
    if (method !== 'POST' || path !== '/api/v1/log/entries') return body;
    const json = JSON.parse(body.toString()) as Record<string, { verification: { signedEntryTimestamp: string; inclusionProof: { hashes: string[]; rootHash: string } } }>;
    for (const e of Object.values(json)) {
      if (field === 'hashes') e.verification.inclusionProof.rootHash = 'ff'.repeat(32);
      else e.verification.signedEntryTimestamp = Buffer.from('MEUCIQ' + 'A'.repeat(90), 'base64').toString('base64');
    }
    return Buffer.from(JSON.stringify(json));
  };
  for (const field of ['hashes', 'signedEntryTimestamp'] as const) {
    const p = await proxy(() => null, tamper(field));
    const repo = repoWith({ GITSIGN_REKOR_URL: p.url });
    try {
      const r = await new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [BIN, '--status-fd=2', '-bsau', 'x'], { cwd: repo.dir, env: repo.env }, (err, stdout, stderr) =>
          resolve({ status: err ? 1 : 0, stdout, stderr }),
        ).stdin?.end('tree x\n\nmsg\n'),
      );
      assert.equal(r.status, 1, field);
      assert.equal(r.stdout, '', field);
      assert.match(r.stderr, /gitsign: error signing: transparency log entry does not verify|inclusion proof root hash differs/, `${field}: ${r.stderr}`);
    } finally {
      p.server.close();
      repo.remove();
    }
  }
});
