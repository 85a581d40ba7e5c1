/**
 * Black-holed services: signing (git commit -S) and verifying (the online-mode log lookup) against a
 * service that accepts and never answers, or an address whose packets vanish, end at the configured
 * deadline (gitsign.networkTimeout / GITSIGN_NETWORK_TIMEOUT) with one line naming the host, what
 * failed and the setting. The limit used is read from the message ("within 2 s"), so the tests prove
 * the setting took effect without timing assertions; every run is bounded by a kill timer.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { DEFAULTS, loadConfig } from '../src/config/config';
import { GitsignError } from '../src/errors';
import { CALL_DEADLINE_MS, callDeadlineMs } from '../src/net/deadline';
import type { TempRepo } from './helpers/gitRepo';
import { BIN } from './helpers/paths';
import { peerMissing } from './helpers/peers';
import { mintToken, type SigningSandbox, signingRepo, startSigningSandbox } from './helpers/signingSandbox';

/** The deadline the tests set, in seconds, and the bound after which a run counts as hung. */
const TIMEOUT_S = 2;
const HANG_BOUND_MS = 60_000;
const TREE_PAYLOAD = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmessage\n';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A process run asynchronously and killed (with its group) if it outlives HANG_BOUND_MS. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string }): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      reject(new Error(`${cmd} ${args.join(' ')}: still running after ${HANG_BOUND_MS / 1000} s (killed)`));
    }, HANG_BOUND_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A TCP port that accepts connections, reads what comes and never writes a byte. */
async function blackHolePort(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.resume();
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

/**
 * The line gitsign prints when a call to `service` at `origin` hits the deadline of TIMEOUT_S: the
 * last one, after at most the progress line Go's gitsign also prints ("Generating ephemeral keys...").
 */
function deadlineLine(service: string, origin: string): RegExp {
  const o = origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|\\n)[^\\n]*${service} at ${o}: no complete answer within ${TIMEOUT_S} s \\(the server is down, unreachable or too slow\\); gitsign\\.networkTimeout or GITSIGN_NETWORK_TIMEOUT \\(seconds\\) sets this limit\\n$`);
}

let sb: SigningSandbox;
let repo: TempRepo;
let signedOnline: string;

before(async () => {
  sb = await startSigningSandbox();
  // A commit signed in online mode (no log entry inside), so verifying it looks the entry up in Rekor.
  repo = signingRepo({ ...sb.env, GITSIGN_REKOR_MODE: 'online', SIGSTORE_ID_TOKEN: mintToken(sb.dir) });
  repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'signed online');
  signedOnline = repo.git('rev-parse', 'HEAD').trim();
  assert.equal(repo.git('log', '-1', '--format=%G?').trim(), 'G');
});

after(async () => {
  repo?.remove();
  await sb?.stop();
});

/** Runs `cmd` (git or gitsign) in the repository, through `prefix` (e.g. unshare) when given. */
function inRepo(prefix: string[], cmd: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  const all = [...prefix, ...cmd];
  return run(all[0], all.slice(1), { cwd: repo.dir, env: { ...repo.env, GITSIGN_NETWORK_TIMEOUT: String(TIMEOUT_S), ...env }, input });
}

/** Signing and verifying with `service` black-holed at `origin`: each fails with its one line. */
async function checkBlackHoled(t: { diagnostic(s: string): void }, prefix: string[], fulcio: string, rekor: string): Promise<void> {
  const head = repo.git('rev-parse', 'HEAD');
  const status = repo.git('status', '--porcelain');

  // Signing as git does it: git commit -S fails, HEAD and the index stay...
  const commit = await inRepo(prefix, ['git', 'commit', '--allow-empty', '-S', '-q', '-m', 'never signed'], { GITSIGN_FULCIO_URL: fulcio });
  assert.notEqual(commit.status, 0);
  assert.match(commit.stderr, /failed to sign/);
  assert.equal(repo.git('rev-parse', 'HEAD'), head);
  assert.equal(repo.git('status', '--porcelain'), status);
  // ...and the same call made directly (git 2.39 keeps a failing signer's stderr): nothing on stdout, one line.
  const sign = await inRepo(prefix, [process.execPath, BIN, '-bsau', 'x'], { GITSIGN_FULCIO_URL: fulcio }, TREE_PAYLOAD);
  assert.equal(sign.status, 1);
  assert.equal(sign.stdout, '', 'something reached stdout');
  assert.match(sign.stderr, deadlineLine('Fulcio', fulcio));
  assert.match(sign.stderr, /^(Generating ephemeral keys\.\.\.\n)?[^\n]+\n$/, 'more than the progress line and the error');

  // Verifying: git verify-commit fails; gitsign verify says why in one line.
  const verify = await inRepo(prefix, ['git', 'verify-commit', signedOnline], { GITSIGN_REKOR_URL: rekor });
  assert.notEqual(verify.status, 0);
  const direct = await inRepo(prefix, [process.execPath, BIN, 'verify', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*', signedOnline], { GITSIGN_REKOR_URL: rekor });
  assert.equal(direct.status, 1);
  assert.match(direct.stderr, deadlineLine('Rekor', rekor));
  assert.equal(direct.stderr.split('\n').length, 2, `not one line: ${direct.stderr}`);
  t.diagnostic(`with ${TIMEOUT_S} s set: git commit -S ${commit.ms.toFixed(0)} ms, gitsign -bsau ${sign.ms.toFixed(0)} ms, git verify-commit ${verify.ms.toFixed(0)} ms, gitsign verify ${direct.ms.toFixed(0)} ms`);
}

describe('issue 11: black-holed services end at gitsign.networkTimeout', () => {
  test('issue 11: a local port that accepts and never answers: signing and verifying each end with one line naming host and setting', async (t) => {
    const hole = await blackHolePort();
    try {
      const origin = `http://127.0.0.1:${hole.port}`;
      await checkBlackHoled(t, [], origin, origin);
      assert.ok(hole.accepted() >= 2, 'the black hole was never connected to');
    } finally {
      await hole.close();
    }
  });

  test('issue 11: a non-routable address in a test network namespace (10.255.255.1 routed into lo, packets vanish)', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('a network namespace needs root here');
    const missing = peerMissing('unshare') || peerMissing('ip');
    if (missing) throw new Error(missing);
    // Inside: lo up, 10.255.255.0/24 routed to lo, where packets for an address not ours are dropped:
    // a SYN that is never answered, as a firewall dropping Sigstore's hosts would do.
    const prefix = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && ip route add 10.255.255.0/24 dev lo && exec "$@"', 'netns'];
    const probe = spawnSync(prefix[0], [...prefix.slice(1), 'true'], { timeout: 10_000 });
    // A container without the right to make one (no CAP_SYS_ADMIN): said, not passed.
    if (probe.status !== 0) return t.skip(`no test network namespace here (unshare -n, ip route): ${(probe.stderr?.toString() || String(probe.error)).trim()}`);
    await checkBlackHoled(t, prefix, 'https://10.255.255.1', 'https://10.255.255.1');
  });
});

