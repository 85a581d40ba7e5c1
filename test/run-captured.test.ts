import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadAddon } from '../src/addon';
import { type CapturedRun, type RunLimits, runCapturedSync, runWithAddon, runWithChildProcess } from '../src/git/runSync';
import { type PipedProcess, type SpawnOptions, spawnPiped, spawnWithAddon, spawnWithChildProcess } from '../src/git/spawnPiped';

/**
 * The synchronous runs of git's hot path (git config): the native addon's posix_spawn and
 * child_process give the same answers, and both bound a run by time and output size. The same for
 * the streamed programs (spawnPiped): both starts behave alike, and the addon's children are reaped.
 */
const work = mkdtempSync(join(tmpdir(), 'gitsign-run-'));
after(() => rmSync(work, { recursive: true, force: true }));

const limits = (over: Partial<RunLimits> = {}): RunLimits => ({ env: process.env, maxBytes: 1 << 20, timeoutMs: 10_000, ...over });

function viaAddon(file: string, args: string[], l: RunLimits): CapturedRun {
  assert.equal(typeof loadAddon()?.runCaptured, 'function', 'dist/peercred.node is not built (or lacks runCaptured): run npm run build with a C compiler (see scripts/peers.json)');
  const r = runWithAddon(file, args, l);
  assert.ok(r, `the addon did not start ${file}`);
  return r;
}

const RUNNERS = { addon: viaAddon, 'child_process': runWithChildProcess } as const;

describe('running git config and other short programs synchronously', { skip: process.platform !== 'linux' && 'the addon runs programs on Linux only' }, () => {
  for (const [name, run] of Object.entries(RUNNERS)) {
    test(`${name}: exit code, stdout and stderr as written (bytes, not text)`, () => {
      const r = run('sh', ['-c', 'printf "a\\000b\\377"; printf "oops\\n" >&2; exit 3'], limits());
      assert.equal(r.status, 3);
      assert.deepEqual(r.stdout, Buffer.from([0x61, 0, 0x62, 0xff]));
      assert.equal(r.stderr.toString(), 'oops\n');
      assert.equal(r.stopped, undefined);
    });

    test(`${name}: the program is looked up in the given environment's PATH, in the given directory, with stdin at /dev/null`, () => {
      const bin = mkdtempSync(join(work, 'bin-'));
      writeFileSync(join(bin, 'gitsign-test-tool'), '#!/bin/sh\npwd\nprintf "%s\\n" "$1" "$GITSIGN_TEST_VALUE"\ncat\n');
      chmodSync(join(bin, 'gitsign-test-tool'), 0o755);
      const r = run('gitsign-test-tool', ['one arg'], limits({ cwd: bin, env: { PATH: `/nonexistent:${bin}:/usr/bin:/bin`, GITSIGN_TEST_VALUE: 'v=1' } }));
      assert.equal(r.stdout.toString(), `${bin}\none arg\nv=1\n`);
      assert.equal(r.status, 0);
    });

    test(`${name}: the program's signals are at their defaults (Node ignores SIGPIPE; git must not inherit that)`, { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
      const r = run('sh', ['-c', 'grep -E "^Sig(Ign|Blk):" /proc/self/status'], limits());
      const [blocked, ignored] = [...r.stdout.toString().matchAll(/^Sig(?:Blk|Ign):\s*([0-9a-f]+)$/gm)].map((m) => BigInt(`0x${m[1]}`));
      assert.equal(blocked, 0n, 'no signal blocked');
      // Signals 32 and 33 are glibc's own (thread cancellation, set*id): every glibc program sets their handlers itself.
      assert.equal(ignored & ~(3n << 31n), 0n, `no signal ignored (SigIgn ${ignored.toString(16)})`);
    });

    test(`${name}: a program that runs past the time limit is killed and reported, within the limit and a margin`, () => {
      const t0 = Date.now();
      const r = run('sleep', ['30'], limits({ timeoutMs: 300 }));
      assert.equal(r.stopped, 'timeout');
      assert.equal(r.status, null);
      assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    });

    test(`${name}: a program that writes more than the size limit is killed and reported`, () => {
      const r = run('sh', ['-c', 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done'], limits({ maxBytes: 100_000 }));
      assert.equal(r.stopped, 'too-large');
      assert.equal(r.status, null);
    });
  }

  test('addon: a program that closes its output and goes on running is stopped at the time limit (no wait without end)', () => {
    const t0 = Date.now();
    const r = viaAddon('sh', ['-c', 'exec >/dev/null 2>&1; sleep 30'], limits({ timeoutMs: 500 }));
    assert.equal(r.stopped, 'timeout');
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
  });

  test('a program that does not exist: the addon does not start it, and the run says ENOENT as child_process does', () => {
    assert.equal(runWithAddon('gitsign-no-such-program', [], limits()), null);
    const r = runCapturedSync('gitsign-no-such-program', [], limits());
    assert.equal(r.error?.code, 'ENOENT');
    assert.equal(r.status, null);
  });

  test('both give the same answer for git config as the configuration reads it', () => {
    const args = ['config', '-z', '--get-regexp', '^(gitsign|user)\\.'];
    const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_COUNT: '2', GIT_CONFIG_KEY_0: 'gitsign.fulcio', GIT_CONFIG_VALUE_0: 'https://f.example', GIT_CONFIG_KEY_1: 'user.email', GIT_CONFIG_VALUE_1: 'a@example.com' };
    const a = viaAddon('git', args, limits({ env, cwd: work }));
    const b = runWithChildProcess('git', args, limits({ env, cwd: work }));
    assert.deepEqual(a, b);
    assert.equal(a.stdout.toString(), 'gitsign.fulcio\nhttps://f.example\0user.email\na@example.com\0');
  });
});

/** A started program's stdout and stderr as they came, and the code 'close' gave. */
function outcome(p: PipedProcess, input?: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string; stdinError?: string }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let stderr = '';
    let stdinError: string | undefined;
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdin.on('error', (e: NodeJS.ErrnoException) => (stdinError = e.code));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr, stdinError }));
    p.stdin.end(input ?? '');
  });
}

