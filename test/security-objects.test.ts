/**
 * Issue 10, findings 2 and 3, against real signatures from `gitsign sandbox` and real git:
 * objects with a singleton header twice are malformed on every verify path, and identity/issuer
 * patterns are Go RE2 patterns, matched as cosign and the Go gitsign match them.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GitsignError } from '../src/errors';
import { joinSignature } from '../src/git/objectHash';
import { goPattern } from '../src/verify/pattern';
import { TempRepo } from './helpers/gitRepo';
import { parseJsonLines, type JsonLine } from './helpers/corpus';
import { BIN } from './helpers/paths';
import { mintToken, sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const COMMITTER = 'test@example.com'; // TempRepo's committer
const JANE = 'jane@example.com';
const LOOKALIKE = 'jane@example.comz.attacker.net';

/** A repository that verifies against the sandbox (and lets git call bin/gitsign to verify). */
function verifyingRepo(): TempRepo {
  const repo = new TempRepo({ ...sb.env, GITSIGN_TIMESTAMP_SERVER_URL: '' });
  repo.git('config', 'gpg.format', 'x509');
  repo.git('config', 'gpg.x509.program', BIN);
  repo.git('hash-object', '-w', '-t', 'tree', '/dev/null');
  return repo;
}

/** gitsign signs `payload` as git would ask it to (`-bsau`), for the sandbox identity `subject`. */
function sign(repo: TempRepo, payload: Buffer, subject: string): Buffer {
  const r = repo.gitsign(['--status-fd=2', '-bsau', subject], payload, { SIGSTORE_ID_TOKEN: mintToken(sb.dir, subject) });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^-----BEGIN SIGNED MESSAGE-----\n/);
  return Buffer.from(r.stdout, 'latin1');
}

function commitPayload(headers: string[], message: string): Buffer {
  return Buffer.from([`tree ${EMPTY_TREE}`, ...headers, '', message].join('\n'));
}

const ident = (email: string, time: number): string => `Test <${email}> ${time} +0000`;

/** A signed commit stored in the repository; returns its SHA. */
function signedCommit(repo: TempRepo, headers: string[], message: string, subject: string): string {
  const payload = commitPayload(headers, message);
  return repo.importBytes(joinSignature('commit', payload, sign(repo, payload, subject)), 'commit');
}

/** A signed annotated tag of `target` stored under refs/tags/NAME; returns its SHA. */
function signedTag(repo: TempRepo, name: string, target: string, taggers: string[], subject: string): string {
  const payload = Buffer.from([`object ${target}`, 'type commit', `tag ${name}`, ...taggers.map((t) => `tagger ${t}`), '', `tag ${name}`, ''].join('\n'));
  const sha = repo.importBytes(Buffer.concat([payload, sign(repo, payload, subject)]), 'tag');
  repo.git('update-ref', `refs/tags/${name}`, sha);
  return sha;
}

function verifyJson(repo: TempRepo, args: string[], input?: string): { status: number | null; lines: JsonLine[]; stderr: string } {
  const r = repo.gitsign([...args, '--json'], input);
  return { status: r.status, lines: parseJsonLines(r.stdout), stderr: r.stderr };
}

const DUPLICATE_COMMITTER = 'malformed git object: duplicate committer header';
const DUPLICATE_TAGGER = 'malformed git object: duplicate tagger header';

