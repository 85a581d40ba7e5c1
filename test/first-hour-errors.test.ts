/**
 * The mistakes of a newcomer's first hour (issue 13), each made for real (real git repositories, the
 * `gitsign sandbox` as a separate process): every message is one "gitsign: " line that says what went
 * wrong and names the fix, never a stack trace, a yargs message or an "Error:" prefix.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { GitsignError } from '../src/errors';
import { CatFile } from '../src/git/catFile';
import { TempRepo } from './helpers/gitRepo';
import { BIN } from './helpers/paths';
import { gitAsync, mintToken, readSandboxEnv, sandboxPerFile, signingRepo } from './helpers/signingSandbox';
import { gitsignRun, tempDir, upDetached } from './sandbox/support';

const sb = sandboxPerFile();

/** The trust settings DIR/env exports: without them, the public-good trust root is used. */
const TRUST_SETTINGS = ['GITSIGN_TRUSTED_ROOT', 'GITSIGN_FULCIO_ROOT', 'GITSIGN_TIMESTAMP_CERT_CHAIN', 'SIGSTORE_REKOR_PUBLIC_KEY', 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE'];

/** What no message of ours may contain: a runtime trace, yargs' words, another prefix than "gitsign: ". */
const NOT_OURS = /^\s+at |node:internal|Unhandled 'error'|Unknown arguments?:|non-option arguments|Not enough arguments|Invalid values:|Missing required argument|^Error:/m;

function assertOurs(stderr: string, what: string): void {
  assert.doesNotMatch(stderr, NOT_OURS, what);
  assert.ok(stderr.startsWith('gitsign: '), `${what}: ${stderr}`);
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A directory in no git repository (git does not look above it). */
function outsideAnyRepository(): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'gitsign-norepo-'));
  dirs.push(dir);
  return { dir, env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CEILING_DIRECTORIES: tmpdir() } };
}

/** A repository signing against the sandbox, with gitsign's stderr kept in a log (git shows none of it). */
function sandboxRepo(extra: NodeJS.ProcessEnv = {}): { repo: TempRepo; log: string; commit: (env?: NodeJS.ProcessEnv) => ReturnType<typeof gitAsync> } {
  const repo = signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir), ...extra });
  const log = join(repo.dir, '.home', 'gitsign.log');
  return { repo, log, commit: (env = {}) => gitAsync(repo, ['commit', '-q', '-S', '--allow-empty', '-m', 'first hour'], { GITSIGN_LOG: log, ...env }) };
}

function lines(text: string): string[] {
  return text.split('\n').filter(Boolean);
}

/**
 * Blocks until the process has exited, without letting Node see it (no event loop turn): Linux shows it
 * as a zombie until Node reaps it. Bounded: a git that never exits fails the test.
 */
function waitUntilExitedUnnoticed(pid: number): void {
  const deadline = Date.now() + 10_000;
  while (!/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))) {
    if (Date.now() > deadline) throw new Error(`git (pid ${pid}) did not exit within 10 s`);
  }
}