describe('issue 11: the setting', () => {
  test('issue 11: networkTimeout: default 30 s; gitsign.networkTimeout and GITSIGN_NETWORK_TIMEOUT (seconds, fractions allowed) set every call\'s deadline', () => {
    assert.equal(DEFAULTS.networkTimeout * 1000, CALL_DEADLINE_MS);
    loadConfig({}, repo.dir);
    assert.equal(callDeadlineMs(), 30_000);
    repo.git('config', 'gitsign.networkTimeout', '7');
    try {
      assert.equal(loadConfig({}, repo.dir).networkTimeout, 7);
      assert.equal(callDeadlineMs(), 7_000);
      // The variable wins over git config, as every GITSIGN_ variable does.
      assert.equal(loadConfig({ GITSIGN_NETWORK_TIMEOUT: '2.5' }, repo.dir).networkTimeout, 2.5);
      assert.equal(callDeadlineMs(), 2_500);
      assert.equal(loadConfig({ GITSIGN_NETWORK_TIMEOUT: '' }, repo.dir).networkTimeout, 7);
    } finally {
      repo.git('config', '--unset', 'gitsign.networkTimeout');
      loadConfig({}, repo.dir);
    }
  });

  for (const bad of ['0', '-1', 'abc', '1e3', '3601', '5s', 'NaN']) {
    test(`issue 11: networkTimeout: ${JSON.stringify(bad)} is refused with a CONFIG error naming the setting, never a silent default`, () => {
      assert.throws(
        () => loadConfig({ GITSIGN_NETWORK_TIMEOUT: bad }, repo.dir),
        (e: GitsignError) => e.code === 'CONFIG' && e.message.startsWith('invalid GITSIGN_NETWORK_TIMEOUT: ') && /from 0\.1 to 3600/.test(e.message),
      );
    });
  }
});