describe('finding 2: duplicate singleton headers, signed for real', () => {
  let repo: TempRepo;
  let good: string;
  let twoCommitters: string;
  let twoTaggers: string;
  before(() => {
    repo = verifyingRepo();
    const author = `author ${ident(COMMITTER, 1700000000)}`;
    good = signedCommit(repo, [author, `committer ${ident(COMMITTER, 1700000000)}`], 'good\n', COMMITTER);
    // The signer is the first committer, the email policy read it; `git log` shows the second.
    twoCommitters = signedCommit(repo, [author, `committer ${ident(COMMITTER, 1700000000)}`, `committer ${ident('mallory@example.com', 1700000001)}`], 'two committers\n', COMMITTER);
    signedTag(repo, 'good', good, [ident(COMMITTER, 1700000000)], COMMITTER);
    twoTaggers = signedTag(repo, 'twotaggers', good, [ident(COMMITTER, 1700000000), ident('mallory@example.com', 1700000001)], COMMITTER);
    repo.git('update-ref', 'refs/heads/main', good);
  });
  after(() => repo?.remove());

  test('finding 2: gitsign verify and verify-tag report MALFORMED_OBJECT naming the header', () => {
    const ok = verifyJson(repo, ['verify', good]);
    assert.equal(ok.lines[0].verified, true, JSON.stringify(ok.lines[0]));
    const commit = verifyJson(repo, ['verify', twoCommitters]);
    assert.equal(commit.status, 1);
    assert.equal(commit.lines.length, 1);
    assert.equal(commit.lines[0].verified, false);
    assert.deepEqual(commit.lines[0].error, { code: 'MALFORMED_OBJECT', message: DUPLICATE_COMMITTER });
    assert.equal(verifyJson(repo, ['verify-tag', 'good']).lines[0].verified, true);
    const tag = verifyJson(repo, ['verify-tag', 'twotaggers']);
    assert.equal(tag.status, 1);
    assert.deepEqual(tag.lines[0].error, { code: 'MALFORMED_OBJECT', message: DUPLICATE_TAGGER });
    // Without --json: one line naming the header.
    const human = repo.gitsign(['verify', twoCommitters]);
    assert.equal(human.status, 1);
    assert.match(human.stderr, /duplicate committer header/);
  });

  test('finding 2: a --stdin batch reports each malformed object on its own line, the others verify', () => {
    const names = [good, twoCommitters, good, twoTaggers, good];
    const r = verifyJson(repo, ['verify', '--stdin'], `${names.join('\n')}\n`);
    assert.equal(r.status, 1);
    assert.deepEqual(r.lines.map((l) => l.object), names);
    assert.deepEqual(
      r.lines.map((l) => (l.verified ? 'ok' : `${l.error?.code}: ${l.error?.message}`)),
      ['ok', `MALFORMED_OBJECT: ${DUPLICATE_COMMITTER}`, 'ok', `MALFORMED_OBJECT: ${DUPLICATE_TAGGER}`, 'ok'],
    );
  });

  test('finding 2: git verify-commit / verify-tag get ERRSIG and the reason, %G? is E', () => {
    assert.equal(repo.gitResult(['verify-commit', good]).status, 0);
    // --raw shows the status lines, without it git shows what gitsign said.
    const raw = repo.gitResult(['verify-commit', '--raw', twoCommitters]);
    assert.notEqual(raw.status, 0);
    assert.match(raw.stderr, /\[GNUPG:\] ERRSIG /);
    assert.doesNotMatch(raw.stderr, /GOODSIG|BADSIG/);
    const commit = repo.gitResult(['verify-commit', twoCommitters]);
    assert.notEqual(commit.status, 0);
    assert.match(commit.stderr, new RegExp(`gitsign: ${DUPLICATE_COMMITTER}\n`));
    assert.equal(repo.git('log', '-1', '--format=%G?', twoCommitters).trim(), 'E');
    assert.equal(repo.gitResult(['verify-tag', 'good']).status, 0);
    const rawTag = repo.gitResult(['verify-tag', '--raw', 'twotaggers']);
    assert.notEqual(rawTag.status, 0);
    assert.match(rawTag.stderr, /\[GNUPG:\] ERRSIG /);
    assert.doesNotMatch(rawTag.stderr, /GOODSIG|BADSIG/);
    const tag = repo.gitResult(['verify-tag', 'twotaggers']);
    assert.notEqual(tag.status, 0);
    assert.match(tag.stderr, new RegExp(`gitsign: ${DUPLICATE_TAGGER}\n`));
  });
});

test('finding 3: patterns are Go RE2, matched unanchored as regexp.MatchString', () => {
  const cases: [string, string, boolean][] = [
    ['^jane@example\\.com\\z', JANE, true],
    ['^jane@example\\.com\\z', LOOKALIKE, false],
    ['\\Ajane@example\\.com\\z', `x${JANE}`, false],
    ['(?i)^JANE@EXAMPLE\\.COM$', JANE, true],
    ['example\\.com', JANE, true], // unanchored: anywhere in the text
    ['^jane@example\\.com$', `${JANE}\n`, false], // Go's $ is the end of the text, not before a final newline
    ['(?s)^a.b$', 'a\nb', true],
    ['^a.b$', 'a\nb', false],
    ['(?m)^b$', 'a\nb', true],
    ['^\\Qjane@example.com\\E$', 'jane@exampleXcom', false],
    ['^[[:alpha:]]+@', JANE, true],
  ];
  for (const [source, text, want] of cases) assert.equal(goPattern(source, '--certificate-identity-regexp').matches(text), want, `${source} on ${JSON.stringify(text)}`);
});

