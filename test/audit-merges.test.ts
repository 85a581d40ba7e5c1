/**
 * Merges under a policy (gitsign-policy(5)), on histories the sandbox signs: a stale branch forked
 * before a signer was retired, merged by an authorized maintainer and by the retired signer himself
 * (the highest serial governs a merge); a side branch's failing commits endorsed by an authorized merge
 * (merges: endorse) or left as violations (merges: strict); two policy versions of one serial that
 * differ, both of which must then authorize.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { person, SignedHistory } from './helpers/auditHistory';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const DAVE = 'dave@example.com';
const MALLORY = 'mallory@example.com';

function policyText(h: SignedHistory, serial: number, principals: Record<string, string>, merges: 'endorse' | 'strict'): string {
  const names = Object.keys(principals).join(', ');
  return [
    'version: 1',
    `serial: ${serial}`,
    'principals:',
    ...Object.entries(principals).map(([n, e]) => `  ${n}: ${person(h.issuer, e)}`),
    'rules:',
    '  - paths: ["**"]',
    `    signers: [${names}]`,
    'policy:',
    '  signers: [alice]',
    `merges: ${merges}`,
  ].join('\n');
}

describe('a stale branch, and side branches merged under endorse and strict', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};

  before(() => {
    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'policy: alice and bob', { '.gitsign/policy.yaml': policyText(h, 1, { alice: ALICE, bob: BOB }, 'endorse') });
    h.checkout(['-b', 'stale']);
    c.stale1 = h.commit(BOB, 'bob on a branch forked before his retirement', { 'stale.txt': '1' });
    h.checkout(['main']);
    c.retire = h.commit(ALICE, 'policy: retire bob', { '.gitsign/policy.yaml': policyText(h, 2, { alice: ALICE }, 'endorse') });
    h.checkout(['stale']);
    c.stale2 = h.commit(BOB, 'bob on the stale branch, after his retirement on main', { 'stale.txt': '2' });
    // bob brings his stale branch to main himself.
    h.checkout(['-b', 'bob-merges', 'main']);
    c.bobMerge = h.merge(BOB, 'stale');
    // alice reviews and merges it.
    h.checkout(['main']);
    c.aliceMerge = h.merge(ALICE, 'stale');
    // A contribution by someone who is no principal, one commit unsigned, merged by alice (merges: endorse).
    h.checkout(['-b', 'feature']);
    c.feature1 = h.commit(MALLORY, 'a contributor', { 'feature.txt': '1' });
    c.feature2 = h.commit(null, 'an unsigned commit', { 'feature.txt': '2' });
    h.checkout(['main']);
    c.endorsingMerge = h.merge(ALICE, 'feature');
    // From now on merges are strict.
    c.strict = h.commit(ALICE, 'policy: merges strict', { '.gitsign/policy.yaml': policyText(h, 3, { alice: ALICE }, 'strict') });
    h.checkout(['-b', 'feature2']);
    c.strictFeature = h.commit(MALLORY, 'a contributor, under strict merges', { 'feature2.txt': '1' });
    h.checkout(['main']);
    c.strictMerge = h.merge(ALICE, 'feature2');
  });
  after(() => h?.remove());

  test('a merge is judged by the highest serial of its parents: the retired signer cannot bring his stale branch in', () => {
    const run = h.audit([`${c.base}..bob-merges`]);
    assert.equal(run.status, 1);
    const merge = run.of(c.bobMerge);
    assert.equal(`${merge.status} ${merge.reason} serial=${merge.policySerial}`, 'violation UNKNOWN_SIGNER serial=2');
    assert.deepEqual(merge.policies, [c.retire]);
    // His branch's commits are judged by their own parents' policy, in which he was a principal.
    assert.equal(`${run.of(c.stale1).status} serial=${run.of(c.stale1).policySerial}`, 'ok serial=1');
    assert.equal(`${run.of(c.stale2).status} serial=${run.of(c.stale2).policySerial}`, 'ok serial=1');
  });

  test('the same branch merged by an authorized maintainer is accepted: the merge is judged by what it brings', () => {
    const run = h.audit([`${c.base}..${c.aliceMerge}`]);
    assert.equal(run.status, 0, run.stdout);
    const merge = run.of(c.aliceMerge);
    assert.equal(`${merge.status} ${merge.reason} serial=${merge.policySerial}`, 'ok AUTHORIZED serial=2');
    assert.equal(merge.message, '1 path allowed', 'stale.txt is what the merge brings to main');
  });

  test('merges: endorse: failing side-branch commits merged by an authorized merge are endorsed, and name the merge', () => {
    const run = h.audit([`${c.base}..${c.endorsingMerge}`]);
    assert.equal(run.status, 0, run.stdout);
    const f1 = run.of(c.feature1);
    assert.equal(`${f1.status} ${f1.reason} ${f1.endorsedBy}`, `endorsed ENDORSED ${c.endorsingMerge}`);
    assert.match(f1.message, /^UNKNOWN_SIGNER: mallory@example.com is no principal of the policy; endorsed by the merge [0-9a-f]{40}$/);
    const f2 = run.of(c.feature2);
    assert.equal(`${f2.status} ${f2.reason}`, 'endorsed ENDORSED');
    assert.match(f2.message, /^NOT_SIGNED: /);
    assert.equal(run.summary?.counts.endorsed, 2);
  });

  test('merges: strict: the same kind of commit stays a violation although an authorized merge brought it', () => {
    const run = h.audit([`${c.base}..main`]);
    assert.equal(run.status, 1);
    assert.equal(run.of(c.strictMerge).status, 'ok');
    const f = run.of(c.strictFeature);
    assert.equal(`${f.status} ${f.reason} ${f.endorsedBy ?? 'none'}`, 'violation UNKNOWN_SIGNER none');
    assert.equal(run.of(c.feature1).status, 'endorsed', 'the earlier merge was under endorse');
  });
});

describe('two policies of one serial that differ', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};

  before(() => {
    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'policy: alice', { '.gitsign/policy.yaml': policyText(h, 1, { alice: ALICE }, 'strict') });
    h.checkout(['-b', 'with-carol']);
    c.addCarol = h.commit(ALICE, 'policy 2: add carol', { '.gitsign/policy.yaml': policyText(h, 2, { alice: ALICE, carol: CAROL }, 'strict') });
    h.checkout(['main']);
    c.addDave = h.commit(ALICE, 'policy 2: add dave', { '.gitsign/policy.yaml': policyText(h, 2, { alice: ALICE, dave: DAVE }, 'strict') });
    h.checkout(['-b', 'carol-merges']);
    c.carolMerge = h.merge(CAROL, 'with-carol', { ours: true });
    h.checkout(['main']);
    c.aliceMerge = h.merge(ALICE, 'with-carol', { ours: true });
    c.carolAfter = h.commit(CAROL, 'carol, allowed by one serial-2 policy only', { 'c.txt': '1' });
    c.resolve = h.commit(ALICE, 'policy 3: carol and dave', { '.gitsign/policy.yaml': policyText(h, 3, { alice: ALICE, carol: CAROL, dave: DAVE }, 'strict') });
    c.carolOk = h.commit(CAROL, 'carol under policy 3', { 'c.txt': '2' });
  });
  after(() => h?.remove());

  test('each must authorize: a merge signed by a principal of only one of them is a violation', () => {
    const run = h.audit([`${c.base}..carol-merges`]);
    const merge = run.of(c.carolMerge);
    assert.equal(`${merge.status} ${merge.reason} serial=${merge.policySerial}`, 'violation UNKNOWN_SIGNER serial=2');
    assert.deepEqual([...merge.policies].sort(), [c.addCarol, c.addDave].sort());
  });

  test('a principal of both may merge; both stay in force until a higher serial replaces them', () => {
    const run = h.audit([`${c.base}..main`]);
    assert.equal(run.status, 1);
    assert.equal(run.of(c.aliceMerge).status, 'ok');
    const carol = run.of(c.carolAfter);
    assert.equal(`${carol.status} ${carol.reason} policies=${carol.policies.length}`, 'violation UNKNOWN_SIGNER policies=2');
    assert.equal(`${run.of(c.resolve).status} ${run.of(c.resolve).reason}`, 'ok AUTHORIZED');
    assert.equal(`${run.of(c.carolOk).status} serial=${run.of(c.carolOk).policySerial}`, 'ok serial=3');
  });
});
