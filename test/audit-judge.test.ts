/**
 * The audit engine's pieces on facts the test writes (no signing): which policy governs a commit
 * (highest serial; equal serials that differ all govern), the threshold of a policy change counted in
 * distinct principals (one identity two principals share counts once; a revoked approver not at all;
 * a signer outside the policy section may be carried by approvals), the order of signatures within
 * one second (by log index), revisions that could be options, and changed paths read from real git
 * even when a file is named like a commit ID.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { Approval, ApprovalSet } from '../src/audit/approvals';
import { signedBefore } from '../src/audit/engine';
import { checkRevision } from '../src/audit/history';
import { exactKey, governingState, type JudgeContext, judgeCommit } from '../src/audit/judge';
import { changedPaths } from '../src/audit/paths';
import type { PolicyState, PolicyVersion, SignatureFacts } from '../src/audit/types';
import type { Signer } from '../src/policy/identity';
import { parsePolicy } from '../src/policy/parse';
import { TempRepo } from './helpers/gitRepo';

const ISSUER = 'https://issuer.example';

function signer(email: string): Signer {
  return { identities: [email], issuer: ISSUER, claim: () => undefined };
}

function signed(email: string, time = '2025-01-01T00:00:00Z', logIndex: number | null = 1): Extract<SignatureFacts, { state: 'verified' }> {
  return { state: 'verified', signer: signer(email), time: new Date(time), timeSource: 'tlog', logIndex, notChecked: [] };
}

function version(text: string, origin: string, gitsignTree: string | null = `tree-${origin}`): PolicyVersion {
  return { policy: parsePolicy(Buffer.from(text), origin), origin, gitsignTree, source: Buffer.from(text) };
}

const state = (v: PolicyVersion): PolicyState => ({ serial: v.policy.serial, versions: [v] });

/** A policy whose principals are the given emails, `policy` signers and threshold as given. */
function policy(serial: number, principals: Record<string, string[]>, policySigners: string[], threshold: number, extra = ''): string {
  return [
    'version: 1',
    `serial: ${serial}`,
    'principals:',
    ...Object.entries(principals).map(([n, emails]) => `  ${n}: [${emails.map((e) => `{issuer: "${ISSUER}", subject: "${e}"}`).join(', ')}]`),
    'rules:',
    '  - paths: ["**"]',
    `    signers: [${Object.keys(principals).join(', ')}]`,
    'policy:',
    `  signers: [${policySigners.join(', ')}]`,
    `  threshold: ${threshold}`,
    extra,
  ].join('\n');
}

function context(approvals: Approval[], next: string, revoked = ''): JudgeContext {
  const revocations = revoked ? parsePolicy(Buffer.from(policy(0, { x: ['x@example.com'] }, ['x'], 1, revoked)), 'r').revoked : [];
  return {
    ref: 'refs/heads/main',
    mode: 'repository',
    revoked: revocations,
    allow: new Map(),
    approvals: async (): Promise<ApprovalSet> => ({ approvals, notes: [] }),
    policyFiles: async () => ({ gitsignTree: 'tree-next', policy: Buffer.from(next) }),
  };
}

describe('which policy governs a commit', () => {
  const one = version(policy(1, { a: ['a@example.com'] }, ['a'], 1), 'one');
  const twoA = version(policy(2, { a: ['a@example.com'] }, ['a'], 1), 'twoA');
  const twoB = version(policy(2, { a: ['a@example.com'], b: ['b@example.com'] }, ['a'], 1), 'twoB');
  const twoAagain = version(policy(2, { a: ['a@example.com'] }, ['a'], 1), 'twoA, adopted again elsewhere');

  test('the highest serial of the parents governs, whatever the order of the parents', () => {
    assert.deepEqual(governingState([state(one), state(twoA)]).versions.map((v) => v.origin), ['twoA']);
    assert.deepEqual(governingState([state(twoA), state(one)]).versions.map((v) => v.origin), ['twoA']);
  });

  test('equal serials that differ all govern; the same policy adopted twice is one', () => {
    assert.deepEqual(governingState([state(twoA), state(twoB)]).versions.map((v) => v.origin), ['twoA', 'twoB']);
    assert.deepEqual(governingState([state(twoA), state(twoAagain)]).versions.map((v) => v.origin), ['twoA']);
  });
});