test('finding 3: what Go refuses is a usage error naming the option, the pattern and why', () => {
  const cases: [string, RegExp][] = [
    ['(a)\\1', /invalid escape sequence: `\\1`/],
    ['(?=x)', /invalid or unsupported Perl syntax: `\(\?=`/],
    ['(?<=x)y', /invalid named capture/],
    ['a\\Z', /invalid escape sequence: `\\Z`/],
    ['[a', /missing closing \]/],
    ['a{1001}', /invalid repeat count/],
    ['x\u001b[2J', /missing closing \]: `\[2J`/],
  ];
  for (const [source, why] of cases) {
    assert.throws(
      () => goPattern(source, '--certificate-oidc-issuer-regexp'),
      (err: unknown) => {
        assert.ok(err instanceof GitsignError);
        assert.equal(err.code, 'USAGE');
        assert.ok(err.message.startsWith('invalid --certificate-oidc-issuer-regexp "'), err.message);
        assert.match(err.message, why);
        assert.doesNotMatch(err.message, /[\u0000-\u001f]/, 'control characters are escaped');
        return true;
      },
      source,
    );
  }
});

/** Go-regexp-escapes a literal (for the sandbox issuer URL). */
const literal = (s: string): string => s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');

describe('finding 3: identity patterns through the CLI and git', () => {
  let repo: TempRepo;
  let jane: string;
  let lookalike: string;
  let issuer: string;
  before(() => {
    repo = verifyingRepo();
    issuer = sb.env.GITSIGN_OIDC_ISSUER;
    const headers = [`author ${ident(COMMITTER, 1700000000)}`, `committer ${ident(COMMITTER, 1700000000)}`];
    jane = signedCommit(repo, headers, 'signed by jane\n', JANE);
    lookalike = signedCommit(repo, headers, 'signed by a lookalike\n', LOOKALIKE);
  });
  after(() => repo?.remove());

  const issuerFlags = (): string[] => ['--certificate-oidc-issuer-regexp', `\\A${literal(issuer)}\\z`];

  test('finding 3: `^jane@example\\.com\\z` matches jane and not jane@example.comz.attacker.net', () => {
    const flags = ['--certificate-identity-regexp', '^jane@example\\.com\\z', '--certificate-oidc-issuer', issuer];
    const bad = verifyJson(repo, ['verify', ...flags, lookalike]);
    assert.equal(bad.lines[0].verified, false, 'JavaScript reads \\z as the letter z: the lookalike matched');
    assert.equal(bad.status, 1);
    assert.equal(bad.lines[0].error?.code, 'IDENTITY');
    assert.match(bad.lines[0].error?.message ?? '', /does not match/);
    const ok = verifyJson(repo, ['verify', ...flags, jane]);
    assert.equal(ok.lines[0].verified, true, JSON.stringify(ok.lines[0]));
    assert.deepEqual(ok.lines[0].identities, [JANE]);
    // The same for many objects at once (--stdin).
    const batch = verifyJson(repo, ['verify', '--stdin', ...flags], `${jane}\n${lookalike}\n${jane}\n`);
    assert.deepEqual(batch.lines.map((l) => (l.verified ? 'ok' : l.error?.code)), ['ok', 'IDENTITY', 'ok']);
  });

  test('finding 3: (?i) works for identities and issuers', () => {
    const r = verifyJson(repo, ['verify', '--certificate-identity-regexp', '(?i)^JANE@EXAMPLE\\.COM\\z', '--certificate-oidc-issuer-regexp', `(?i)\\A${literal(issuer.toUpperCase())}\\z`, jane]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.lines[0].verified, true);
  });

  test('finding 3: verify-attestation matches the same Go patterns', () => {
    repo.git('commit', '-q', '--allow-empty', '-m', 'attested');
    writeFileSync(join(repo.dir, 'predicate.json'), '{"ok":true}');
    const a = repo.gitsign(['attest', '-f', 'predicate.json'], undefined, { SIGSTORE_ID_TOKEN: mintToken(sb.dir, LOOKALIKE) });
    assert.equal(a.status, 0, a.stderr);
    const run = (pattern: string): JsonLine => {
      const r = verifyJson(repo, ['verify-attestation', '--certificate-identity-regexp', pattern, '--certificate-oidc-issuer', issuer]);
      assert.equal(r.lines.length, 1, r.stderr);
      return r.lines[0];
    };
    const bad = run('^jane@example\\.com\\z');
    assert.equal(bad.verified, false, 'JavaScript reads \\z as the letter z: the lookalike matched');
    assert.equal(bad.error?.code, 'IDENTITY');
    assert.equal(run('(?i)^JANE@EXAMPLE\\.COMZ\\.ATTACKER\\.NET\\z').verified, true);
  });

  test('finding 3: an invalid pattern is a usage error before any object is read', () => {
    for (const [flag, pattern] of [
      ['--certificate-identity-regexp', '(a)\\1'],
      ['--certificate-oidc-issuer-regexp', '(?=https)'],
    ]) {
      const args = flag === '--certificate-identity-regexp' ? [flag, pattern, ...issuerFlags()] : ['--certificate-identity', JANE, flag, pattern];
      for (const command of [['verify', ...args, 'no-such-revision'], ['verify-tag', ...args, 'no-such-tag'], ['verify-attestation', ...args, 'no-such-revision']]) {
        const r = repo.gitsign(command);
        assert.equal(r.status, 1, `${command.join(' ')}: ${r.stderr}`);
        assert.equal(r.stdout, '');
        assert.equal(r.stderr, `gitsign: invalid ${flag} "${pattern}": not a Go regular expression (${pattern === '(a)\\1' ? 'invalid escape sequence: `\\1`' : 'invalid or unsupported Perl syntax: `(?=`'})\n`);
      }
    }
  });

  test('finding 3: an empty pattern counts as not given, as in cosign (it does not match everything)', () => {
    // Without an identity flag the certificate must be the committer's: the lookalike's is not.
    const r = verifyJson(repo, ['verify', '--certificate-identity-regexp', '', '--certificate-oidc-issuer-regexp', '', lookalike]);
    assert.equal(r.lines[0].verified, false);
    assert.equal(r.lines[0].error?.code, 'IDENTITY');
    assert.match(r.lines[0].error?.message ?? '', /committer email/);
  });

  test('finding 3: the Go regexp engine is loaded only when a pattern is given (never on git\'s verify path)', () => {
    // A preload that records, at exit, whether re2js (the bundle's re2js.js, loaded through its code cache) is among the modules loaded.
    const hook = join(repo.dir, 're2-hook.js');
    const log = join(repo.dir, 're2.log');
    writeFileSync(
      hook,
      `const M = require('module');
process.on('exit', () => { for (const f of Object.keys(M._cache)) if (/re2js/.test(f)) require('fs').appendFileSync(${JSON.stringify(log)}, f + '\\n'); });\n`,
    );
    writeFileSync(log, '');
    const loads = (): number => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    const env = { NODE_OPTIONS: `--require ${hook}` };
    assert.equal(repo.gitsign(['verify', '--certificate-identity', JANE, '--certificate-oidc-issuer', issuer, jane], undefined, env).status, 0);
    assert.equal(repo.gitsign(['verify', lookalike], undefined, env).status, 1); // the committer check, no pattern
    const viaGit = spawnSync('git', ['verify-commit', jane], { cwd: repo.dir, env: { ...repo.env, ...env }, encoding: 'utf8' });
    assert.equal(viaGit.status, 0, viaGit.stderr);
    assert.equal(loads(), 0, 'no pattern: re2js is not loaded');
    assert.equal(repo.gitsign(['verify', '--certificate-identity-regexp', '^jane@', '--certificate-oidc-issuer', issuer, jane], undefined, env).status, 0);
    assert.ok(loads() > 0, 'with a pattern it is (so the check above can fail)');
  });
});
