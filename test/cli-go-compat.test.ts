/**
 * What a user or a script switching from the Go gitsign meets on the command line, as Go's source has
 * it (main.go, internal/commands, pkg/version, cobra): unknown commands and help, exit statuses,
 * `gitsign version`, the identity flags, and the line that says who signed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { signedWithLine } from '../src/cli/gitSign';
import { seededPublicGoodRoot } from '../src/trust/publicGood';
import { Certificate } from '../src/x509/certificate';
import { ext, encodeExtension, OIDS } from '../src/sandbox/x509/build';
import { importFiles, corpusFile, parseJsonLines, signedRows } from './helpers/corpus';
import { TempRepo } from './helpers/gitRepo';
import { BIN, ROOT, sharedMissing } from './helpers/paths';
import { requirePeer } from './helpers/peers';
import { mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';
import { TestPki } from './helpers/testPki';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const RUN_HELP = "Run 'gitsign --help' for usage.";

/** The help yargs prints for `gitsign --help`: what every way of asking for it must print. */
function rootHelp(repo: TempRepo): string {
  const r = repo.gitsign(['--help']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^gitsign: keyless git signing with Sigstore/);
  return r.stdout;
}

describe('commands and help', () => {
  test('an unknown command is an error in cobra\'s words (after our "gitsign: "), exit 1, with "Did you mean this?" for a near name', () => {
    const repo = new TempRepo();
    try {
      for (const args of [['frobnicate'], ['frobnicate', '--mirror', 'x'], ['--status-fd=1', 'frobnicate'], ['help', 'frobnicate']]) {
        const r = repo.gitsign(args);
        assert.equal(r.status, 1, args.join(' '));
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, `gitsign: unknown command "frobnicate" for "gitsign"\n${RUN_HELP}\n`, args.join(' '));
      }
      const typo = repo.gitsign(['verfy', 'HEAD']);
      assert.equal(typo.status, 1);
      assert.equal(typo.stderr, `gitsign: unknown command "verfy" for "gitsign"\n\nDid you mean this?\n\tverify\n\n${RUN_HELP}\n`);
      // A prefix suggests every command it begins, hidden ones (debug, help) excepted.
      const prefix = repo.gitsign(['VERIFY-']);
      assert.match(prefix.stderr, /Did you mean this\?\n\tverify\n\tverify-attestation\n\tverify-bundle\n\tverify-tag\n\n/);
      // The word is quoted and escaped: it came from whoever wrote the command line.
      const hostile = repo.gitsign(['\u001b]0;owned\u0007x']);
      assert.equal(hostile.stderr.split('\n')[0], 'gitsign: unknown command "\\u001b]0;owned\\u0007x" for "gitsign"');
    } finally {
      repo.remove();
    }
  });

  test('no arguments, -h and help print the help on stdout, exit 0; help COMMAND is COMMAND --help', () => {
    const repo = new TempRepo();
    try {
      const help = rootHelp(repo);
      for (const args of [[], ['-h'], ['help'], ['help', 'help']]) {
        const r = repo.gitsign(args);
        assert.equal(r.status, 0, args.join(' '));
        assert.equal(r.stdout, help, args.join(' '));
      }
      // git's flags without a mode (-s or --verify) mean nothing either: gitsign prints its help.
      assert.equal(repo.gitsign(['--status-fd=2', '-u', 'KEY']).stdout, help);
      const verifyHelp = repo.gitsign(['verify', '--help']);
      assert.match(verifyHelp.stdout, /--certificate-identity/);
      assert.equal(repo.gitsign(['help', 'verify']).stdout, verifyHelp.stdout);
    } finally {
      repo.remove();
    }
  });
});