/** A port something listens on, until close(). */
async function heldPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('outside a git repository', () => {
  test('gitsign verify: "not inside a git repository" and the fix, exit 1, never a stack trace (also with 2,000 names on stdin, which crashed with an unhandled EPIPE)', () => {
    const { dir, env } = outsideAnyRepository();
    const names = `${Array.from({ length: 2000 }, (_, i) => `c${i}`).join('\n')}\n`;
    const runs = ([[['verify'], ''], [['verify', 'HEAD~1..HEAD'], ''], [['verify', '--stdin'], names], [['verify', '--stdin'], names], [['verify', '--stdin'], names]] as const).map(([args, input]) => ({
      what: args.join(' '),
      r: spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, input, encoding: 'utf8', timeout: 60_000 }),
    }));
    // No crash first (the EPIPE), then the words.
    for (const { what, r } of runs) {
      assert.doesNotMatch(r.stderr, NOT_OURS, what);
      assert.equal(r.status, 1, `${what}: ${r.stderr}`);
    }
    for (const { what, r } of runs) assert.equal(r.stderr, 'gitsign: not inside a git repository: cd into one (or point GIT_DIR at its .git directory)\n', what);
  });

  test('CatFile: requests written after git exited (before Node noticed) are the GIT error, never an unhandled EPIPE that kills the process', { skip: !existsSync('/proc/self/stat') && 'needs /proc to see that git exited' }, async () => {
    const { dir } = outsideAnyRepository();
    const saved = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = tmpdir();
    const catFile = new CatFile(dir);
    try {
      const pid = (catFile as unknown as { proc: ChildProcess }).proc.pid as number;
      // The names come only once git is gone, in the same turn of the event loop: each write meets a closed pipe.
      async function* names(): AsyncGenerator<string> {
        waitUntilExitedUnnoticed(pid);
        for (let i = 0; i < 3; i++) yield `HEAD~${i}`;
      }
      await assert.rejects(
        async () => {
          for await (const _ of catFile.readAll(names())) assert.fail('git answered outside a repository');
        },
        (e: unknown) => e instanceof GitsignError && e.code === 'GIT' && /^not inside a git repository/.test(e.message),
      );
      // A later request, once Node has seen the exit, fails the same way.
      await assert.rejects(catFile.read('HEAD'), (e: unknown) => e instanceof GitsignError && e.code === 'GIT');
    } finally {
      catFile.close();
      if (saved === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = saved;
    }
  });

  test('git not on PATH: a sentence saying so, not "spawn git ENOENT"', () => {
    const { dir } = outsideAnyRepository();
    const r = spawnSync(process.execPath, [BIN, 'verify'], { cwd: dir, env: { PATH: join(dir, 'no-such-dir'), HOME: dir }, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stderr, 'gitsign: cannot run git: it is not installed or not on PATH (install git, or add its directory to PATH)\n');
  });
});

describe('ID tokens', () => {
  test('SIGSTORE_ID_TOKEN set but empty: says it is empty, how to mint one (gitsign sandbox token) or to unset it', async () => {
    const { repo, log, commit } = sandboxRepo({ SIGSTORE_ID_TOKEN: '' });
    try {
      const r = await commit();
      assert.notEqual(r.status, 0);
      const said = readFileSync(log, 'utf8');
      assertOurs(said, 'empty token');
      assert.match(said, /^gitsign: error signing: SIGSTORE_ID_TOKEN is set but empty: put a fresh ID token in SIGSTORE_ID_TOKEN \(from a local sandbox: export SIGSTORE_ID_TOKEN="\$\(gitsign sandbox token\)"\), or unset SIGSTORE_ID_TOKEN to sign in with the browser\n$/);
    } finally {
      repo.remove();
    }
  });

  test('an expired ID token is refused before Fulcio is asked (no key is made): "expired 12 minutes ago" and what to do', async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = mintToken(sb.dir, 'test@example.com', { iat: now - 1800, exp: now - 750 });
    const { repo, log, commit } = sandboxRepo({ SIGSTORE_ID_TOKEN: expired });
    try {
      const r = await commit();
      assert.notEqual(r.status, 0);
      const said = readFileSync(log, 'utf8');
      assertOurs(said, 'expired token');
      assert.match(said, /^gitsign: error signing: the ID token from envvar \(for test@example\.com\) expired 1[23] minutes ago, at \S+ by this machine's clock: put a fresh ID token in SIGSTORE_ID_TOKEN \(from a local sandbox: export SIGSTORE_ID_TOKEN="\$\(gitsign sandbox token\)"\)/);
      assert.doesNotMatch(said, /Generating ephemeral keys|Fulcio/);
    } finally {
      repo.remove();
    }
  });
});

