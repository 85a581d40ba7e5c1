/**
 * The shipped server hook (install/hooks/pre-receive, `gitsign hook pre-receive`) in a real bare
 * repository, pushed to with real `git push` from a clone whose commits and tags the sandbox signs:
 * authorized pushes are accepted; a commit by someone the policy does not name, an unsigned commit, a
 * force-push that rewrites with such a commit, a new branch bringing one, a tag by a signer the tag
 * rules do not allow and a lightweight tag where a tag rule governs are refused, with the reason on
 * the pusher's terminal and the server's refs unchanged. A push that changes the policy without
 * authority is refused; a ref deletion and a new ref that brings no new commit are accepted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { person, policyHead, SignedHistory } from './helpers/auditHistory';
import { PushServer } from './helpers/pushServer';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MALLORY = 'mallory@example.com';

describe('the pre-receive hook', () => {
  let h: SignedHistory;
  let server: PushServer;
  let accepted = '';

  const policy = (serial: number, signers: string): string =>
    [
      ...policyHead(h.issuer, serial, { alice: ALICE, bob: BOB }),
      'rules:',
      '  - paths: ["**"]',
      `    signers: [${signers}]`,
      '  - refs: ["refs/heads/release/*"]',
      '    paths: ["**"]',
      '    signers: [alice]',
      'tags:',
      '  - names: ["v*"]',
      '    signers: [alice]',
      'policy:',
      '  signers: [alice]',
    ].join('\n');

  /** Back to what the server has, for the next case. */
  const resetTo = (sha: string): void => {
    h.checkout(['main']);
    h.repo.git('reset', '-q', '--hard', sha);
  };

  before(() => {
    h = new SignedHistory(sb);
    server = new PushServer(h);
    accepted = h.commit(ALICE, 'policy: alice and bob', { '.gitsign/policy.yaml': policy(1, 'alice, bob'), 'a.txt': 'a' });
    // The first history goes in before the hook (nothing on the server could say which policy to trust).
    assert.equal(server.push(null, ['-q', 'origin', 'main']).status, 0);
    server.installHook();
  });
  after(() => {
    h?.remove();
    server?.remove();
  });

  test('a push of commits by principals the rules allow is accepted', () => {
    const c = h.commit(BOB, 'bob works', { 'b.txt': '1' });
    const r = server.push(null, ['origin', 'main']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /remote: gitsign: refs\/heads\/main: accepted: 1 new commit authorized/);
    assert.equal(server.rev('refs/heads/main'), c);
    accepted = c;
  });

  test('a commit by someone the policy does not name is refused, with the reason, and the ref is unchanged', () => {
    const c = h.commit(MALLORY, 'mallory sneaks in', { 'b.txt': '2' });
    const r = server.push(null, ['origin', 'main']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /remote: gitsign: refs\/heads\/main: refused:/);
    assert.match(r.stderr, new RegExp(`remote: gitsign: +violation +${c.slice(0, 12)} +UNKNOWN_SIGNER +signer=${MALLORY}`));
    assert.match(r.stderr, /remote: gitsign: push refused: 1 of 1 ref update/);
    assert.match(r.stderr, /pre-receive hook declined/);
    assert.equal(server.rev('refs/heads/main'), accepted);
    resetTo(accepted);
  });

  test('an unsigned commit is refused', () => {
    const c = h.commit(null, 'unsigned', { 'b.txt': '3' });
    const r = server.push(null, ['origin', 'main']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`unsigned +${c.slice(0, 12)} +NOT_SIGNED`));
    assert.equal(server.rev('refs/heads/main'), accepted);
    resetTo(accepted);
  });

  test('a policy change its signers did not make is refused (the old value is the trust root, not the pushed policy)', () => {
    h.commit(BOB, 'bob lets mallory in', { '.gitsign/policy.yaml': policy(2, 'alice, bob, mallory').replace('principals:', `principals:\n  mallory: ${person(h.issuer, MALLORY)}`) });
    h.commit(MALLORY, 'mallory, now named', { 'm.txt': '1' });
    const r = server.push(null, ['origin', 'main']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /POLICY_THRESHOLD|PATH_DENIED/);
    assert.match(r.stderr, /UNKNOWN_SIGNER/);
    assert.equal(server.rev('refs/heads/main'), accepted);
    resetTo(accepted);
  });

  test('a force-push is judged by what it brings: a rewrite by a principal is accepted, one with an unknown signer is refused', () => {
    const parent = h.rev(`${accepted}^`);
    resetTo(parent);
    const bad = h.commit(MALLORY, 'rewritten by mallory', { 'b.txt': 'x' });
    const refused = server.push(null, ['--force', 'origin', 'main']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, new RegExp(`${bad.slice(0, 12)} +UNKNOWN_SIGNER`));
    assert.equal(server.rev('refs/heads/main'), accepted);

    resetTo(parent);
    const good = h.commit(ALICE, 'rewritten by alice', { 'b.txt': 'y' });
    const r = server.push(null, ['--force', 'origin', 'main']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.rev('refs/heads/main'), good);
    accepted = good;
  });

  test("a new branch is judged by its commits not on the server's HEAD, for its own name: commits accepted on one branch are judged again on another", () => {
    h.checkout(['-b', 'feature']);
    const bad = h.commit(MALLORY, 'mallory on a branch', { 'f.txt': '1' });
    const refused = server.push(null, ['origin', 'feature']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, new RegExp(`refs/heads/feature: refused:[\\s\\S]*${bad.slice(0, 12)} +UNKNOWN_SIGNER`));
    assert.equal(server.rev('refs/heads/feature'), null);

    h.repo.git('reset', '-q', '--hard', accepted);
    const good = h.commit(BOB, 'bob on a branch', { 'f.txt': '2' });
    const r = server.push(null, ['origin', 'feature']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /refs\/heads\/feature: accepted: 1 new commit authorized/);
    assert.equal(server.rev('refs/heads/feature'), good);

    // Bob's commit is on the server now, but release/* is alice's alone: as a new release branch it is refused.
    const release = server.push(null, ['origin', 'feature:refs/heads/release/1']);
    assert.notEqual(release.status, 0);
    assert.match(release.stderr, new RegExp(`refs/heads/release/1: refused:[\\s\\S]*${good.slice(0, 12)} +PATH_DENIED`));
    assert.equal(server.rev('refs/heads/release/1'), null);

    // Nothing new: a copy of main is accepted without an audit.
    const copy = server.push(null, ['origin', 'main:refs/heads/copy']);
    assert.equal(copy.status, 0, copy.stderr);
    assert.match(copy.stderr, /refs\/heads\/copy: accepted\s/);
  });

  test('the attestation store (unsigned commits by design) is accepted; its approvals are verified where they count', () => {
    h.checkout(['main']);
    h.approve(ALICE);
    const r = server.push(null, ['origin', 'refs/attestations/commits']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.rev('refs/attestations/commits'), h.rev('refs/attestations/commits'));
  });

  test('a deletion is accepted when the policy has no pushes section', () => {
    const r = server.push(null, ['origin', ':refs/heads/copy']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.rev('refs/heads/copy'), null);
  });

  test('tags: a signed tag by the signer the tag rule names is accepted; by another, or lightweight where a rule governs, refused', () => {
    h.checkout(['main']);
    const v1 = h.tag(ALICE, 'v1', accepted);
    const ok = server.push(null, ['origin', 'refs/tags/v1']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(server.rev('refs/tags/v1'), v1);

    h.tag(BOB, 'v2', accepted);
    const denied = server.push(null, ['origin', 'refs/tags/v2']);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /refs\/tags\/v2: refused:[\s\S]*tag v2: violation TAG_DENIED/);
    assert.equal(server.rev('refs/tags/v2'), null);

    h.repo.git('tag', 'v3', accepted);
    const light = server.push(null, ['origin', 'refs/tags/v3']);
    assert.notEqual(light.status, 0);
    assert.match(light.stderr, /tag v3: violation TAG_NOT_ANNOTATED/);
    assert.equal(server.rev('refs/tags/v3'), null);

    // A name no tag rule covers: a lightweight tag there is only a ref to an accepted commit.
    h.repo.git('tag', 'scratch', accepted);
    assert.equal(server.push(null, ['origin', 'refs/tags/scratch']).status, 0);
  });

  test('one refused ref refuses the whole push (no ref changes)', () => {
    h.checkout(['main']);
    const good = h.commit(ALICE, 'alice again', { 'a.txt': 'c' });
    h.checkout(['feature']);
    h.commit(MALLORY, 'mallory again', { 'f.txt': '3' });
    const r = server.push(null, ['origin', 'main', 'feature']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /refs\/heads\/main: accepted/);
    assert.match(r.stderr, /refs\/heads\/feature: refused/);
    assert.match(r.stderr, /1 of 2 ref updates/);
    assert.notEqual(server.rev('refs/heads/main'), good);
  });

  test("gitsign.audit.trustRoot on the server makes one ref's policy govern every push; gitsign.offline checks embedded log entries only", () => {
    // main drops bob from the rules (an authorized change: alice signs it, serial raised).
    h.checkout(['main']);
    h.repo.git('reset', '-q', '--hard', server.rev('refs/heads/main') as string);
    h.commit(ALICE, 'policy: alice alone signs', { '.gitsign/policy.yaml': policy(2, 'alice') });
    assert.equal(server.push(null, ['origin', 'main']).status, 0);
    h.checkout(['feature']);
    h.repo.git('reset', '-q', '--hard', server.rev('refs/heads/feature') as string);
    const c = h.commit(BOB, 'bob on his branch', { 'f.txt': '4' });
    // No log to ask: a lookup would fail, so an accepted push proves none was made.
    const noLog = { GITSIGN_REKOR_URL: 'http://127.0.0.1:9' };
    server.git('config', 'gitsign.offline', 'true');
    server.git('config', 'gitsign.audit.trustRoot', 'refs/heads/main');
    const refused = server.push(null, ['origin', 'feature'], noLog);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, new RegExp(`${c.slice(0, 12)} +PATH_DENIED .*serial=2`));
    // Unset, the branch's old value (whose policy still names bob) governs it.
    server.git('config', '--unset', 'gitsign.audit.trustRoot');
    const r = server.push(null, ['origin', 'feature'], noLog);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.rev('refs/heads/feature'), c);
  });
});