describe('exit statuses', () => {
  test('usage errors exit 1, as cobra\'s: an unknown option, a bad git call, a missing argument, a bad pattern', () => {
    const repo = new TempRepo();
    try {
      for (const args of [['verify', '--bogus'], ['--status-fd=1', '--bogus'], ['-s', '--verify', 'x'], ['attest'], ['verify', '--certificate-identity-regexp', '(?=x)', '--certificate-oidc-issuer', 'i'], ['completion', 'tcsh']]) {
        const r = repo.gitsign(args);
        assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^gitsign: /, args.join(' '));
      }
    } finally {
      repo.remove();
    }
  });

  test('a configuration that does not load exits 2, as Go\'s main(): for a command and for both of git\'s calls', () => {
    const repo = new TempRepo();
    try {
      writeFileSync(join(repo.dir, 'sig'), 'x');
      const env = { GITSIGN_REKOR_VERSION: '7' };
      for (const args of [['version'], ['verify', 'HEAD'], ['--status-fd=2', '-bsau', 'KEY'], ['--status-fd=1', '--verify', 'sig', '-']]) {
        const r = repo.gitsign(args, 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n', env);
        assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /invalid GITSIGN_REKOR_VERSION: rekor version must be 1 or 2, got "7"/);
      }
      // git itself cannot read the configuration (a broken .git/config): the same.
      writeFileSync(join(repo.dir, '.git', 'config'), '[core\n');
      const broken = repo.gitsign(['version']);
      assert.equal(broken.status, 2, broken.stderr);
      assert.match(broken.stderr, /^gitsign: reading git config failed: /);
    } finally {
      repo.remove();
    }
  });

  test('a configuration problem met later (an unknown token provider while signing) exits 1, as in Go', () => {
    const repo = new TempRepo();
    try {
      const root = join(repo.dir, 'trusted_root.json');
      writeFileSync(root, JSON.stringify(seededPublicGoodRoot()));
      const r = repo.gitsign(['--status-fd=2', '-bsau', 'KEY'], 'payload\n', { GITSIGN_TRUSTED_ROOT: root, GITSIGN_TOKEN_PROVIDER: 'nope' });
      assert.equal(r.status, 1, r.stderr);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /gitsign: error signing: unknown gitsign.tokenProvider "nope"/);
    } finally {
      repo.remove();
    }
  });
});

describe('gitsign version', () => {
  const goFields = ['Fulcio', 'FulcioRoot', 'Rekor', 'RekorMode', 'EnableSigstoreGo', 'RekorVersion', 'ClientID', 'RedirectURL', 'Issuer', 'ConnectorID', 'TokenProvider', 'TimestampURL', 'TimestampCert', 'LogPath', 'CommitterName', 'CommitterEmail', 'MatchCommitter', 'Autoclose', 'AutocloseTimeout', 'URLOpener'];

  test('Go\'s layout: "gitsign version vX.Y.Z", a line naming gitsign-ts, no env: block when nothing is set, the config in Go\'s field order', () => {
    const repo = new TempRepo();
    try {
      const r = repo.gitsign(['version']);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines[0], `gitsign version v${VERSION}`);
      assert.match(lines[1], /^implementation: gitsign-ts \(Node\.js v\d+\.\d+\.\d+\)$/);
      assert.equal(lines[2], 'parsed config:');
      assert.equal(lines[3], '{');
      assert.equal(lines[4], '  "Fulcio": "https://fulcio.sigstore.dev",');
      assert.equal(lines.at(-2), '}');
      assert.equal(lines.at(-1), '');
      const config = JSON.parse(lines.slice(3).join('\n')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(config).slice(0, goFields.length), goFields);
      assert.equal(repo.gitsign(['--version']).stdout, r.stdout, '--version is `version`, as gitsign\'s root flag');
    } finally {
      repo.remove();
    }
  });

  test('env: each set GITSIGN_/SIGSTORE_/TUF_ variable as "\\t NAME=VALUE" in the environment\'s order; blank values skipped as Go does; the ID token redacted', () => {
    const repo = new TempRepo();
    try {
      const env = { TUF_ROOT: '/tuf', GITSIGN_EMPTY: '', SIGSTORE_BLANK: '  ', GITSIGN_DOUBLE_EQUALS: '=x', SIGSTORE_ID_TOKEN: 'eyJ.secret', GITSIGN_CONNECTOR_ID: 'github', OTHER_GITSIGN_X: 'no' };
      const r = repo.gitsign(['version'], undefined, env);
      assert.equal(r.status, 0, r.stderr);
      const block = r.stdout.slice(r.stdout.indexOf('env:\n'), r.stdout.indexOf('parsed config:\n'));
      assert.equal(block, 'env:\n\t TUF_ROOT=/tuf\n\t SIGSTORE_ID_TOKEN=<redacted>\n\t GITSIGN_CONNECTOR_ID=github\n');
      assert.ok(r.stdout.startsWith(`gitsign version v${VERSION}\nimplementation: gitsign-ts`));
    } finally {
      repo.remove();
    }
  });

  test('the parsed config is Go\'s JSON: two-space indent, <, > and & as \\u escapes (checked byte for byte against Go 1.19\'s encoder)', () => {
    const repo = new TempRepo();
    try {
      repo.git('config', 'user.name', 'a<b>&c é "q" \\ \t z');
      repo.git('config', 'gitsign.urlOpener', 'open {{.URL}} & <x>');
      const r = repo.gitsign(['version']);
      assert.match(r.stdout, /\n {2}"CommitterName": "a\\u003cb\\u003e\\u0026c é \\"q\\" \\\\ \\t z",\n/);
      assert.match(r.stdout, /\n {2}"URLOpener": "open \{\{\.URL\}\} \\u0026 \\u003cx\\u003e",\n/);
    } finally {
      repo.remove();
    }
  });

  test('--version after a command is refused, as cobra refuses an unknown flag', () => {
    const repo = new TempRepo();
    try {
      const r = repo.gitsign(['verify', '--version']);
      assert.equal(r.status, 1);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^gitsign: unknown option "--version" for gitsign verify \(gitsign verify --help lists its options\)\n$/);
    } finally {
      repo.remove();
    }
  });
});

