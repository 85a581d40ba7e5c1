/**
 * Issue 10, findings 18 and 13 (log file and /dev/tty): where gitsign writes. A signature that cannot
 * reach stdout (closed, /dev/null, a reader that went away) is a failed signing, and a reader that
 * goes away during `gitsign verify` is an error, never a crash or a silent success. GITSIGN_LOG is
 * appended to, never through a symbolic link, never waited on; /dev/tty is never created.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TempRepo } from './helpers/gitRepo';
import { corpusFile, importFiles, signedRows } from './helpers/corpus';
import { BIN, sharedMissing } from './helpers/paths';
import { mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';
import { removeDir, tempDir } from './sandbox/support';

const sb = sandboxPerFile();
const PAYLOAD = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <test@example.com> 1 +0000\ncommitter A <test@example.com> 1 +0000\n\nmsg\n';
const SIGN = [BIN, '--status-fd=2', '-bsau', 'A <test@example.com>'];

/** A repository whose signing would succeed (sandbox, fresh token, no timestamp). */
function readyToSign(): TempRepo {
  return signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir), GITSIGN_TIMESTAMP_SERVER_URL: '' });
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A command whose stdout pipe is closed by us before it writes anything (its reader has gone away). */
function withReaderGone(args: string[], cwd: string, env: NodeJS.ProcessEnv, input: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: 'pipe' });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: '', stderr });
    });
    child.stdin.end(input);
  });
}

const noStackTrace = (stderr: string): void => assert.doesNotMatch(stderr, /^\s+at |node:internal|Unhandled|EPIPE\b.*\n\s+at/m, stderr);

describe('finding 18: a closed or broken stdout', () => {
  test('signing with stdout closed, or sent to /dev/null, fails before anything is signed: exit 1, no SIG_CREATED', () => {
    const repo = readyToSign();
    try {
      for (const redirect of ['>&-', '>/dev/null']) {
        const r = spawnSync('sh', ['-c', `exec "$0" "$@" ${redirect}`, process.execPath, ...SIGN], { cwd: repo.dir, env: repo.env, input: PAYLOAD, encoding: 'utf8' });
        assert.equal(r.status, 1, `${redirect}: ${r.stderr}`);
        assert.doesNotMatch(r.stderr, /SIG_CREATED|BEGIN_SIGNING|Generating ephemeral keys/, redirect);
        assert.match(r.stderr, /^gitsign: error signing: standard output is closed or \/dev\/null: the signature would be lost$/m, redirect);
      }
      // The same call with a stdout that keeps the signature signs.
      const ok = spawnSync(process.execPath, SIGN, { cwd: repo.dir, env: repo.env, input: PAYLOAD, encoding: 'utf8' });
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stderr, /SIG_CREATED/);
    } finally {
      repo.remove();
    }
  });

  test('git commit -S with a signer whose stdout is closed: no commit, repository untouched', () => {
    const repo = readyToSign();
    try {
      const wrapper = join(repo.dir, '.home', 'closed-stdout-signer');
      writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@" >&-\n`);
      chmodSync(wrapper, 0o755);
      repo.git('config', 'gpg.x509.program', wrapper);
      writeFileSync(join(repo.dir, 'file.txt'), 'staged\n');
      repo.git('add', 'file.txt');
      const status = repo.git('status', '--porcelain');
      const r = repo.gitResult(['commit', '-S', '-q', '-m', 'must not be made']);
      assert.notEqual(r.status, 0, r.stderr);
      assert.equal(repo.gitResult(['rev-parse', '--verify', '-q', 'HEAD']).status, 1, 'HEAD moved');
      assert.equal(repo.git('status', '--porcelain'), status);
    } finally {
      repo.remove();
    }
  });

  test('signing whose reader went away: exit 1, no SIG_CREATED, an error line, no crash', async () => {
    const repo = readyToSign();
    try {
      const r = await withReaderGone(SIGN, repo.dir, repo.env, PAYLOAD);
      assert.equal(r.status, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /SIG_CREATED/);
      assert.match(r.stderr, /^gitsign: error signing: cannot write the signature to standard output: its reader went away$/m);
      noStackTrace(r.stderr);
    } finally {
      repo.remove();
    }
  });

  test('gitsign verify whose reader went away (as `gitsign verify | head -1`): exit 1 and a message, no crash', { skip: sharedMissing() }, async () => {
    const repo = new TempRepo();
    try {
      const rows = signedRows().filter((r) => r.kind === 'commit').slice(0, 30);
      const shas = importFiles(repo, rows.map(corpusFile), 'commit');
      const relaxed = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];
      for (const json of [[], ['--json']]) {
        const r = await withReaderGone([BIN, 'verify', '--stdin', ...json, ...relaxed], repo.dir, repo.env, `${shas.join('\n')}\n`);
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /^gitsign: cannot write the output to standard output: its reader went away$/m);
        noStackTrace(r.stderr);
      }
    } finally {
      repo.remove();
    }
  });
});