describe('the threshold of a policy change', () => {
  const next = policy(2, { a: ['a@example.com'], b: ['b@example.com'] }, ['a', 'b'], 2);

  test('one identity that two principals share counts once', async () => {
    const shared = version(policy(1, { a: ['shared@example.com'], b: ['shared@example.com'] }, ['a', 'b'], 2), 'shared');
    const j = await judgeCommit({ sha: 'c', parents: ['p'], paths: ['.gitsign/policy.yaml'], signature: signed('shared@example.com') }, state(shared), context([], next));
    assert.equal(`${j.verdict.status} ${j.verdict.reason}`, 'violation POLICY_THRESHOLD');
    assert.match(j.verdict.message, /found 1 \((a|b)\)$/);
  });

  test('an approval by the same identity as the signer adds nothing; by another principal it completes the threshold', async () => {
    const two = version(policy(1, { a: ['a@example.com'], b: ['b@example.com'] }, ['a', 'b'], 2), 'two');
    const self = await judgeCommit({ sha: 'c', parents: ['p'], paths: ['.gitsign/policy.yaml'], signature: signed('a@example.com') }, state(two), context([{ signer: signer('a@example.com'), time: new Date() }], next));
    assert.equal(self.verdict.reason, 'POLICY_THRESHOLD');
    const other = await judgeCommit({ sha: 'c', parents: ['p'], paths: ['.gitsign/policy.yaml'], signature: signed('a@example.com') }, state(two), context([{ signer: signer('b@example.com'), time: new Date() }], next));
    assert.equal(`${other.verdict.status} ${other.verdict.reason}`, 'ok AUTHORIZED');
    assert.equal(other.after.serial, 2, 'the new policy is adopted');
  });

  test('a revoked approver does not count, and the reason is said', async () => {
    const two = version(policy(1, { a: ['a@example.com'], b: ['b@example.com'] }, ['a', 'b'], 2), 'two');
    const revoked = `revoked:\n  - issuer: "${ISSUER}"\n    subject: b@example.com\n    after: 2020-01-01T00:00:00Z\n    reason: lost key`;
    const j = await judgeCommit({ sha: 'c', parents: ['p'], paths: ['.gitsign/policy.yaml'], signature: signed('a@example.com') }, state(two), context([{ signer: signer('b@example.com'), time: new Date('2025-01-01T00:00:00Z') }], next, revoked));
    assert.equal(j.verdict.reason, 'POLICY_THRESHOLD');
    assert.deepEqual(j.notes, ['the approval by b@example.com does not count: revoked (lost key)']);
  });

  test('a signer outside the policy section is carried by approvals of principals it names', async () => {
    const base = version(policy(1, { a: ['a@example.com'], b: ['b@example.com'], c: ['c@example.com'] }, ['a', 'b'], 2), 'base');
    const approvals = [signer('a@example.com'), signer('b@example.com')].map((s) => ({ signer: s, time: new Date() }));
    const j = await judgeCommit({ sha: 'c', parents: ['p'], paths: ['.gitsign/policy.yaml'], signature: signed('c@example.com') }, state(base), context(approvals, next));
    assert.equal(`${j.verdict.status} ${j.verdict.reason}`, 'ok AUTHORIZED', j.verdict.message);
  });

  test('a change of .gitsign/ back to the tree of the policy in force is no policy change', async () => {
    const two = version(policy(1, { a: ['a@example.com'] }, ['a'], 1), 'two', 'tree-next');
    const j = await judgeCommit({ sha: 'c', parents: ['p'], paths: ['.gitsign/policy.yaml'], signature: signed('a@example.com') }, state(two), context([], 'not even YAML: ['));
    assert.equal(`${j.verdict.status} ${j.verdict.reason} ${j.verdict.message}`, 'ok AUTHORIZED changes no file');
    assert.equal(j.after.serial, 1);
  });
});