describe('identity flags', { skip: sharedMissing() }, () => {
  /** A corpus commit whose log entry is embedded: it verifies offline. */
  function embeddedCommit(repo: TempRepo): { sha: string; email: string; issuer: string } {
    const row = signedRows().find((r) => r.kind === 'commit' && r.tlog_log_index !== '-')!;
    assert.deepEqual(importFiles(repo, [corpusFile(row)], 'commit'), [row.sha]);
    return { sha: row.sha, email: row.signer_identity.replace(/^email:/, ''), issuer: row.oidc_issuer };
  }

  function verify(repo: TempRepo, sha: string, flags: string[]): { verified: boolean; identityCheck?: string; error?: { code: string; message: string } } {
    const r = repo.gitsign(['verify', '--offline', '--json', ...flags, sha]);
    assert.equal(r.stderr, '');
    return parseJsonLines(r.stdout)[0];
  }

  test('an empty value is no flag, as in cosign: "" identity flags fall back to the committer check, "" workflow flags check nothing', () => {
    const repo = new TempRepo();
    try {
      const { sha, issuer } = embeddedCommit(repo);
      const empty = ['--certificate-identity', '', '--certificate-identity-regexp', '', '--certificate-oidc-issuer-regexp', ''];
      const workflow = ['trigger', 'sha', 'name', 'repository', 'ref'].flatMap((f) => [`--certificate-github-workflow-${f}`, '']);
      const r = verify(repo, sha, [...empty, ...workflow, '--certificate-oidc-issuer', issuer]);
      assert.equal(r.verified, true, r.error?.message);
      assert.match(r.identityCheck ?? '', /committer email/);
    } finally {
      repo.remove();
    }
  });

  test('a repeated flag: the last value counts, as gitsign\'s flag parser has it', () => {
    const repo = new TempRepo();
    try {
      const { sha, email, issuer } = embeddedCommit(repo);
      const exact = verify(repo, sha, ['--certificate-identity', 'someone@else.example', '--certificate-identity', email, '--certificate-oidc-issuer', 'https://wrong.example', '--certificate-oidc-issuer', issuer]);
      assert.equal(exact.verified, true, exact.error?.message);
      const pattern = verify(repo, sha, ['--certificate-identity-regexp', '^nobody$', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*']);
      assert.equal(pattern.verified, true, pattern.error?.message);
      const lastWrong = verify(repo, sha, ['--certificate-identity', email, '--certificate-identity', 'someone@else.example', '--certificate-oidc-issuer', issuer]);
      assert.equal(lastWrong.verified, false);
      assert.equal(lastWrong.error?.code, 'IDENTITY');
    } finally {
      repo.remove();
    }
  });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A command in a new session (no controlling terminal), bounded by a deadline. */
function runDetached(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, detached: true, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('after signing: the identity and issuer, for the person only (gitsign #693/#821)', () => {
  const sb = sandboxPerFile();
  const PAYLOAD = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor T <t@example.com> 1700000000 +0000\ncommitter T <t@example.com> 1700000000 +0000\n\nm\n';
  const line = (subject: string): string => `gitsign: signed with identity ${JSON.stringify(subject)} (issuer ${JSON.stringify(sb.env.GITSIGN_OIDC_ISSUER)})`;
  // `sandbox token --subject` refuses control characters: a hostile email comes in as a claim.
  const repoFor = (email: string): TempRepo => signingRepo({ ...sb.env, GITSIGN_TIMESTAMP_SERVER_URL: '', SIGSTORE_ID_TOKEN: mintToken(sb.dir, 'test@example.com', { email }) });

  test('git commit -S at a terminal: the line is on the terminal', async () => {
    requirePeer('script');
    const repo = repoFor('test@example.com');
    try {
      // `script` gives git and gitsign a terminal, as a person's shell has; its output is what the terminal showed.
      const r = await runDetached('script', ['-qfec', 'git commit --allow-empty -S -q -m signed', '/dev/null'], repo.dir, repo.env);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      assert.ok(r.stdout.includes(`${line('test@example.com')}\r\n`), r.stdout);
      assert.match(repo.git('cat-file', 'commit', 'HEAD'), /^gpgsig -----BEGIN SIGNED MESSAGE-----/m);
    } finally {
      repo.remove();
    }
  });

  test('without a terminal: on stderr as gitsign does, but never on git\'s status fd, and never on stdout', async () => {
    const repo = repoFor('test@example.com');
    try {
      const plain = await runDetached(process.execPath, [BIN, '-bsau', 'KEY'], repo.dir, repo.env, PAYLOAD);
      assert.equal(plain.status, 0, plain.stderr);
      assert.ok(plain.stderr.split('\n').includes(line('test@example.com')), plain.stderr);
      assert.match(plain.stdout, /^-----BEGIN SIGNED MESSAGE-----\n[\s\S]*\n-----END SIGNED MESSAGE-----\n$/);

      const asGit = await runDetached(process.execPath, [BIN, '--status-fd=2', '-bsau', 'KEY'], repo.dir, repo.env, PAYLOAD);
      assert.equal(asGit.status, 0, asGit.stderr);
      assert.match(asGit.stderr, /\[GNUPG:\] SIG_CREATED /);
      assert.doesNotMatch(asGit.stderr, /signed with identity/);
      assert.doesNotMatch(asGit.stdout, /signed with identity/);
    } finally {
      repo.remove();
    }
  });

  test('issue 13: after a login, until when it signs, and a warning when the certificate is not for user.email (refused only with matchCommitter)', async () => {
    const repo = repoFor('someone-else@example.com');
    try {
      repo.git('config', 'user.email', 'me@example.com');
      const r = await runDetached(process.execPath, [BIN, '-bsau', 'KEY'], repo.dir, repo.env, PAYLOAD);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^gitsign: the certificate signs until \d\d:\d\d:\d\d UTC$/m);
      assert.match(r.stderr, /^gitsign: warning: the certificate is for "someone-else@example\.com", not your user\.email "me@example\.com": `gitsign verify` without --certificate-identity will refuse this signature/m);
      assert.match(r.stdout, /^-----BEGIN SIGNED MESSAGE-----/, 'signed all the same');

      repo.git('config', 'user.email', 'someone-else@example.com');
      const same = await runDetached(process.execPath, [BIN, '-bsau', 'KEY'], repo.dir, repo.env, PAYLOAD);
      assert.equal(same.status, 0, same.stderr);
      assert.doesNotMatch(same.stderr, /warning: the certificate is for/);

      repo.git('config', 'user.email', 'me@example.com');
      repo.git('config', 'gitsign.matchCommitter', 'true');
      const refused = await runDetached(process.execPath, [BIN, '-bsau', 'KEY'], repo.dir, repo.env, PAYLOAD);
      assert.equal(refused.status, 1, refused.stderr);
      assert.equal(refused.stdout, '');
    } finally {
      repo.remove();
    }
  });

  test('an identity with terminal controls is shown escaped', async () => {
    const hostile = 'a\u001b[2Jb@example.com';
    const repo = repoFor(hostile);
    try {
      const r = await runDetached(process.execPath, [BIN, '-bsau', 'KEY'], repo.dir, repo.env, PAYLOAD);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stderr.includes('gitsign: signed with identity "a\\u001b[2Jb@example.com" (issuer '), r.stderr);
      assert.doesNotMatch(r.stderr, /\u001b/);
    } finally {
      repo.remove();
    }
  });

  test('the line names every SAN (comma-separated, in sigstore\'s order) and the issuer of extension 1.8 over 1.1, Go-quoted', () => {
    const pki = new TestPki();
    const ca = pki.intermediate('fulcio');
    const extensions = pki.leafExtensions(ca).map(([oid, der]): [string, Buffer] =>
      oid === OIDS.subjectAltName
        ? [oid, encodeExtension(ext.subjectAltName([{ uri: 'https://example.com/"x"' }, { email: 'jane@example.com' }]))]
        : oid === '1.3.6.1.4.1.57264.1.8'
          ? [oid, encodeExtension(ext.utf8(oid, 'https://issuer-v2.example'))]
          : [oid, der],
    );
    const text = signedWithLine(new Certificate(pki.leaf(ca, { extensions })));
    assert.equal(text, 'gitsign: signed with identity "jane@example.com, https://example.com/\\"x\\"" (issuer "https://issuer-v2.example")');
  });
});
