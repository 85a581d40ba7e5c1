/**
 * Issue 10, finding 2, against real signatures from `gitsign sandbox` and real git: objects with a
 * singleton header twice are malformed on every verify path.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { joinSignature } from '../src/git/objectHash';
import { TempRepo } from './helpers/gitRepo';
import { parseJsonLines, type JsonLine } from './helpers/corpus';
import { BIN } from './helpers/paths';
import { mintToken, sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const COMMITTER = 'test@example.com'; // TempRepo's committer

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
