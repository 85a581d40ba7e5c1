import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TempRepo } from './helpers/gitRepo';
import { BIN, ROOT } from './helpers/paths';
import { tracked } from './helpers/processes';
import { readSandboxEnv } from './helpers/signingSandbox';
import { gitsignRun, lockPid, removeDir, stoppedAtEnd, tempDir, upDetached, type Run } from './sandbox/support';

// `gitsign sandbox` as a tool a user drives from a shell: up --detach, status, token, down, and
// $GITSIGN_SANDBOX_DIR. Every sandbox started here is stopped at the end whatever fails (support.ts).
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));
function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

/** An environment where the default sandbox directory is a fresh one under the test's control. */
function isolatedEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: join(newDir(), 'state'), ...extra };
  if (!('GITSIGN_SANDBOX_DIR' in extra)) delete env.GITSIGN_SANDBOX_DIR;
  return env;
}

const sandbox = (args: string[], env = isolatedEnv()): Promise<Run> => gitsignRun(['sandbox', ...args], env);

const claims = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

/** No such process, or one that has exited and waits to be reaped (an orphan's new parent may be slow to). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

function holdPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

interface StatusJson {
  running: boolean;
  state: string;
  dir: string;
  pid: number | null;
  url: string | null;
  subject: string | null;
  env: string | null;
  services: Record<string, { url: string; answers: boolean | null; detail: string }>;
}

test('up --detach returns once every service answers, with DIR/env written; status says so; down stops it and waits until it is gone', async () => {
  const dir = newDir();
  const env = isolatedEnv();
  const up = await upDetached(dir, [], env);
  assert.equal(up.status, 0, up.stderr);
  // stdout is the env file's path (`. "$(gitsign sandbox up --detach)"` works); stderr says how to use and stop it.
  assert.equal(up.stdout, `${dir}/env\n`);
  assert.match(up.stderr, /ready at http:\/\/127\.0\.0\.1:\d+ in the background \(pid \d+; .*\); every service answers\n/);
  assert.match(up.stderr, new RegExp(`load its settings with: \\. '${dir}/env'\\n.*stop it with: gitsign sandbox down --dir '${dir}'\\n`));
  // Already written and served when up returns: no waiting, no polling.
  const vars = readSandboxEnv(dir);
  assert.equal(vars.GITSIGN_SANDBOX_DIR, dir);
  for (const path of ['/api/v1/log', '/api/v2/configuration', '/auth/.well-known/openid-configuration', '/api/v1/timestamp/certchain', '/tuf/timestamp.json']) {
    assert.equal((await fetch(vars.GITSIGN_FULCIO_URL + path)).status, 200, path);
  }
  const pid = lockPid(dir)!;
  assert.ok(pid > 0 && pid !== process.pid);

  const status = await sandbox(['status', '--dir', dir, '--json'], env);
  assert.equal(status.status, 0, status.stderr);
  const report = JSON.parse(status.stdout) as StatusJson;
  assert.deepEqual(
    { running: report.running, state: report.state, dir: report.dir, pid: report.pid, url: report.url, env: report.env },
    { running: true, state: 'running', dir, pid, url: vars.GITSIGN_FULCIO_URL, env: `${dir}/env` },
  );
  assert.deepEqual(Object.keys(report.services), ['oidc', 'fulcio', 'rekor', 'tsa', 'tuf']);
  for (const [name, s] of Object.entries(report.services)) assert.equal(s.answers, true, `${name}: ${s.detail}`);
  const text = await sandbox(['status', '--dir', dir], env);
  assert.equal(text.status, 0);
  assert.match(text.stdout, new RegExp(`^gitsign sandbox: running at ${vars.GITSIGN_FULCIO_URL} \\(pid ${pid}\\)\\n`));
  assert.match(text.stdout, /subject {2}sandbox-user@example\.com/);

  // A second up on the same directory says what to do instead, and leaves the first one alone.
  const again = await upDetached(dir, [], env);
  assert.equal(again.status, 1);
  assert.match(again.stderr, new RegExp(`a sandbox is already running on ${dir} \\(pid ${pid}\\): use it .* or stop it first \\(gitsign sandbox down --dir '${dir}'\\)`));
  assert.equal(lockPid(dir), pid);

  const down = await sandbox(['down', '--dir', dir], env);
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stderr, new RegExp(`stopped the sandbox at ${vars.GITSIGN_FULCIO_URL} \\(pid ${pid}\\)`));
  // Gone when down returns: the process, its lock and its port.
  assert.ok(isGone(pid), 'the sandbox process is gone');
  assert.equal(lockPid(dir), undefined);
  await assert.rejects(fetch(`${vars.GITSIGN_FULCIO_URL}/ping`));

  const stopped = await sandbox(['status', '--dir', dir, '--json'], env);
  assert.equal(stopped.status, 1);
  assert.deepEqual(
    (({ running, state, pid: p, url }) => ({ running, state, pid: p, url }))(JSON.parse(stopped.stdout) as StatusJson),
    { running: false, state: 'stopped', pid: null, url: null },
  );
  const stoppedText = await sandbox(['status', '--dir', dir], env);
  assert.equal(stoppedText.status, 1);
  assert.match(stoppedText.stdout, /not running in .*; start it with: gitsign sandbox up --detach --dir/);
  const twice = await sandbox(['down', '--dir', dir], env);
  assert.equal(twice.status, 0);
  assert.match(twice.stderr, /no sandbox is running in .*; nothing to stop/);
  // Options of one action are refused by the others.
  const misuse = await sandbox(['status', '--dir', dir, '--detach'], env);
  assert.equal(misuse.status, 1);
  assert.match(misuse.stderr, /--detach is an option of `gitsign sandbox up`/);
});

test('token refuses when the sandbox is not running, naming `gitsign sandbox up --detach`; down never signals a process that does not answer as the sandbox', async () => {
  const dir = newDir();
  const env = isolatedEnv();
  const never = await sandbox(['token', '--dir', dir], env);
  assert.equal(never.status, 1);
  assert.equal(never.stdout, '');
  assert.match(never.stderr, new RegExp(`^gitsign: no sandbox in ${dir}: start one with \`gitsign sandbox up --detach --dir ${dir}\`\\n$`));

  assert.equal((await upDetached(dir, [], env)).status, 0);
  const minted = await sandbox(['token', '--dir', dir], env);
  assert.equal(minted.status, 0, minted.stderr);
  assert.equal(claims(minted.stdout.trim()).email, 'sandbox-user@example.com');
  assert.equal((await sandbox(['down', '--dir', dir], env)).status, 0);
  const down = await sandbox(['token', '--dir', dir], env);
  assert.equal(down.status, 1);
  assert.equal(down.stdout, '', 'no token for a sandbox that is not there');
  assert.match(down.stderr, new RegExp(`^gitsign: no sandbox is running in ${dir}: start one with \`gitsign sandbox up --detach --dir '${dir}'\`\\n$`));

  // A lock left by a crash whose pid now belongs to another program: not a running sandbox, and down
  // does not signal that program.
  const other = tracked(spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }));
  try {
    // The lock taken, the URL not written yet: a sandbox still starting, which token says to wait for.
    writeFileSync(join(dir, 'sandbox.lock'), `${other.pid}\n`, { mode: 0o600 });
    const early = await sandbox(['token', '--dir', dir], env);
    assert.equal(early.status, 1);
    assert.match(early.stderr, new RegExp(`the sandbox in ${dir} is still starting \\(pid ${other.pid}\\): wait until`));
    const runtime = JSON.parse(readFileSync(join(dir, 'sandbox.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'sandbox.json'), JSON.stringify({ ...runtime, pid: other.pid }), { mode: 0o600 });
    const token = await sandbox(['token', '--dir', dir], env);
    assert.equal(token.status, 1);
    assert.match(token.stderr, new RegExp(`pid ${other.pid} holds the lock of ${dir} but nothing at http://127\\.0\\.0\\.1:\\d+ answers as its sandbox`));
    const status = await sandbox(['status', '--dir', dir, '--json'], env);
    assert.equal(status.status, 1);
    assert.equal((JSON.parse(status.stdout) as StatusJson).state, 'unresponsive');
    const refused = await sandbox(['down', '--dir', dir], env);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /if it is another program \(a lock left by a crash\), remove .*sandbox\.lock/);
    assert.equal(other.exitCode, null, 'the other program was not signalled');
    assert.equal(other.signalCode, null);
  } finally {
    other.kill('SIGKILL');
  }
});

test('$GITSIGN_SANDBOX_DIR (exported by DIR/env) is the directory of every sandbox command; --dir wins over it', async () => {
  const dir = newDir();
  const elsewhere = newDir();
  const env = isolatedEnv({ GITSIGN_SANDBOX_DIR: dir });
  stoppedAtEnd(dir);
  const up = await sandbox(['up', '--detach', '--port', '0'], env);
  assert.equal(up.status, 0, up.stderr);
  assert.equal(up.stdout, `${dir}/env\n`);
  assert.equal(readSandboxEnv(dir).GITSIGN_SANDBOX_DIR, dir);
  const status = await sandbox(['status', '--json'], env);
  assert.equal(status.status, 0, status.stdout);
  assert.equal((JSON.parse(status.stdout) as StatusJson).dir, dir);
  const token = await sandbox(['token'], env);
  assert.equal(token.status, 0, token.stderr);
  assert.equal(claims(token.stdout.trim()).iss, readSandboxEnv(dir).GITSIGN_OIDC_ISSUER);
  // --dir first: nothing runs in the other directory.
  const there = await sandbox(['status', '--dir', elsewhere], env);
  assert.equal(there.status, 1);
  assert.match(there.stdout, new RegExp(`not running in ${elsewhere}`));
  const down = await sandbox(['down'], env);
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stderr, /stopped the sandbox/);
  // The default directory was never used.
  assert.equal(existsSync(env.XDG_STATE_HOME!), false);
  // An empty variable is unset, not the current directory.
  const empty = isolatedEnv({ GITSIGN_SANDBOX_DIR: '' });
  const fallback = await sandbox(['status', '--json'], empty);
  assert.equal((JSON.parse(fallback.stdout) as StatusJson).dir, join(empty.XDG_STATE_HOME!, 'gitsign-ts', 'sandbox'));
});

test('up on a taken port exits 2 saying to use --port 0, and leaves behind nothing it made (what existed stays)', async () => {
  const { server, port } = await holdPort();
  try {
    const env = isolatedEnv();
    const base = newDir();
    const fix = new RegExp(`^gitsign: port ${port} on 127\\.0\\.0\\.1 is already in use by another program: start with --port 0 \\(any free port\\) or another --port\\n$`);
    // A new directory (and its new parent), in the foreground and with --detach.
    for (const detach of [[], ['--detach']]) {
      const r = await sandbox(['up', ...detach, '--dir', join(base, 'new', 'sandbox'), '--port', String(port)], env);
      assert.equal(r.status, 1, `${detach.join('')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, fix);
      assert.deepEqual(readdirSync(base), [], `${detach.join('')}: no directory left behind`);
    }
    // An existing directory (as mktemp -d makes) keeps exactly what it held.
    const existing = join(base, 'existing');
    mkdirSync(existing, { mode: 0o700 });
    writeFileSync(join(existing, 'notes.txt'), 'mine\n');
    const r = await sandbox(['up', '--dir', existing, '--port', String(port)], env);
    assert.equal(r.status, 1);
    assert.match(r.stderr, fix);
    assert.deepEqual(readdirSync(existing), ['notes.txt']);

    // A start failing after it made its keys (a damaged TUF key file that was there before): the keys,
    // logs and files it made are taken away, the damaged file stays as it was.
    writeFileSync(join(existing, 'tuf-keys.json'), '{"damaged": true}', { mode: 0o600 });
    const damaged = await sandbox(['up', '--dir', existing, '--port', '0'], env);
    assert.equal(damaged.status, 1, damaged.stderr);
    assert.match(damaged.stderr, /tuf-keys\.json/);
    assert.deepEqual(readdirSync(existing).sort(), ['notes.txt', 'tuf-keys.json']);
    assert.equal(readFileSync(join(existing, 'tuf-keys.json'), 'utf8'), '{"damaged": true}');
  } finally {
    server.close();
  }
});

test('up --subject chooses the identity of the device login and of token, and is kept for the next up; a signed commit carries it', async () => {
  const dir = newDir();
  const env = isolatedEnv();
  const subject = 'signer@example.com';
  const up = await upDetached(dir, ['--subject', subject], env);
  assert.equal(up.status, 0, up.stderr);
  assert.match(up.stderr, /logins sign in as signer@example\.com/);
  const vars = readSandboxEnv(dir);
  const repo = new TempRepo({ ...vars, GITSIGN_TOKEN_PROVIDER: 'device', GIT_COMMITTER_EMAIL: subject, GIT_AUTHOR_EMAIL: subject });
  try {
    repo.git('config', 'gpg.format', 'x509');
    repo.git('config', 'gpg.x509.program', BIN);
    // No token in the environment: gitsign signs in through the sandbox's device flow.
    const commit = repo.gitResult(['commit', '--allow-empty', '-S', '-q', '-m', 'signed after a device login']);
    assert.equal(commit.status, 0, commit.stderr);
    const verify = repo.gitsign(['verify', '--certificate-identity', subject, '--certificate-oidc-issuer', vars.GITSIGN_OIDC_ISSUER, 'HEAD']);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout + verify.stderr, /Good signature from \[signer@example\.com\]/);
    // Plain `gitsign verify` (the certificate's email must be the committer's) passes on your own commit.
    assert.equal(repo.gitsign(['verify', 'HEAD']).status, 0);
  } finally {
    repo.remove();
  }
  const token = await sandbox(['token', '--dir', dir], env);
  assert.equal(claims(token.stdout.trim()).email, subject);
  // A later up without --subject keeps the identity (it is in the sandbox's state).
  assert.equal((await sandbox(['down', '--dir', dir], env)).status, 0);
  const again = await upDetached(dir, [], env);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(claims((await sandbox(['token', '--dir', dir], env)).stdout.trim()).email, subject);
  const bad = await sandbox(['up', '--dir', newDir(), '--subject', 'two words'], env);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--subject must be an email or a URI/);
});

/** The README's sandbox block, as written there (only its directory is this test's). */
/** The README's "Try it locally" block, as written there (the test pastes what users paste). */
function readmeSandboxBlock(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf('Try it locally');
  assert.ok(at > 0, 'the README has its "Try it locally" block');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  assert.ok(block, 'a sh block follows "Try it locally"');
  return block[1];
}