describe('order, revisions, changed paths', () => {
  test('two signatures of one second are ordered by their log index; without one, neither is before the other', () => {
    assert.ok(signedBefore(signed('a', '2025-01-01T00:00:00Z', 5), signed('b', '2025-01-01T00:00:00Z', 6)));
    assert.ok(!signedBefore(signed('a', '2025-01-01T00:00:00Z', 6), signed('b', '2025-01-01T00:00:00Z', 5)));
    assert.ok(!signedBefore(signed('a', '2025-01-01T00:00:00Z', null), signed('b', '2025-01-01T00:00:00Z', 5)));
    assert.ok(signedBefore(signed('a', '2025-01-01T00:00:00Z', 9), signed('b', '2025-01-01T00:00:01Z', 1)));
  });

  test('a range or trust root that git would read as an option is refused before git sees it', () => {
    for (const bad of ['--output=x', '-n1', '', 'a\nb']) assert.throws(() => checkRevision(bad, 'the range'), { code: 'USAGE' });
    assert.doesNotThrow(() => checkRevision('main..topic', 'the range'));
  });

  test('changed paths against the first parent, from one git diff-tree, even with a file named like the next commit', async () => {
    const repo = new TempRepo();
    try {
      repo.git('commit', '-q', '--allow-empty', '-m', 'root');
      repo.git('checkout', '-q', '-b', 'side');
      repo.git('commit', '-q', '--allow-empty', '-m', 'side');
      const side = repo.git('rev-parse', 'HEAD').trim();
      repo.git('checkout', '-q', 'main');
      writeFileSync(`${repo.dir}/${side}`, 'named like a commit');
      writeFileSync(`${repo.dir}/other`, 'x');
      repo.git('add', '-A');
      repo.git('commit', '-q', '-m', 'files');
      const files = repo.git('rev-parse', 'HEAD').trim();
      const root = repo.git('rev-parse', 'HEAD~1').trim();
      repo.git('merge', '-q', '--no-ff', '-m', 'merge', 'side');
      const merge = repo.git('rev-parse', 'HEAD').trim();
      const paths = await changedPaths(
        [
          { sha: root, parents: [] },
          { sha: files, parents: [root] },
          { sha: side, parents: [root] },
          { sha: merge, parents: [files, side] },
        ],
        repo.dir,
      );
      assert.deepEqual(paths.get(files), [side, 'other'].sort());
      assert.deepEqual(paths.get(side), []);
      assert.deepEqual(paths.get(merge), [], 'the merge brings nothing new to its first parent');
      assert.deepEqual(paths.get(root), []);
    } finally {
      repo.remove();
    }
  });
});

// An ordinary commit's verdict is remembered per governing state under a key made of its ref, signer and
// paths: parts a committer or signer chooses. Two different lists must never give the same key, or one
// commit would get another's verdict.
describe("a remembered verdict's key", () => {
  test('lists that joined text would confuse give different keys', () => {
    const confusable: [string[], string[]][] = [
      [['ab', 'c'], ['a', 'bc']],
      [['1:a'], ['1', 'a']],
      [['a', ''], ['a']],
      [['', 'a'], ['a', '']],
      [['x', 'src/secret/a'], ['xsrc/', 'secret/a']],
      [['2:ab'], ['2', 'ab']],
    ];
    for (const [a, b] of confusable) assert.notEqual(exactKey(a), exactKey(b), `${JSON.stringify(a)} and ${JSON.stringify(b)}`);
  });

  test('the same list gives the same key', () => {
    assert.equal(exactKey(['a', 'refs/heads/main', 'alice@example.com']), exactKey(['a', 'refs/heads/main', 'alice@example.com']));
  });
});
