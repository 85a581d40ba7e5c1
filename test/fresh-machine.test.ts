/**
 * A fresh machine: `npm test` checks its peers first and names the one command that installs the
 * missing ones (scripts/preflight.mjs); a test file whose peer is missing fails at once with that
 * command, and stops what it started; a test file that hangs is killed by scripts/test.mjs's per-file
 * watchdog, with the processes it started, and the report names it. Every run here is bounded.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ROOT } from './helpers/paths';
import { locatePeer } from './helpers/peers';

const BOUND_MS = 150_000;
const work = mkdtempSync(join(tmpdir(), 'gitsign-fresh-'));
after(() => rmSync(work, { recursive: true, force: true }));

interface Run {
  status: number | null;
  output: string;
  ms: number;
}

/** Runs node with `args` from the project root, killed with its process group past BOUND_MS (then it rejects). */
function node(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      reject(new Error(`node ${args.join(' ')} still running after ${BOUND_MS / 1000} s (it hangs); output so far:\n${output}`));
    }, BOUND_MS);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output, ms: performance.now() - started });
    });
  });
}

/** The environment without what the test runner sets for its own children. */
function cleanEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/** Running (a zombie waiting for a reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('issue 11: npm test preflight', () => {
  test('issue 11: with nothing on PATH, preflight fails at once naming every peer and the one apt-get command', async () => {
    const r = await node([join(ROOT, 'scripts', 'preflight.mjs')], cleanEnv({ PATH: join(work, 'empty'), CHROMIUM: join(work, 'no-chromium') }));
    assert.equal(r.status, 1);
    for (const peer of ['git:', 'openssl:', 'chromium (', 'zsh:', 'man:', 'groff:', 'g++:', 'unshare:']) assert.ok(r.output.includes(`\n  ${peer}`), `${peer} not named:\n${r.output}`);
    // One command installing every package scripts/peers.json names, in its order, each once.
    const packages = [...new Set((JSON.parse(readFileSync(join(ROOT, 'scripts', 'peers.json'), 'utf8')) as { peers: { package: string }[] }).peers.map((p) => p.package))];
    assert.ok(packages.includes('git') && packages.includes('golang-go'), packages.join(' '));
    assert.ok(r.output.includes(`\n  apt-get update && apt-get install -y ${packages.join(' ')}\n`) || r.output.includes(`\n  sudo apt-get update && sudo apt-get install -y ${packages.join(' ')}\n`), r.output);
  });

  test('issue 11: with all peers but zsh and chromium, preflight names exactly those two packages', async () => {
    const bin = join(work, 'bin');
    mkdirSync(bin, { recursive: true });
    const peers = (JSON.parse(readFileSync(join(ROOT, 'scripts', 'peers.json'), 'utf8')) as { peers: { name: string; path?: string }[] }).peers;
    for (const p of peers) {
      if (p.path || p.name === 'zsh') continue;
      const at = locatePeer(p.name);
      if (!at) throw new Error(`this machine lacks ${p.name}: run node scripts/preflight.mjs`);
      if (!existsSync(join(bin, p.name))) symlinkSync(at, join(bin, p.name));
    }
    const r = await node([join(ROOT, 'scripts', 'preflight.mjs')], cleanEnv({ PATH: bin, CHROMIUM: join(work, 'no-chromium') }));
    assert.equal(r.status, 1);
    assert.match(r.output, /apt-get install -y chromium zsh\n/);
    assert.ok(!r.output.includes('\n  git:'), r.output);
    const ok = await node([join(ROOT, 'scripts', 'preflight.mjs')], cleanEnv({ PATH: `${bin}:${process.env.PATH}` }));
    assert.equal(ok.status, 0, ok.output);
  });

  test('issue 11: preflight --install (what .ci/run does, as root) installs exactly the missing packages with apt-get, then checks again', { skip: process.getuid?.() === 0 ? false : 'apt-get needs root' }, async () => {
    // A stand-in apt-get on PATH that logs its arguments and "installs" zsh where PATH finds it.
    const bin = join(work, 'bin-install');
    mkdirSync(bin, { recursive: true });
    const peers = (JSON.parse(readFileSync(join(ROOT, 'scripts', 'peers.json'), 'utf8')) as { peers: { name: string; path?: string }[] }).peers;
    for (const p of peers) if (!p.path && p.name !== 'zsh' && !existsSync(join(bin, p.name))) symlinkSync(locatePeer(p.name)!, join(bin, p.name));
    const log = join(work, 'apt-get.log');
    writeFileSync(join(bin, 'apt-get'), `#!/bin/sh\necho "$*" >> ${log}\ncase "$*" in *install*) /bin/ln -sf ${locatePeer('zsh') ?? '/bin/true'} ${join(bin, 'zsh')};; esac\n`, { mode: 0o755 });
    const r = await node([join(ROOT, 'scripts', 'preflight.mjs'), '--install'], cleanEnv({ PATH: bin, CHROMIUM: locatePeer('chromium') ?? '/bin/true' }));
    assert.equal(r.status, 0, r.output);
    assert.equal(readFileSync(log, 'utf8'), 'update -qq\ninstall -y -qq zsh\n');
    assert.match(r.output, /preflight: installing zsh\n/);
  });
});

describe('issue 11: a test file whose peer is missing fails at once and stops what it started', () => {
  const LOGIN = join('dist', 'tsc', 'test', 'login-browser.test.js');

  test('issue 11: no Chromium (CHROMIUM pointing nowhere): the browser login file fails fast with the apt-get command, and the run ends', async (t) => {
    const r = await node(['--test', '--test-reporter=spec', LOGIN], cleanEnv({ CHROMIUM: join(work, 'no-chromium') }));
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, /chromium is missing \([^)]*no-chromium \(set CHROMIUM to use another\)\), needed for the browser login tests \(headless Chromium\): install it with `(sudo )?apt-get install -y chromium`/);
    t.diagnostic(`login-browser without Chromium ended in ${r.ms.toFixed(0)} ms`);
  });

  test('issue 11: a Chromium that does not start (CHROMIUM=/bin/false) after the sandbox started: the sandbox is stopped, the run ends', async (t) => {
    // The case that used to hang: the sandbox started in before() was never stopped.
    const r = await node(['--test', '--test-reporter=spec', LOGIN], cleanEnv({ CHROMIUM: '/bin/false' }));
    assert.equal(r.status, 1, r.output);
    assert.match(r.output, /browserType\.launchPersistentContext|Browser closed|Failed to launch/i);
    t.diagnostic(`login-browser with a broken Chromium ended in ${r.ms.toFixed(0)} ms`);
  });
});

describe('issue 11: scripts/test.mjs kills a hung test file', () => {
  test('issue 11: a file still running after GITSIGN_TEST_FILE_TIMEOUT is killed with the processes it started, and named in the report', async () => {
    const root = join(work, 'tests');
    mkdirSync(root, { recursive: true });
    const pidFile = join(work, 'sleep.pid');
    writeFileSync(join(root, 'ok.test.js'), `require('node:test').test('fine', () => {});\n`);
    // Starts a long-lived child (as a sandbox would be) and never ends.
    writeFileSync(
      join(root, 'hang.test.js'),
      `const { spawn } = require('node:child_process');
require('node:test').test('hangs', async () => {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(child.pid));
  await new Promise(() => setInterval(() => {}, 1000));
});\n`,
    );
    const r = await node([join(ROOT, 'scripts', 'test.mjs')], cleanEnv({ GITSIGN_TEST_ROOT: root, GITSIGN_TEST_FILE_TIMEOUT: '3' }));
    assert.equal(r.status, 1, r.output);
    const hang = join(root, 'hang.test.js');
    assert.ok(r.output.includes(`===== ${hang}: TIMED OUT after 3 s, killed with its processes`), r.output);
    assert.ok(r.output.includes(`test: ${hang}: TIMED OUT after 3 s`), r.output);
    assert.ok(r.output.includes(`===== ${join(root, 'ok.test.js')}: passed`), r.output);
    assert.ok(r.output.includes('test: 1 of 2 files passed'), r.output);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // Killed with its group; reaped by init, so it may take a moment to vanish.
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(alive(pid), false, `the hung file's child ${pid} is still running`);
  });
});
