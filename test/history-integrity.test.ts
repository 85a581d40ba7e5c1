/**
 * What git reads in place of the history, and gitsign must not take for it.
 *
 * `git replace` makes git read another object's bytes in place of the one named: `git cat-file`,
 * `git rev-list` and every read honour refs/replace/* unless told not to. A verifier that asked git
 * for commit U and got a signed commit S's bytes would report U as S: an unsigned commit made to look
 * signed by whoever can write a replace ref (on a server, any pusher allowed to push refs/replace/*).
 * gitsign reads the objects the IDs name, never their replacements.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { corpusFile, markShallow, parseJsonLines } from './helpers/corpus';
import { TempRepo } from './helpers/gitRepo';
import { sharedMissing } from './helpers/paths';

const RELAXED = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];
const SIGNED = 'sigstore__gitsign/ac15fa730306fb4cc6839e6345cfd924e1517f7b.commit';

/** A policy file for audit --policy (in the git directory: outside the worktree, removed with the repository) giving every path to the corpus commit's signer. */
function outsidePolicy(repo: TempRepo, name: string): string {
  const file = join(repo.dir, '.git', `${name}-policy.yaml`);
  writeFileSync(file, ['version: 1', 'serial: 1', 'principals:', '  billy: [{issuer: "https://accounts.google.com", subject: "billy@chainguard.dev"}]', 'rules:', '  - paths: ["**"]', '    signers: [billy]', 'policy:', '  signers: [billy]'].join('\n'));
  return file;
}

describe('objects replaced with git replace are read as themselves', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  let signed = '';
  let unsigned = '';
  before(() => {
    repo = new TempRepo();
    signed = repo.importObject(corpusFile({ file: SIGNED }), 'commit');
    markShallow(repo, [signed]);
    const emptyTree = repo.git('mktree').trim();
    unsigned = repo.git('commit-tree', emptyTree, '-m', 'not signed by anyone').trim();
    repo.git('update-ref', 'refs/heads/main', unsigned);
    repo.git('replace', unsigned, signed);
    // git itself now shows the signed commit's bytes for the unsigned commit's ID.
    assert.match(repo.git('cat-file', 'commit', unsigned), /gpgsig /);
  });
  after(() => repo?.remove());

  test('gitsign verify of the replaced commit reports it unsigned', () => {
    const r = repo.gitsign(['verify', '--json', ...RELAXED, unsigned]);
    const [line] = parseJsonLines(r.stdout);
    assert.equal(line.verified, false, r.stdout);
    assert.equal(line.error?.code, 'NOT_SIGNED');
    assert.equal(line.object, unsigned);
  });

  test('gitsign verify --stdin of the replaced commit reports it unsigned, the signed one verified', () => {
    const r = repo.gitsign(['verify', '--json', '--stdin', ...RELAXED], `${unsigned}\n${signed}\n`);
    const lines = parseJsonLines(r.stdout);
    assert.deepEqual(
      lines.map((l) => [l.object, l.verified]),
      [
        [unsigned, false],
        [signed, true],
      ],
    );
  });

  test('gitsign audit judges the unsigned commit, not its replacement', () => {
    const policy = outsidePolicy(repo, 'replace');
    const r = repo.gitsign(['audit', '--json', '--offline', '--policy', policy, 'main']);
    const entries = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { object?: string; status?: string });
    const entry = entries.find((e) => e.object === unsigned);
    assert.ok(entry, r.stdout + r.stderr);
    assert.equal(entry.status, 'unsigned', r.stdout);
    assert.equal(r.status, 1);
  });
});

/**
 * A shallow clone's boundary commits have no parents as git lists them: an audit whose range crosses
 * the boundary would judge a cut history (the commits below it, and their policy changes, never seen)
 * and could call it clean. It cannot run (exit 2) and says how to get the history; a boundary at the
 * range's base cuts nothing the audit needs.
 */