test("the README's sandbox block, pasted into one shell, starts the sandbox, signs, verifies and stops it", async () => {
  const dir = newDir();
  stoppedAtEnd(dir);
  // `gitsign` on PATH, as install.sh puts it.
  const bin = join(newDir(), 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'gitsign'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
  chmodSync(join(bin, 'gitsign'), 0o755);
  const you = { GIT_COMMITTER_EMAIL: 'you@example.com', GIT_AUTHOR_EMAIL: 'you@example.com' };
  const repo = new TempRepo({ PATH: `${bin}:${process.env.PATH}`, XDG_STATE_HOME: join(newDir(), 'state'), ...you });
  try {
    repo.git('config', 'user.email', 'you@example.com');
    repo.git('config', 'gpg.format', 'x509');
    repo.git('config', 'gpg.x509.program', 'gitsign');
    writeFileSync(join(repo.dir, 'README'), 'hello\n');
    repo.git('add', 'README');
    const script = readmeSandboxBlock().replaceAll('/tmp/sigstore', dir);
    const r = await new Promise<Run>((resolve) => {
      const sh = tracked(spawn('sh', ['-ec', script], { cwd: repo.dir, env: repo.env, stdio: ['ignore', 'pipe', 'pipe'] }));
      let stdout = '';
      let stderr = '';
      sh.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      sh.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => sh.kill('SIGKILL'), 120_000);
      sh.on('close', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout, stderr });
      });
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /Good signature from you@example\.com \(/);
    assert.match(r.stderr, /stopped the sandbox/);
    assert.equal(repo.git('log', '-1', '--format=%s').trim(), 'signed against the local Sigstore');
    assert.equal(lockPid(dir), undefined, 'the block stopped its sandbox');
  } finally {
    repo.remove();
  }
});