describe('a sandbox-signed commit checked without the sandbox\'s trust root', () => {
  const HINT = /; it was signed with a gitsign sandbox \(CA "CN=sigstore-intermediate,O=gitsign-ts sandbox"\), which the trust root in use does not include: load the sandbox's settings \(\. DIR\/env\) or pass --trusted-root DIR\/trusted_root\.json \(`gitsign sandbox status` names DIR\)\n$/;

  /** The object's failure line from `gitsign verify --offline` with the public-good root (the trust settings unset). */
  function withoutSandboxRoot(repo: TempRepo, args: string[] = []): string {
    const env = Object.fromEntries(TRUST_SETTINGS.map((k) => [k, undefined]));
    const r = repo.gitsign(['verify', '--offline', ...args], undefined, env);
    assert.equal(r.status, 1, r.stdout);
    assertOurs(r.stderr, args.join(' '));
    return r.stderr;
  }

  test('a timestamped commit: the TSA failure names the sandbox and the fix, and the fix (--trusted-root DIR/trusted_root.json) verifies it', async () => {
    const { repo, commit } = sandboxRepo();
    try {
      assert.equal((await commit()).status, 0);
      const said = withoutSandboxRoot(repo);
      assert.match(said, /^gitsign: commit [0-9a-f]{40}: RFC 3161 timestamp does not verify: it was not issued by a trusted timestamp authority \(signer serial [0-9a-f]+\)/);
      assert.match(said, HINT);
      const fixed = repo.gitsign(['verify', '--offline', '--trusted-root', join(sb.dir, 'trusted_root.json')], undefined, Object.fromEntries(TRUST_SETTINGS.map((k) => [k, undefined])));
      assert.equal(fixed.status, 0, fixed.stderr);
      // git verify-commit (git's call, where --trusted-root cannot be passed) shows the same hint.
      const git = spawnSync('git', ['verify-commit', 'HEAD'], { cwd: repo.dir, env: { ...repo.env, ...Object.fromEntries(TRUST_SETTINGS.map((k) => [k, undefined])), GITSIGN_OFFLINE: 'true' }, encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(git.status, 0);
      assert.match(git.stderr, /^gitsign: RFC 3161 timestamp does not verify: it was not issued by a trusted timestamp authority .*; it was signed with a gitsign sandbox .* or pass --trusted-root DIR\/trusted_root\.json/m);
    } finally {
      repo.remove();
    }
  });

  test('an untimestamped commit: the log failure gets the hint; a trust root without the sandbox CA gives the chain failure with the hint', async () => {
    const { repo, commit } = sandboxRepo({ GITSIGN_TIMESTAMP_SERVER_URL: '' });
    try {
      assert.equal((await commit()).status, 0);
      const said = withoutSandboxRoot(repo);
      assert.match(said, /^gitsign: commit [0-9a-f]{40}: transparency log entry does not verify: its log \(ID \S+\) is not in the trusted root/);
      assert.match(said, HINT);
      // The sandbox's trust root with its Fulcio CA replaced by its TSA's: the log verifies, the chain does not.
      const root = JSON.parse(readFileSync(join(sb.dir, 'trusted_root.json'), 'utf8')) as { certificateAuthorities: { certChain: unknown; subject?: unknown }[]; timestampAuthorities: { certChain: unknown }[] };
      root.certificateAuthorities = root.certificateAuthorities.map((ca) => ({ ...ca, subject: { organization: 'other', commonName: 'other' }, certChain: root.timestampAuthorities[0].certChain }));
      const otherCa = join(repo.dir, '.home', 'other-ca.json');
      writeFileSync(otherCa, JSON.stringify(root));
      const chain = withoutSandboxRoot(repo, ['--trusted-root', otherCa]);
      assert.match(chain, /^gitsign: commit [0-9a-f]{40}: certificate is not trusted: no trusted CA valid at \S+ issued this certificate/);
      assert.match(chain, HINT);
    } finally {
      repo.remove();
    }
  });

  test('a failure that is not about the trust root (another identity) gets no sandbox hint', async () => {
    const { repo, commit } = sandboxRepo();
    try {
      assert.equal((await commit()).status, 0);
      const r = repo.gitsign(['verify', '--offline', '--certificate-identity', 'someone@example.com', '--certificate-oidc-issuer', sb.env.GITSIGN_OIDC_ISSUER]);
      assert.equal(r.status, 1);
      assertOurs(r.stderr, 'identity');
      assert.doesNotMatch(r.stderr, /sandbox/);
    } finally {
      repo.remove();
    }
  });
});

describe('verify-tag on a lightweight tag', () => {
  test('says it is lightweight and has no signature, names gitsign verify NAME, and that command verifies the commit', async () => {
    const { repo, commit } = sandboxRepo();
    try {
      assert.equal((await commit()).status, 0);
      repo.git('tag', '--no-sign', 'light');
      const sha = repo.git('rev-parse', 'HEAD').trim();
      const r = repo.gitsign(['verify-tag', 'light']);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `gitsign: light is a lightweight tag: it names commit ${sha} directly and has no signature of its own; verify the commit it names with: gitsign verify light\n`);
      const json = JSON.parse(repo.gitsign(['verify-tag', '--json', 'light']).stdout) as { type: string; error: { code: string } };
      assert.deepEqual([json.type, json.error.code], ['commit', 'NOT_SIGNED']);
      const instead = repo.gitsign(['verify', 'light']);
      assert.equal(instead.status, 0, instead.stderr);
    } finally {
      repo.remove();
    }
  });
});

describe('usage mistakes', () => {
  test('each is one "gitsign: " line naming the fix, exit 1, nothing on stdout, no yargs words', () => {
    const repo = new TempRepo();
    try {
      const cases: [string[], RegExp][] = [
        [['--verfy'], /^gitsign: unknown option "--verfy": did you mean --verify\? \(git calls gitsign with --status-fd=N and -bsau KEY or --verify FILE -; to verify commits yourself: gitsign verify; gitsign --help lists the commands\)\n$/],
        [['verify', '--certifcate-identity', 'you@example.com'], /^gitsign: unknown option "--certifcate-identity" for gitsign verify: did you mean --certificate-identity\?\n$/],
        [['verify-tag', '--certifcate-oidc-issuer=x', 'v1'], /^gitsign: unknown option "--certifcate-oidc-issuer" for gitsign verify-tag: did you mean --certificate-oidc-issuer\?\n$/],
        [['verify', '-x'], /^gitsign: unknown option "-x" for gitsign verify \(gitsign verify --help lists its options\)\n$/],
        [['verify-tag'], /^gitsign: verify-tag needs a tag name: gitsign verify-tag v1\.0\n$/],
        [['verify-bundle'], /^gitsign: verify-bundle needs the signed file \(or sha256:<hex> of it\): gitsign verify-bundle FILE --bundle FILE\.sigstore\.json\n$/],
        [['verify-bundle', 'file.txt'], /^gitsign: verify-bundle needs --bundle FILE\.sigstore\.json, the Sigstore bundle to verify \(gitsign verify-bundle --help shows its usage\)\n$/],
        [['sandbox'], /^gitsign: sandbox needs an action, one of up, status, token, down or rotate-tuf: gitsign sandbox up --detach\n$/],
        [['sandbox', 'upp'], /^gitsign: "upp" is not a valid action for gitsign sandbox \(did you mean up\?\): choose up, status, token, down, rotate-tuf\n$/],
        [['sandbox', 'up', '--port', 'abc'], /^gitsign: --port needs a number, not "abc", e\.g\. --port 0\n$/],
        [['verify', '--certificate-identity'], /^gitsign: --certificate-identity needs a value, e\.g\. --certificate-identity you@example\.com\n$/],
        [['verify', '--certificate-identity', '--certificate-oidc-issuer', 'https://issuer.example'], /^gitsign: --certificate-identity needs a value, e\.g\. --certificate-identity you@example\.com\n$/],
        [['verify-tag', 'v1', '--certificate-oidc-issuer'], /^gitsign: --certificate-oidc-issuer needs a value, e\.g\. --certificate-oidc-issuer https:\/\/github\.com\/login\/oauth\n$/],
        [['show', 'HEAD', 'extra'], /^gitsign: unexpected argument "extra" for gitsign show \(gitsign show --help shows its usage\)\n$/],
        [['frobnicate'], /^gitsign: unknown command "frobnicate" for "gitsign"\nRun 'gitsign --help' for usage\.\n$/],
        [['verfy'], /^gitsign: unknown command "verfy" for "gitsign"\n\nDid you mean this\?\n\tverify\n\nRun 'gitsign --help' for usage\.\n$/],
      ];
      for (const [args, expected] of cases) {
        const r = repo.gitsign(args);
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '', args.join(' '));
        assertOurs(r.stderr, args.join(' '));
        assert.doesNotMatch(r.stderr, /[a-z][A-Z]\w*(,|$)/m, `${args.join(' ')}: a camelCase twin`);
        assert.match(r.stderr, expected, args.join(' '));
      }
    } finally {
      repo.remove();
    }
  });

  test('an identity flag given an explicit empty value (--certificate-identity=) is "not given", as in Go: no usage error', async () => {
    const { repo, commit } = sandboxRepo();
    try {
      assert.equal((await commit()).status, 0);
      const r = repo.gitsign(['verify', '--certificate-identity=']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /identity checked: certificate email equals committer email test@example\.com/);
    } finally {
      repo.remove();
    }
  });
});