function startedByAddon(file: string, args: string[], opts: SpawnOptions = {}): PipedProcess {
  assert.equal(typeof loadAddon()?.spawnPiped, 'function', 'dist/peercred.node is not built (or lacks spawnPiped): run npm run build with a C compiler (see scripts/peers.json)');
  const p = spawnWithAddon(file, args, opts);
  assert.ok(p, `the addon did not start ${file}`);
  return p;
}

const STARTERS = { addon: startedByAddon, 'child_process': spawnWithChildProcess } as const;

describe('programs whose input and output are streamed (git cat-file, rev-list)', { timeout: 60_000, skip: process.platform !== 'linux' && 'the addon starts programs on Linux only' }, () => {
  for (const [name, start] of Object.entries(STARTERS)) {
    test(`${name}: stdin reaches the program, stdout comes back as bytes, stderr and the exit code as written`, async () => {
      const r = await outcome(start('sh', ['-c', 'cat; printf "oops\\n" >&2; exit 3']), Buffer.from([0x61, 0, 0x62, 0xff]));
      assert.deepEqual(r, { code: 3, stdout: Buffer.from([0x61, 0, 0x62, 0xff]), stderr: 'oops\n', stdinError: undefined });
    });

    test(`${name}: the program is looked up in the given environment's PATH and runs in the given directory`, async () => {
      const bin = mkdtempSync(join(work, 'piped-bin-'));
      writeFileSync(join(bin, 'gitsign-test-tool'), '#!/bin/sh\npwd\nprintf "%s\\n" "$1" "$GITSIGN_TEST_VALUE"\n');
      chmodSync(join(bin, 'gitsign-test-tool'), 0o755);
      const r = await outcome(start('gitsign-test-tool', ['arg one'], { cwd: work, env: { PATH: `/nonexistent:${bin}:/usr/bin:/bin`, GITSIGN_TEST_VALUE: 'v' } }));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.toString(), `${work}\narg one\nv\n`);
    });

    test(`${name}: a program that exits without reading its input: the write fails on stdin alone, and 'close' still gives the code`, async () => {
      const r = await outcome(start('sh', ['-c', 'exit 7']), Buffer.alloc(1 << 20));
      assert.equal(r.code, 7);
      assert.ok(r.stdinError === undefined || r.stdinError === 'EPIPE', String(r.stdinError));
    });
  }

  test('addon: twenty programs at once each get their own exit code, and none is left unreaped', async () => {
    const started = Array.from({ length: 20 }, (_, i) => startedByAddon('sh', ['-c', `sleep 0.0${i % 5}; exit ${i}`]));
    const codes = await Promise.all(started.map((p) => outcome(p).then((r) => r.code)));
    assert.deepEqual(codes, Array.from({ length: 20 }, (_, i) => i));
    for (const p of started) assert.equal(existsSync(`/proc/${p.pid}`), false, `process ${p.pid} is still there (a zombie)`);
  });

  test('a program that does not exist: the addon does not start it, and spawnPiped reports ENOENT as child_process does', async () => {
    assert.equal(spawnWithAddon('gitsign-no-such-program', [], {}), null);
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => spawnPiped('gitsign-no-such-program', []).on('error', resolve));
    assert.equal(err.code, 'ENOENT');
  });
});
