/**
 * install/install.sh in a temporary HOME and prefix (with the existing build: --no-build): programs,
 * manual pages, completion, the cache's systemd units or launchd agent, git configuration, a second
 * run that changes nothing, and --uninstall.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ROOT } from './helpers/paths';
import { removeDir, tempDir } from './sandbox/support';

const SCRIPT = join(ROOT, 'install', 'install.sh');
let dir: string;
let home: string;
let prefix: string;
let repo: string;

before(() => {
  dir = tempDir();
  home = join(dir, 'home');
  prefix = join(dir, 'prefix');
  repo = join(dir, 'repo');
  mkdirSync(home);
  execFileSync('git', ['init', '-q', repo]);
});

after(() => removeDir(dir));

const env = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache'), GIT_CONFIG_NOSYSTEM: '1' });

function install(...args: string[]): string {
  const r = spawnSync('sh', [SCRIPT, '--no-build', '--no-enable', '--prefix', prefix, ...args], { env: env(), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

/** Every installed file with a hash of its content (links by target), for comparing two runs. */
function snapshot(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isDirectory()) walk(p);
      else if (!name.endsWith('.cache')) out.push(`${p} ${(st.mode & 0o777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`);
    }
  };
  walk(prefix);
  walk(home);
  return out;
}

const git = (...args: string[]): string => spawnSync('git', args, { env: env(), encoding: 'utf8' }).stdout.trim();

test('install puts working programs on PATH, manual pages, completion, units, and git configuration', () => {
  const out = install('--configure-git', '--configure-repo', repo, '--service', 'systemd');
  const bin = join(prefix, 'bin');
  // Copies under PREFIX/lib: the checkout may go away.
  assert.equal(realpathSync(join(bin, 'gitsign')), join(prefix, 'lib', 'gitsign-ts', 'bin', 'gitsign'));
  const version = spawnSync(join(bin, 'gitsign'), ['version'], { env: env(), encoding: 'utf8' });
  assert.match(version.stdout, /^gitsign version \d/);
  assert.match(spawnSync(join(bin, 'gitsign-credential-cache'), ['--version'], { encoding: 'utf8' }).stdout, /^gitsign-credential-cache version \d/);
  assert.ok(existsSync(join(prefix, 'lib', 'gitsign-ts', 'dist', 'peercred.node')));
  for (const page of ['gitsign', 'gitsign-verify', 'gitsign-credential-cache', 'gitsign-sandbox']) {
    const man = spawnSync('man', [page], { env: { ...env(), MANPATH: join(prefix, 'share', 'man'), MANWIDTH: '80' }, encoding: 'utf8' });
    assert.equal(man.status, 0, man.stderr);
    assert.match(man.stdout, /^NAME/m);
  }
  assert.match(readFileSync(join(prefix, 'share', 'bash-completion', 'completions', 'gitsign'), 'utf8'), /complete -o bashdefault -o default -F _gitsign_yargs_completions gitsign/);
  assert.match(readFileSync(join(prefix, 'share', 'zsh', 'site-functions', '_gitsign'), 'utf8'), /^#compdef gitsign/);
  const units = join(home, '.config', 'systemd', 'user');
  assert.match(readFileSync(join(units, 'gitsign-credential-cache.service'), 'utf8'), new RegExp(`^ExecStart=${process.execPath} ${bin}/gitsign-credential-cache --systemd-socket-activation$`, 'm'));
  assert.match(readFileSync(join(units, 'gitsign-credential-cache.socket'), 'utf8'), /^ListenStream=%C\/sigstore\/gitsign\/cache\.sock$/m);
  for (const scope of [['--global'], ['-C', repo, '--local']] as const) {
    const get = (k: string): string => (scope[0] === '-C' ? git('-C', repo, 'config', '--local', k) : git('config', '--global', k));
    assert.equal(get('gpg.format'), 'x509');
    assert.equal(get('gpg.x509.program'), join(bin, 'gitsign'));
    assert.equal(get('commit.gpgsign'), 'true');
  }
  assert.match(out, new RegExp(`export GITSIGN_CREDENTIAL_CACHE="${home}/\\.cache/sigstore/gitsign/cache\\.sock"`));
});

test('a second run changes nothing (idempotent)', () => {
  const first = snapshot();
  install('--configure-git', '--configure-repo', repo, '--service', 'systemd');
  assert.deepEqual(snapshot(), first);
  assert.equal(git('config', '--global', '--get-all', 'gpg.format'), 'x509');
});

test('the launchd agent is a valid property list that runs the daemon', () => {
  install('--service', 'launchd');
  const plist = join(home, 'Library', 'LaunchAgents', 'dev.gitsign-ts.credential-cache.plist');
  const parsed = spawnSync('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.load(open(sys.argv[1],"rb"))))', plist], { encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
  const p = JSON.parse(parsed.stdout) as { Label: string; ProgramArguments: string[]; KeepAlive: boolean; RunAtLoad: boolean };
  assert.equal(p.Label, 'dev.gitsign-ts.credential-cache');
  assert.deepEqual(p.ProgramArguments, [process.execPath, join(prefix, 'bin', 'gitsign-credential-cache'), '--socket', join(home, 'Library', 'Caches', 'sigstore', 'gitsign', 'cache.sock')]);
  assert.equal(p.KeepAlive && p.RunAtLoad, true);
});

test('--uninstall removes what was installed, and only gitsign-ts git settings', () => {
  git('config', '--global', 'user.name', 'Kept');
  for (const service of ['launchd', 'systemd']) install('--uninstall', '--configure-git', '--configure-repo', repo, '--service', service);
  assert.deepEqual(readdirSync(join(prefix, 'bin')), []);
  assert.equal(existsSync(join(prefix, 'lib', 'gitsign-ts')), false);
  assert.deepEqual(readdirSync(join(prefix, 'share', 'man', 'man1')), []);
  assert.deepEqual(readdirSync(join(home, '.config', 'systemd', 'user')), []);
  assert.equal(existsSync(join(home, 'Library', 'LaunchAgents', 'dev.gitsign-ts.credential-cache.plist')), false);
  assert.equal(git('config', '--global', 'gpg.x509.program'), '');
  assert.equal(git('-C', repo, 'config', '--local', 'gpg.x509.program'), '');
  assert.equal(git('config', '--global', 'user.name'), 'Kept');
});

test('unknown options are refused with the usage', () => {
  const r = spawnSync('sh', [SCRIPT, '--frobnicate'], { env: env(), encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option --frobnicate[\s\S]*Usage: install\/install\.sh/);
});
