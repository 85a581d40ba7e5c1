/**
 * install/install.sh installs the server hook as PREFIX/share/gitsign-ts/hooks/pre-receive, made to run
 * the gitsign it installed (a server's hooks seldom have PREFIX/bin on PATH, and a prefix may hold a
 * quote): linked from a bare repository, it refuses an unsigned push with gitsign's reason, though
 * neither GITSIGN nor PATH names gitsign; --uninstall removes it.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { person, SignedHistory } from './helpers/auditHistory';
import { ROOT } from './helpers/paths';
import { PushServer } from './helpers/pushServer';
import { removeDir, sandboxPerFile, tempDir } from './helpers/signingSandbox';

const sb = sandboxPerFile();
let work = '';
let prefix = '';
let home = '';

const install = (...args: string[]): string =>
  execFileSync('sh', [join(ROOT, 'install', 'install.sh'), '--no-build', '--service', 'none', '--prefix', prefix, ...args], {
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: home },
    encoding: 'utf8',
  });

before(() => {
  work = tempDir();
  prefix = join(work, "pre'fix");
  home = join(work, 'home');
  mkdirSync(home);
});
after(() => removeDir(work));

test('the installed hook runs the installed gitsign and refuses a push that breaks the policy; --uninstall removes it', () => {
  install();
  const hook = join(prefix, 'share', 'gitsign-ts', 'hooks', 'pre-receive');
  assert.equal(statSync(hook).mode & 0o777, 0o755);

  const h = new SignedHistory(sb);
  const server = new PushServer(h);
  try {
    const policy = ['version: 1', 'serial: 1', 'principals:', `  alice: ${person(h.issuer, 'alice@example.com')}`, 'rules:', '  - paths: ["**"]', '    signers: [alice]', 'policy:', '  signers: [alice]'].join('\n');
    h.commit('alice@example.com', 'policy', { '.gitsign/policy.yaml': policy });
    assert.equal(server.push(null, ['-q', 'origin', 'main']).status, 0);
    symlinkSync(hook, join(server.dir, 'hooks', 'pre-receive'));
    h.commit(null, 'unsigned', { 'a.txt': '1' });
    // Neither GITSIGN nor a PATH with gitsign on it: the hook names the installed program itself.
    const env = { ...h.repo.env, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    assert.notEqual(spawnSync('sh', ['-c', 'command -v gitsign'], { env }).status, 0, 'no gitsign on this PATH');
    const r = spawnSync('git', ['push', 'origin', 'main'], { cwd: h.repo.dir, env, encoding: 'utf8', timeout: 120_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /remote: gitsign: refs\/heads\/main: refused:/);
    assert.match(r.stderr, /NOT_SIGNED/);
  } finally {
    h.remove();
    server.remove();
  }
  install('--uninstall');
  assert.equal(existsSync(hook), false);
});
