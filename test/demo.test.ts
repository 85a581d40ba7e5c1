/**
 * install/demo.sh (`npm run demo`): it signs and verifies a commit and a tag against the sandbox, and
 * shows every step as a command line that works when pasted: its transcript alone, run by a fresh sh
 * with gitsign on PATH and a HOME of its own, does the whole demo again.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, ROOT } from './helpers/paths';

const cleanups: (() => void)[] = [];
after(() => cleanups.reverse().forEach((f) => f()));

let demo: SpawnSyncReturns<string>;
let shown: string[];
before(() => {
  // The user's own GITSIGN_ settings play no part (this one would stop every gitsign call, exit 2).
  demo = spawnSync('sh', [join(ROOT, 'install', 'demo.sh')], { env: { PATH: process.env.PATH, GITSIGN_REKOR_VERSION: '7' }, encoding: 'utf8', timeout: 240_000 });
  shown = demo.stderr
    .split('\n')
    .filter((l) => l.startsWith('$ '))
    .map((l) => l.slice(2));
});

test('the demo signs and verifies, showing each step as a shell reads it (quotes kept, no path into this checkout)', () => {
  assert.equal(demo.status, 0, demo.stderr);
  assert.match(demo.stdout, /demo: signed and verified a commit and a tag against the local Sigstore\n$/);
  assert.ok(shown.includes("git commit -S -m 'A commit signed with gitsign-ts'"), shown.join('\n'));
  assert.ok(shown.includes("git tag -s v1.0.0 -m 'A tag signed with gitsign-ts'"));
  assert.ok(shown.includes("git config user.name 'Demo User'"));
  assert.ok(shown.includes('export SIGSTORE_ID_TOKEN="$(gitsign sandbox token)"'), 'the token step is shown too');
  for (const line of shown) {
    assert.ok(!line.includes(ROOT), `${line}: a path into this checkout`);
    const syntax = spawnSync('sh', ['-n', '-c', line], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, `${line}: ${syntax.stderr}`);
  }
});

test('the transcript, pasted into a fresh sh, does the demo again: every shown command is the command that ran', () => {
  assert.equal(demo.status, 0, demo.stderr);
  // The transcript names the demo's (now removed) work directory; the paste makes it again.
  const sandboxDir = /--dir (\S+)/.exec(shown[0])?.[1];
  assert.ok(sandboxDir, shown[0]);
  const home = mkdtempSync(join(tmpdir(), 'gitsign-demo-home-'));
  const env = { PATH: `${dirname(BIN)}:${process.env.PATH}`, HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_PAGER: 'cat' };
  cleanups.push(() => {
    spawnSync(process.execPath, [BIN, 'sandbox', 'down', '--dir', sandboxDir], { env, timeout: 60_000 });
    rmSync(dirname(sandboxDir), { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  const paste = spawnSync('sh', ['-s'], { cwd: home, env, input: `set -e\n${shown.join('\n')}\n`, encoding: 'utf8', timeout: 240_000 });
  assert.equal(paste.status, 0, paste.stdout + paste.stderr);
  // Under set -e every step succeeded: the signing, git's checks, gitsign verify of the identity; and the tag's JSON says so.
  assert.match(paste.stdout, /"type":"tag","verified":true,"identities":\["demo@example\.com"\]/);
  assert.ok(shown.some((l) => l.startsWith('gitsign verify --certificate-identity demo@example.com ')), 'the identity is checked');
});