/** A repository where signing fails at once (no ID token, no login): the sandbox's trust root, no network. */
function cannotSign(): TempRepo {
  return signingRepo({ ...sb.env, GITSIGN_TOKEN_PROVIDER: 'envvar' });
}

/** gitsign failing fast after opening its log: it writes one error line to stderr and the log. */
function failFast(repo: TempRepo, log: string): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, SIGN, {
    cwd: repo.dir,
    env: { ...repo.env, GITSIGN_LOG: log },
    input: PAYLOAD,
    encoding: 'utf8',
    timeout: 30_000,
  });
}

describe('finding 13: GITSIGN_LOG', () => {
  let repo: TempRepo;
  let dir: string;
  before(() => {
    repo = cannotSign();
    dir = tempDir();
  });
  after(() => {
    repo?.remove();
    removeDir(dir);
  });

  test('a symbolic link at the log path is not followed: its target keeps its bytes', () => {
    const victim = join(dir, 'victim');
    const link = join(dir, 'log-link');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, link);
    const r = failFast(repo, link);
    assert.equal(r.status, 1);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n');
    assert.match(String(r.stderr), /cannot open log file .*log-link: it is a symbolic link/);
  });

  test('the log is appended to (never truncated), and created 0600', () => {
    const log = join(dir, 'gitsign.log');
    assert.equal(failFast(repo, log).status, 1);
    assert.equal(statSync(log).mode & 0o777, 0o600);
    const first = readFileSync(log, 'utf8');
    assert.match(first, /error signing/);
    assert.equal(failFast(repo, log).status, 1);
    assert.equal(readFileSync(log, 'utf8'), first + first);
  });

  test('a FIFO at the log path is refused, not waited on', () => {
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = failFast(repo, fifo);
    assert.equal(r.signal, null, 'gitsign hung opening the FIFO');
    assert.equal(r.status, 1);
    assert.match(String(r.stderr), /cannot open log file .*fifo: it is a FIFO without a reader/);
  });
});

/** Whether this process may make a private mount namespace (root, or a user namespace); the tests skip otherwise. */
function mountNamespace(): string | false {
  const r = spawnSync('unshare', ['-m', 'true']);
  return r.status === 0 ? false : `cannot make a mount namespace (unshare -m: ${r.error?.message ?? String(r.stderr).trim()})`;
}

describe('finding 13: /dev/tty', { skip: mountNamespace() }, () => {
  /**
   * gitsign failing to sign (so it writes its error to the terminal and to stderr) in a private mount
   * namespace whose /dev has no tty (`missing`) or a regular file in its place (`file`); prints what is
   * at /dev/tty afterwards.
   */
  function inPrivateDev(tty: 'missing' | 'file', repo: TempRepo): { status: number | null; stderr: string; tty: string } {
    // Everything the script makes is under the repository (removed after) or in the namespace's own /dev.
    const script = `set -e
keep="$PWD/.real-dev"
mkdir "$keep"
mount --bind /dev "$keep"
mount -t tmpfs tmpfs /dev
for n in null zero random urandom; do touch /dev/$n; mount --bind "$keep/$n" /dev/$n; done
${tty === 'file' ? ': > /dev/tty' : ''}
set +e
"$0" "$@" < /dev/null 2> "$PWD/.stderr"
echo "exit=$?"
if [ -c /dev/tty ]; then echo tty=device; elif [ -f /dev/tty ]; then echo "tty=file:$(wc -c < /dev/tty)"; else echo tty=missing; fi
cat "$PWD/.stderr" >&2
`;
    const r = spawnSync('unshare', ['-m', 'sh', '-c', script, process.execPath, ...SIGN], {
      cwd: repo.dir,
      env: repo.env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return { status: Number(/exit=(\d+)/.exec(r.stdout)?.[1]), stderr: r.stderr, tty: /tty=(.*)/.exec(r.stdout)?.[1] ?? '' };
  }

  test('a missing /dev/tty is not created, and the error still reaches stderr', () => {
    const repo = cannotSign();
    try {
      const r = inPrivateDev('missing', repo);
      assert.equal(r.status, 1);
      assert.equal(r.tty, 'missing');
      assert.match(r.stderr, /^gitsign: error signing: /m);
    } finally {
      repo.remove();
    }
  });

  test('a regular file at /dev/tty is not written to', () => {
    const repo = cannotSign();
    try {
      const r = inPrivateDev('file', repo);
      assert.equal(r.status, 1);
      assert.equal(r.tty, 'file:0');
      assert.match(r.stderr, /^gitsign: error signing: /m);
    } finally {
      repo.remove();
    }
  });
});
