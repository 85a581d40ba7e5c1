import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { splitCommit } from '../src/git/rawobj';
import { offlineMirror } from './helpers/offlineMirror';
import { BIN, CORPUS, sharedMissing } from './helpers/paths';

/**
 * git's verify call starts once per signed object shown: the Node modules it loads are part of every
 * call's time. It reads git config and verifies; it makes no network call and runs no child through
 * child_process, so node:tls, node:net, node:http(s) and node:child_process (which brings node:net,
 * node:dgram and the streams) must not load (they cost ~10% of the call's CPU when they did).
 */
const work = mkdtempSync(join(tmpdir(), 'gitsign-hot-'));
after(() => rmSync(work, { recursive: true, force: true }));

const NOT_ON_HOT_PATH = ['tls', 'net', 'http', 'https', 'child_process', 'dgram', 'worker_threads', 'zlib'];

function modulesLoaded(env: NodeJS.ProcessEnv): { loaded: string[]; status: string } {
  const raw = readFileSync(join(CORPUS, 'sigstore__gitsign', 'fe1e62346d3c346a343d089e8b4c3fb57716bc94.commit'));
  const { payload, signature } = splitCommit(raw);
  writeFileSync(join(work, 'sig.pem'), signature!);
  const list = join(work, 'modules.txt');
  const hook = join(work, 'hook.js');
  writeFileSync(hook, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const r = spawnSync(process.execPath, ['-r', hook, BIN, '--status-fd=1', '--verify', join(work, 'sig.pem'), '-'], { input: payload, env, cwd: work, encoding: 'utf8', timeout: 60_000 });
  const loaded = readFileSync(list, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('NativeModule '))
    .map((l) => l.slice('NativeModule '.length));
  return { loaded, status: r.stdout };
}

for (const offline of [true, false]) {
  const name = offline ? 'GITSIGN_OFFLINE=true' : 'the default configuration: the cached TUF copy, two days old, so a refresh is started';
  test(`git's verify call (${name}) loads none of node:${NOT_ON_HOT_PATH.join(', node:')}`, { skip: sharedMissing() }, async () => {
    const home = mkdtempSync(join(work, 'home-'));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, XDG_CACHE_HOME: join(home, 'cache'), TUF_ROOT: join(home, 'tuf'), GIT_CONFIG_NOSYSTEM: '1', ...(offline ? { GITSIGN_OFFLINE: 'true' } : {}) };
    const mirror = await offlineMirror(env);
    mirror.due();
    const { loaded, status } = modulesLoaded(env);
    // The background refresh (if started) ends before its directory is removed.
    await mirror.settled();
    assert.match(status, /GOODSIG/, 'the signature verifies');
    assert.deepEqual(
      loaded.filter((m) => NOT_ON_HOT_PATH.includes(m)),
      [],
    );
  });
}
