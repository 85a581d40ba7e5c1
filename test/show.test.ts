/**
 * `gitsign show`: gitsign's own golden outputs byte for byte (a Fulcio-signed commit, a PGP-signed
 * commit with CR bytes and no final newline, an annotated tag), and its refusals.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TempRepo } from './helpers/gitRepo';
import { CORPUS, sharedMissing } from './helpers/paths';

const DATA = join(CORPUS, 'gitsign-testdata');
const fixture = (name: string): string => join(DATA, `pkg_attest_testdata_${name}`);
const skip = sharedMissing();
let repo: TempRepo;

before(() => {
  repo = new TempRepo();
  repo.git('remote', 'add', 'origin', 'https://github.com/sigstore/gitsign.git');
});
after(() => repo.remove());

function show(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = repo.gitsign(['show', ...args]);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the commit fixtures (Fulcio and PGP signatures) match gitsign byte for byte', { skip }, () => {
  for (const name of ['fulcio-cert', 'gpg']) {
    const sha = repo.importObject(fixture(`${name}.in.txt`), 'commit');
    const r = show([sha]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(fixture(`${name}.out.json`), 'utf8'), name);
  }
});

test('the annotated tag fixture matches gitsign byte for byte, by tag name', { skip }, () => {
  const sha = repo.importObject(fixture('fulcio-tag.in.txt'), 'tag');
  repo.git('update-ref', 'refs/tags/fulcio-tag', sha);
  const r = show(['fulcio-tag']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, readFileSync(fixture('fulcio-tag.out.json'), 'utf8'));
});

test('HEAD by default; --remote names the subject, an unknown remote leaves it unnamed', () => {
  const local = new TempRepo();
  try {
    local.git('commit', '-q', '--allow-empty', '-m', 'first <&> line');
    local.git('remote', 'add', 'upstream', 'git@example.com:a/b.git');
    const head = local.git('rev-parse', 'HEAD').trim();
    const plain = JSON.parse(local.gitsign(['show']).stdout) as { subject: { name?: string; digest: Record<string, string> }[]; predicate: Record<string, unknown> };
    assert.deepEqual(plain.subject, [{ digest: { sha1: head } }]);
    // Unsigned: no signature, no signer_info; no parents for a root commit.
    assert.deepEqual(Object.keys(plain.predicate), ['source']);
    assert.deepEqual(Object.keys(plain.predicate.source as object), ['tree', 'author', 'committer', 'message']);
    const r = local.gitsign(['show', '-r', 'upstream', 'HEAD']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /"name": "git@example.com:a\/b.git"/);
    assert.match(r.stdout, /"message": "first \\u003c\\u0026\\u003e line\\n"/, 'HTML characters escaped as Go does');
  } finally {
    local.remove();
  }
});

test('refusals: lightweight tags, duplicate singleton headers, trees, unknown revisions (exit 1, one line)', () => {
  const local = new TempRepo();
  try {
    local.git('commit', '-q', '--allow-empty', '-m', 'c');
    local.git('tag', 'light');
    const dup = local.importBytes(
      Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1700000000 +0000\nauthor M <m@example.com> 1700000001 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nhello\n'),
      'commit',
    );
    const cases: [string[], RegExp][] = [
      [['light'], /^gitsign: light is not an annotated tag\n$/],
      [[dup], /^gitsign: malformed git object: duplicate author header\n$/],
      [['HEAD^{tree}'], /^gitsign: HEAD\^\{tree\} is a tree, not a commit or tag\n$/],
      [['no-such-rev'], /^gitsign: unknown revision no-such-rev\n$/],
    ];
    for (const [args, err] of cases) {
      const r = local.gitsign(['show', ...args]);
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, err);
    }
  } finally {
    local.remove();
  }
});