describe('services and ports', () => {
  test('the sandbox stopped: signing says Fulcio cannot be reached, asks whether the sandbox of GITSIGN_SANDBOX_DIR is running and names gitsign sandbox status', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const up = await upDetached(dir);
    assert.equal(up.status, 0, up.stderr);
    const env = readSandboxEnv(dir);
    const token = mintToken(dir);
    assert.equal((await gitsignRun(['sandbox', 'down', '--dir', dir])).status, 0);
    const repo = signingRepo({ ...env, SIGSTORE_ID_TOKEN: token });
    try {
      const log = join(repo.dir, '.home', 'gitsign.log');
      const r = await gitAsync(repo, ['commit', '-q', '-S', '--allow-empty', '-m', 'x'], { GITSIGN_LOG: log });
      assert.notEqual(r.status, 0);
      const said = lines(readFileSync(log, 'utf8')).filter((l) => l.startsWith('gitsign: '));
      assert.equal(said.length, 1, said.join('\n'));
      assertOurs(said[0], 'sandbox down');
      const escaped = dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      assert.match(
        said[0],
        new RegExp(`^gitsign: error signing: cannot reach Fulcio at http://127\\.0\\.0\\.1:\\d+ \\(ECONNREFUSED\\): nothing listens there: is the sandbox of GITSIGN_SANDBOX_DIR \\(${escaped}\\) running\\? gitsign sandbox status tells; gitsign sandbox up --detach starts it$`),
      );
    } finally {
      repo.remove();
    }
  });

  test('the login redirect port in use (gitsign.redirectURL): a sentence with the fix, not EADDRINUSE', async () => {
    const held = await heldPort();
    const { repo, log } = sandboxRepo({ SIGSTORE_ID_TOKEN: undefined });
    try {
      const r = await gitAsync(repo, ['commit', '-q', '-S', '--allow-empty', '-m', 'x'], {
        GITSIGN_LOG: log,
        GITSIGN_TOKEN_PROVIDER: 'interactive',
        GITSIGN_OIDC_REDIRECT_URL: `http://127.0.0.1:${held.port}/auth/callback`,
      });
      assert.notEqual(r.status, 0);
      const said = readFileSync(log, 'utf8');
      assertOurs(said, 'redirect port');
      assert.match(
        said,
        new RegExp(`^gitsign: error signing: cannot listen on 127\\.0\\.0\\.1:${held.port} for the login redirect: it is already in use by another program; choose another port in gitsign\\.redirectURL, or unset it \\(a free port is then chosen\\)\\n$`),
      );
    } finally {
      held.server.close();
      repo.remove();
    }
  });

  test('sandbox up on a port in use: a sentence with the fix (--port 0)', async () => {
    const held = await heldPort();
    const dir = tempDir();
    dirs.push(dir);
    try {
      const r = await gitsignRun(['sandbox', 'up', '--dir', dir, '--port', String(held.port)]);
      assert.equal(r.status, 1, r.stderr);
      assertOurs(r.stderr, 'sandbox port');
      assert.match(r.stderr, new RegExp(`port ${held.port} on 127\\.0\\.0\\.1 is already in use by another program: start with --port 0 \\(any free port\\) or another --port`));
    } finally {
      held.server.close();
    }
  });
});
