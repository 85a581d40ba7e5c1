/**
 * `gitsign audit` over a history the test builds and the sandbox signs, as a policy evolves in it
 * (gitsign-policy(5)): a principal added, retired (not retroactive) and revoked (retroactive, by the
 * log's attested time); a tag by a signer before and after retirement; the policy deleted and
 * restored; a policy change short of its threshold, then with a signed approval attestation; a serial
 * not raised; an unparseable policy change (line and column in the reason).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { person, SignedHistory } from './helpers/auditHistory';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const CAROL = 'carol@example.com';
const MALLORY = 'mallory@example.com';

/** Waits until the wall clock is in a later second than `since` (log times are whole seconds), at most 1.2 s. */
async function nextSecond(since: number): Promise<void> {
  const wait = 1000 - (since % 1000) + 50;
  await new Promise((r) => setTimeout(r, Math.min(wait, 1200)));
}

describe('a policy that adds, retires and revokes principals', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};
  const tags: Record<string, string> = {};
  let revokedAfter = '';

  const policy = (serial: number, principals: Record<string, string>, extra = ''): string => {
    const names = Object.keys(principals);
    return [
      'version: 1',
      `serial: ${serial}`,
      'principals:',
      ...Object.entries(principals).map(([n, email]) => `  ${n}: ${person(h.issuer, email)}`),
      'rules:',
      '  - paths: ["**"]',
      `    signers: [${names.join(', ')}]`,
      'tags:',
      '  - names: ["v*"]',
      `    signers: [${names.join(', ')}]`,
      'policy:',
      '  signers: [alice]',
      extra,
    ].join('\n');
  };

  before(async () => {
    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'policy: alice alone', { '.gitsign/policy.yaml': policy(1, { alice: ALICE }), 'a.txt': 'a' });
    c.bobEarly = h.commit(BOB, 'bob before he is a principal', { 'b.txt': '1' });
    c.addBob = h.commit(ALICE, 'policy: add bob', { '.gitsign/policy.yaml': policy(2, { alice: ALICE, bob: BOB }) });
    c.bobOk = h.commit(BOB, 'bob as a principal', { 'b.txt': '2' });
    tags.v1 = h.tag(BOB, 'v1');
    c.retireBob = h.commit(ALICE, 'policy: retire bob', { '.gitsign/policy.yaml': policy(3, { alice: ALICE }) });
    c.bobLate = h.commit(BOB, 'bob after his retirement', { 'b.txt': '3' });
    // A tag of bob's old, authorized commit, signed after he was retired.
    tags.v2 = h.tag(BOB, 'v2', c.bobOk);
    c.addCarol = h.commit(ALICE, 'policy: add carol', { '.gitsign/policy.yaml': policy(4, { alice: ALICE, carol: CAROL }) });
    c.carolBefore = h.commit(CAROL, 'carol before her key is stolen', { 'c.txt': '1' });
    await nextSecond(Date.now());
    c.carolStolen = h.commit(CAROL, 'carol (the thief) after', { 'c.txt': '2' });
    const carolTimes = h.audit([`${c.base}..${c.carolStolen}`]);
    revokedAfter = carolTimes.of(c.carolStolen).attestedTime ?? '';
    assert.notEqual(carolTimes.of(c.carolBefore).attestedTime, revokedAfter, 'the two commits of carol have different log times');
    const revocation = `revoked:\n  - issuer: ${JSON.stringify(h.issuer)}\n    subject: ${CAROL}\n    after: ${revokedAfter}\n    reason: laptop stolen`;
    c.revokeCarol = h.commit(ALICE, 'policy: revoke carol', { '.gitsign/policy.yaml': policy(5, { alice: ALICE, carol: CAROL }, revocation) });
    c.deletePolicy = h.commit(ALICE, 'delete the policy', { '.gitsign/policy.yaml': null });
    c.restorePolicy = h.commit(ALICE, 'restore the policy', { '.gitsign/policy.yaml': policy(5, { alice: ALICE, carol: CAROL }, revocation) });
    c.afterRestore = h.commit(ALICE, 'work goes on', { 'a.txt': 'b' });
  });
  after(() => h?.remove());

  test('each commit and tag gets its status, reason, policy serial and rule; exit 1 for the violations', () => {
    const run = h.audit([`${c.base}..main`]);
    assert.equal(run.status, 1, run.stderr);
    const status = (sha: string): string => `${run.of(sha).status} ${run.of(sha).reason} serial=${run.of(sha).policySerial}`;
    assert.equal(status(c.bobEarly), 'violation UNKNOWN_SIGNER serial=1', 'not yet a principal');
    assert.equal(status(c.addBob), 'ok AUTHORIZED serial=1', 'a policy change is judged by the policy before it');
    assert.equal(status(c.bobOk), 'ok AUTHORIZED serial=2');
    assert.equal(status(c.retireBob), 'ok AUTHORIZED serial=2');
    assert.equal(status(c.bobLate), 'violation UNKNOWN_SIGNER serial=3');
    assert.equal(status(c.carolBefore), 'ok AUTHORIZED serial=4');
    assert.equal(status(c.carolStolen), 'revoked REVOKED serial=4', 'a revocation reaches back to commits judged before it was written');
    assert.match(run.of(c.carolStolen).message, new RegExp(`^carol@example.com signed at ${revokedAfter.replace(/[.]/g, '\\.')}; revoked from .*: laptop stolen$`));
    assert.equal(status(c.revokeCarol), 'ok AUTHORIZED serial=4');
    assert.equal(status(c.deletePolicy), 'violation POLICY_DELETED serial=5');
    assert.equal(status(c.restorePolicy), 'ok AUTHORIZED serial=5', 'putting back the policy in force is no policy change');
    assert.equal(status(c.afterRestore), 'ok AUTHORIZED serial=5');
    const ok = run.of(c.bobOk);
    assert.deepEqual(ok.signer?.identities, [BOB]);
    assert.deepEqual(ok.principals, ['bob']);
    assert.equal(ok.rule, 'rules[0] (line 7)');
    assert.deepEqual(ok.policies, [c.addBob]);
    assert.match(ok.attestedTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.deepEqual(run.summary?.adopted.map((a) => a.serial), [2, 3, 4, 5]);
    assert.equal(run.summary?.trustRoot.serial, 1);
    assert.equal(run.summary?.clean, false);
  });

  test('retiring is not retroactive: bob stays authorized for what he signed while he was a principal', () => {
    const run = h.audit([`${c.base}..main`]);
    assert.equal(run.of(c.bobOk).status, 'ok');
    assert.equal(run.of(c.bobLate).status, 'violation');
  });

  test('a tag by a signer while a principal is ok; a tag he signs after his retirement is refused, even of an old commit', () => {
    const run = h.audit([`${c.base}..main`]);
    const v1 = run.of(tags.v1);
    assert.equal(`${v1.type} ${v1.name} ${v1.status} ${v1.reason}`, 'tag v1 ok AUTHORIZED');
    assert.equal(v1.rule, 'tags[0] (line 10)');
    const v2 = run.of(tags.v2);
    assert.equal(`${v2.type} ${v2.name} ${v2.status} ${v2.reason} serial=${v2.policySerial}`, 'tag v2 violation UNKNOWN_SIGNER serial=3');
  });

  test('the range ending before the revocation still sees it when judged with it; a range ending before it does not', () => {
    const before = h.audit([`${c.base}..${c.carolStolen}`]);
    assert.equal(before.of(c.carolStolen).status, 'ok', 'no policy of that range revokes carol');
    const withIt = h.audit([`${c.base}..${c.revokeCarol}`]);
    assert.equal(withIt.of(c.carolStolen).status, 'revoked');
    assert.equal(withIt.of(c.carolBefore).status, 'ok');
  });

  test('human output: one line per object and a summary; exit statuses', () => {
    const r = h.gitsign(['audit', `${c.addCarol}..${c.carolBefore}`, '--trust-root', c.addCarol]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], new RegExp(`^ok +${c.carolBefore.slice(0, 12)} {2}AUTHORIZED {2}signer=carol@example.com {2}time=\\S+ {2}serial=4 {2}rule=rules\\[0\\] \\(line 7\\): 1 path allowed$`));
    assert.match(lines[1], /^audit: 1 commit and 0 tags of \S+ \(tip \S+, ref unknown: rules with refs did not apply\): 1 ok, 0 endorsed, 0 violation, 0 unsigned, 0 revoked, 0 error$/);
    assert.match(lines[2], new RegExp(`^audit: trust root: ${c.addCarol}, policy serial 4$`));
    assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  });
});