describe('an audit of a shallow history', () => {
  let repo: TempRepo;
  const c: Record<string, string> = {};
  let policy = '';
  before(() => {
    repo = new TempRepo();
    const tree = repo.git('mktree').trim();
    c.a = repo.git('commit-tree', tree, '-m', 'a').trim();
    c.b = repo.git('commit-tree', tree, '-p', c.a, '-m', 'b').trim();
    c.c = repo.git('commit-tree', tree, '-p', c.b, '-m', 'c').trim();
    repo.git('update-ref', 'refs/heads/main', c.c);
    policy = outsidePolicy(repo, 'shallow');
  });
  after(() => repo?.remove());

  test('a boundary inside the range: the audit cannot run, and says where the history is cut', () => {
    writeFileSync(join(repo.dir, '.git', 'shallow'), `${c.b}\n`);
    const r = repo.gitsign(['audit', '--offline', '--policy', policy, `${c.a}..main`]);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`is cut at ${c.b} \\(a shallow clone\\).*git fetch --unshallow`));
  });

  test('a boundary at the base: every commit of the range is there, and each is judged', () => {
    writeFileSync(join(repo.dir, '.git', 'shallow'), `${c.a}\n`);
    const r = repo.gitsign(['audit', '--json', '--offline', '--policy', policy, `${c.a}..main`]);
    assert.equal(r.status, 1, r.stderr);
    const judged = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { object?: string; status?: string })
      .filter((e) => e.object);
    assert.deepEqual(
      judged.map((e) => [e.object, e.status]),
      [
        [c.b, 'unsigned'],
        [c.c, 'unsigned'],
      ],
    );
  });
});

/**
 * git does not check, when it reads an object, that its bytes hash to the ID it was asked for: a copied
 * or hostile .git can hold a signed commit's bytes in the file of an unsigned commit's ID (or another
 * policy in a policy blob's). gitsign checks every object it reads; such a repository is reported as
 * tampered with, never verified.
 */
describe('an object store holding other bytes under an object\'s ID', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  /** Holds a signed commit's bytes (whose parents are not here: read by name only). */
  let unsigned = '';
  /** Holds another root commit's bytes; the tip's parent, so history walks still work and the audit reads it. */
  let planted = '';
  const plant = (sha: string, raw: Buffer): void => {
    const file = join(repo.dir, '.git', 'objects', sha.slice(0, 2), sha.slice(2));
    rmSync(file);
    writeFileSync(file, deflateSync(Buffer.concat([Buffer.from(`commit ${raw.length}\0`), raw])));
  };
  before(() => {
    repo = new TempRepo();
    const tree = repo.git('mktree').trim();
    unsigned = repo.git('commit-tree', tree, '-m', 'not signed by anyone').trim();
    planted = repo.git('commit-tree', tree, '-m', 'the first commit').trim();
    const tip = repo.git('commit-tree', tree, '-p', planted, '-m', 'the tip').trim();
    const other = repo.git('commit-tree', tree, '-m', 'another root');
    const otherRaw = Buffer.from(repo.git('cat-file', 'commit', other.trim()));
    repo.git('update-ref', 'refs/heads/main', tip);
    plant(unsigned, readFileSync(corpusFile({ file: SIGNED })));
    plant(planted, otherRaw);
    assert.match(repo.git('cat-file', 'commit', unsigned), /gpgsig /, 'git reads the planted bytes without complaint');
  });
  after(() => repo?.remove());

  test('gitsign verify --stdin: the object is not verified; the run says the object store was tampered with', () => {
    const r = repo.gitsign(['verify', '--json', '--stdin', ...RELAXED], `${unsigned}\n`);
    assert.notEqual(r.status, 0);
    assert.doesNotMatch(r.stdout, /"verified":true/);
    assert.match(r.stderr, new RegExp(`git read bytes for ${unsigned} that are not that object`));
  });

  test('gitsign verify REV: not verified', () => {
    for (const rev of [unsigned, planted]) {
      const r = repo.gitsign(['verify', '--json', ...RELAXED, rev]);
      assert.notEqual(r.status, 0, rev);
      assert.doesNotMatch(r.stdout, /"verified":true/);
    }
  });

  test('gitsign audit cannot run (exit 2) and says why', () => {
    const policy = outsidePolicy(repo, 'planted');
    const r = repo.gitsign(['audit', '--offline', '--policy', policy, 'main']);
    assert.equal(r.status, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`git read bytes for ${planted} that are not that object`));
  });
});