describe('policy changes: threshold and approvals, serials, unparseable policies', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};
  const policy = (serial: number, extra: Record<string, string> = {}): string =>
    [
      'version: 1',
      `serial: ${serial}`,
      'principals:',
      `  alice: ${person(h.issuer, ALICE)}`,
      `  bob: ${person(h.issuer, BOB)}`,
      ...Object.entries(extra).map(([n, e]) => `  ${n}: ${person(h.issuer, e)}`),
      'rules:',
      '  - paths: ["**"]',
      `    signers: [alice, bob${Object.keys(extra).map((n) => `, ${n}`).join('')}]`,
      'policy:',
      '  signers: [alice, bob]',
      '  threshold: 2',
    ].join('\n');

  before(() => {
    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'policy: alice and bob, two of them to change it', { '.gitsign/policy.yaml': policy(1) });
    c.alone = h.commit(ALICE, 'policy: alice adds carol alone', { '.gitsign/policy.yaml': policy(2, { carol: CAROL }) });
    h.approve(MALLORY); // not a principal: does not count
    c.carolRefused = h.commit(CAROL, 'carol, whose addition was not adopted', { 'c.txt': '1' });
    c.approved = h.commit(ALICE, 'policy: alice adds carol, bob approves', { '.gitsign/policy.yaml': policy(3, { carol: CAROL }) });
    h.approve(BOB);
    c.carolOk = h.commit(CAROL, 'carol, now a principal', { 'c.txt': '2' });
    c.sameSerial = h.commit(ALICE, 'policy: a change that keeps the serial', { '.gitsign/policy.yaml': policy(3, { carol: CAROL, dave: 'dave@example.com' }) });
    h.approve(BOB);
    c.broken = h.commit(ALICE, 'policy: not YAML', { '.gitsign/policy.yaml': 'version: 1\nserial: 9\nprincipals: [\n' });
    h.approve(BOB);
  });
  after(() => h?.remove());

  test('a policy change by one principal where two are needed is a violation, and is not adopted', () => {
    const run = h.audit([`${c.base}..main`]);
    assert.equal(run.status, 1);
    const alone = run.of(c.alone);
    assert.equal(`${alone.status} ${alone.reason}`, 'violation POLICY_THRESHOLD');
    assert.match(alone.message, /needs 2 distinct principals of policy \(line \d+\) \(signer and approvals\); found 1 \(alice\)$/);
    const carol = run.of(c.carolRefused);
    assert.equal(`${carol.status} ${carol.reason} serial=${carol.policySerial}`, 'violation UNKNOWN_SIGNER serial=1');
  });

  test('with an approval attestation by a second principal the change is made, and the new principal signs', () => {
    const run = h.audit([`${c.base}..main`]);
    const approved = run.of(c.approved);
    assert.equal(`${approved.status} ${approved.reason}`, 'ok AUTHORIZED', approved.message);
    assert.match(approved.message, /adopts policy serial 3$/);
    const carol = run.of(c.carolOk);
    assert.equal(`${carol.status} serial=${carol.policySerial}`, 'ok serial=3');
  });

  test('a change that does not raise the serial, and one that does not parse (its line and column), are violations', () => {
    const run = h.audit([`${c.base}..main`]);
    const same = run.of(c.sameSerial);
    assert.equal(`${same.status} ${same.reason}`, 'violation POLICY_SERIAL');
    assert.equal(same.message, "the new policy's serial 3 does not exceed the governing serial 3");
    const broken = run.of(c.broken);
    assert.equal(`${broken.status} ${broken.reason}`, 'violation POLICY_INVALID');
    assert.match(broken.message, new RegExp(`^${c.broken}:\\.gitsign/policy\\.yaml:4:1: `));
  });

  test('offline, approvals cannot be checked (their certificate is only in the log): said, and none counts', () => {
    const run = h.audit([`${c.base}..${c.carolOk}`, '--offline']);
    const approved = run.of(c.approved);
    assert.equal(`${approved.status} ${approved.reason}`, 'violation POLICY_THRESHOLD');
    assert.deepEqual(approved.notChecked, ['1 attestation(s) of this commit not checked (--offline: their certificates are only in the log)']);
  });
});
