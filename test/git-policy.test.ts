/**
 * git's own commands under gitsign.policy (issue 14), with real git and sandbox signatures: an
 * authorized signer is a good, trusted signature (%G? G); one the policy refuses is a good signature
 * that is not trusted (%G? U), so merge and pull --verify-signatures refuse it; a commit "authorized"
 * by a policy change nobody authorized is refused too (the policy comes from the trust root, not from
 * the parents' trees); gpg.minTrustLevel keeps git's meaning; a policy file from outside; tags.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { person, SignedHistory } from './helpers/auditHistory';
import { BIN } from './helpers/paths';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MALLORY = 'mallory@example.com';

describe('git verify-commit, log %G?, merge and pull --verify-signatures under gitsign.policy', () => {
  let h: SignedHistory;
  let outside: string;
  const c: Record<string, string> = {};

  /** Every principal may change every path; `admin` alone signs v* tags and changes the policy. */
  const policy = (serial: number, signers: Record<string, string>, admin = 'alice'): string =>
    [
      'version: 1',
      `serial: ${serial}`,
      'principals:',
      ...Object.entries(signers).map(([n, email]) => `  ${n}: ${person(h.issuer, email)}`),
      'rules:',
      '  - paths: ["**"]',
      `    signers: [${Object.keys(signers).join(', ')}]`,
      'tags:',
      '  - names: ["v*"]',
      `    signers: [${admin}]`,
      'policy:',
      `  signers: [${admin}]`,
    ].join('\n');

  /** git without throwing, in the repository's environment (the sandbox's trust settings). */
  const git = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = h.repo.gitResult(args);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const trustOf = (sha: string, config: string[] = []): string => git([...config, 'log', '-1', '--format=%G?', sha]).stdout.trim();
  const enable = (): void => {
    h.repo.git('config', 'gitsign.policy', 'true');
    h.repo.git('config', 'gitsign.audit.trustRoot', c.base);
  };
  const disable = (): void => {
    h.repo.gitResult(['config', '--unset', 'gitsign.policy']);
    h.repo.gitResult(['config', '--unset', 'gitsign.audit.trustRoot']);
  };

  before(() => {
    h = new SignedHistory(sb);
    outside = mkdtempSync(join(tmpdir(), 'gitsign-policy-file-'));
    c.base = h.commit(ALICE, 'policy: alice and bob', { '.gitsign/policy.yaml': policy(1, { alice: ALICE, bob: BOB }), 'a.txt': 'a' });
    c.alice = h.commit(ALICE, 'alice works', { 'a.txt': 'b' });
    c.bob = h.commit(BOB, 'bob works', { 'b.txt': 'b' });
    h.tag(ALICE, 'v1');
    // mallory's work, on a branch of its own
    h.checkout(['-b', 'mallory']);
    c.mallory = h.commit(MALLORY, 'mallory, who is no principal', { 'm.txt': 'm' });
    // the attack: an unauthorized policy change that names mallory, then a commit it would "authorize"
    h.checkout(['-b', 'attack', 'main']);
    c.grab = h.commit(MALLORY, 'policy: add mallory', { '.gitsign/policy.yaml': policy(2, { alice: ALICE, bob: BOB, mallory: MALLORY }) });
    c.onTop = h.commit(MALLORY, 'mallory, "authorized" by her own policy', { 'm.txt': 'n' });
    h.checkout(['-b', 'alice-next', 'main']);
    c.aliceNext = h.commit(ALICE, 'alice again', { 'a.txt': 'c' });
    h.checkout(['main']);
    h.tag(MALLORY, 'v2');
  });
  after(() => {
    h?.remove();
    if (outside) rmSync(outside, { recursive: true, force: true });
  });

  test('gitsign.policy unset (or false): every good signature is G with the same status lines as without a policy', () => {
    disable();
    for (const sha of [c.alice, c.mallory, c.onTop]) assert.equal(trustOf(sha), 'G');
    const raw = git(['verify-commit', '--raw', c.mallory]);
    assert.equal(raw.status, 0, raw.stderr);
    assert.match(raw.stderr, /^\[GNUPG:\] NEWSIG\n\[GNUPG:\] GOODSIG [0-9a-f]{40} mallory@example\.com\n\[GNUPG:\] TRUST_FULLY 0 shell\n$/);
    const human = git(['verify-commit', c.mallory]);
    assert.doesNotMatch(human.stderr, /policy/);
    h.repo.git('config', 'gitsign.policy', 'false');
    h.repo.git('config', 'gitsign.audit.trustRoot', c.base);
    assert.equal(trustOf(c.mallory), 'G');
    assert.equal(git(['verify-commit', c.mallory]).stderr, human.stderr, 'gitsign.policy=false changes nothing');
    disable();
  });

  test('an authorized signer: %G? G, verify-commit exits 0 and says which rule authorized it', () => {
    enable();
    assert.equal(trustOf(c.alice), 'G');
    assert.equal(trustOf(c.bob), 'G');
    const r = git(['verify-commit', '--raw', c.bob]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /\[GNUPG:\] TRUST_FULLY 0 shell\n/);
    const human = git(['verify-commit', c.bob]);
    assert.match(human.stderr, /^gitsign: policy: authorized \(rules\[0\] \(line 7\), policy serial 1\): 1 path allowed$/m);
  });

  test('an unauthorized signer: a good signature that is not trusted (%G? U, TRUST_NEVER), with the reason on one line', () => {
    enable();
    assert.equal(trustOf(c.mallory), 'U');
    const r = git(['verify-commit', '--raw', c.mallory]);
    assert.match(r.stderr, /\[GNUPG:\] GOODSIG [0-9a-f]{40} mallory@example\.com\n\[GNUPG:\] TRUST_NEVER 0 shell\n/);
    assert.equal(r.status, 0, "by default git's verify-commit accepts any trust level (gpg.minTrustLevel is undefined)");
    const human = git(['verify-commit', c.mallory]);
    assert.match(human.stderr, /^gitsign: policy: not trusted: violation UNKNOWN_SIGNER \(policy serial 1\): mallory@example\.com is no principal of the policy$/m);
    const shown = git(['log', '-1', '--show-signature', c.mallory]);
    assert.match(shown.stdout, /gitsign: policy: not trusted: violation UNKNOWN_SIGNER/);
  });

  test('merge --verify-signatures refuses the unauthorized signer with git\'s own message, and takes the authorized one', () => {
    enable();
    const refused = git(['merge', '--ff-only', '--verify-signatures', 'mallory']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, new RegExp(`Commit ${c.mallory.slice(0, 7)}[0-9a-f]* has an untrusted GPG signature, allegedly by mallory@example\\.com\\.`));
    assert.equal(h.rev('HEAD'), c.bob, 'nothing merged');
    const taken = git(['merge', '--ff-only', '--verify-signatures', 'alice-next']);
    assert.equal(taken.status, 0, taken.stderr);
    assert.match(taken.stdout, /has a good GPG signature by alice@example\.com/);
    h.repo.git('reset', '-q', '--hard', c.bob);
  });

  test('pull --verify-signatures refuses the unauthorized signer too', () => {
    enable();
    const refused = git(['pull', '--ff-only', '--verify-signatures', '.', 'mallory']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /has an untrusted GPG signature, allegedly by mallory@example\.com\./);
    assert.equal(h.rev('HEAD'), c.bob);
    const taken = git(['pull', '--ff-only', '--verify-signatures', '.', 'alice-next']);
    assert.equal(taken.status, 0, taken.stderr);
    h.repo.git('reset', '-q', '--hard', c.bob);
  });

  test('the attack: a policy change nobody authorized, then a commit it would allow: both untrusted, the merge refused', () => {
    enable();
    // Read from its parent's tree, the policy would name mallory; from the trust root, it does not.
    assert.match(h.repo.git('show', `${c.grab}:.gitsign/policy.yaml`), /mallory/);
    assert.equal(trustOf(c.grab), 'U');
    assert.match(git(['verify-commit', c.grab]).stderr, /^gitsign: policy: not trusted: violation POLICY_THRESHOLD /m);
    assert.equal(trustOf(c.onTop), 'U');
    assert.match(git(['verify-commit', c.onTop]).stderr, /^gitsign: policy: not trusted: violation UNKNOWN_SIGNER \(policy serial 1\)/m);
    const refused = git(['merge', '--ff-only', '--verify-signatures', 'attack']);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /has an untrusted GPG signature, allegedly by mallory@example\.com\./);
    assert.equal(h.rev('HEAD'), c.bob);
  });

  test("git's answer for each commit is gitsign audit's answer from the trust root", () => {
    enable();
    const run = h.audit([`${c.base}..attack`]);
    const commits = run.entries.filter((e) => e.type === 'commit');
    assert.deepEqual(new Set(commits.map((e) => e.object)), new Set([c.alice, c.bob, c.grab, c.onTop]));
    for (const e of commits) assert.equal(trustOf(e.object), e.status === 'ok' ? 'G' : 'U', `${e.object}: audit says ${e.status} ${e.reason}`);
  });

  test('gpg.minTrustLevel keeps git\'s meaning: marginal makes verify-commit fail; undefined lets merge take it', () => {
    enable();
    const strict = git(['-c', 'gpg.minTrustLevel=marginal', 'verify-commit', c.mallory]);
    assert.equal(strict.status, 1, strict.stderr);
    const fine = git(['-c', 'gpg.minTrustLevel=fully', 'verify-commit', c.alice]);
    assert.equal(fine.status, 0, fine.stderr);
    const lax = git(['-c', 'gpg.minTrustLevel=undefined', 'merge', '--ff-only', '--verify-signatures', 'mallory']);
    assert.equal(lax.status, 0, `a user who sets gpg.minTrustLevel=undefined accepts untrusted signatures: ${lax.stderr}`);
    h.repo.git('reset', '-q', '--hard', c.bob);
  });

  test('when the policy cannot be judged the signature is good but not trusted (TRUST_UNDEFINED), and stderr says why', () => {
    h.repo.git('config', 'gitsign.policy', 'true');
    h.repo.gitResult(['config', '--unset', 'gitsign.audit.trustRoot']);
    assert.equal(trustOf(c.alice), 'U');
    const r = git(['verify-commit', '--raw', c.alice]);
    assert.match(r.stderr, /\[GNUPG:\] TRUST_UNDEFINED 0 shell\n/);
    assert.match(git(['verify-commit', c.alice]).stderr, /^gitsign: policy: not trusted: no trust root: say which commit's policy to trust with git config gitsign\.audit\.trustRoot REV/m);
    assert.notEqual(git(['merge', '--ff-only', '--verify-signatures', 'alice-next']).status, 0);
    enable();
    assert.equal(trustOf(c.base), 'U', 'the trust root itself is not after the trust root');
    assert.match(git(['verify-commit', c.base]).stderr, /is not after the trust root/);
    h.repo.git('config', 'gitsign.audit.trustRoot', 'no-such-rev');
    assert.match(git(['verify-commit', c.alice]).stderr, /^gitsign: policy: not trusted: the trust root "no-such-rev" \(gitsign\.audit\.trustRoot\) names no commit$/m);
    enable();
  });

  test('tags: verify-tag judges by the tag rules (alice may sign v*, mallory may not)', () => {
    enable();
    const v1 = git(['verify-tag', '--raw', 'v1']);
    assert.match(v1.stderr, /\[GNUPG:\] TRUST_FULLY 0 shell\n/);
    const v2 = git(['verify-tag', '--raw', 'v2']);
    assert.match(v2.stderr, /\[GNUPG:\] TRUST_NEVER 0 shell\n/);
    assert.match(git(['verify-tag', 'v2']).stderr, /^gitsign: policy: not trusted: violation UNKNOWN_SIGNER \(tags\[0\] \(line \d+\), policy serial 1\)/m);
    assert.equal(git(['-c', 'gpg.minTrustLevel=marginal', 'verify-tag', 'v2']).status, 1);
  });

  test("rules' refs match the branch checked out (where merge and pull put what they verify); detached, only rules without refs apply", () => {
    const file = join(outside, 'main-only.yaml');
    writeFileSync(file, policy(3, { bob: BOB }, 'bob').replace('  - paths: ["**"]\n', '  - paths: ["**"]\n    refs: ["refs/heads/main"]\n'));
    h.repo.git('config', 'gitsign.policy', file);
    assert.equal(trustOf(c.bob), 'G');
    h.checkout(['--detach', 'main']);
    try {
      assert.equal(trustOf(c.bob), 'U');
      assert.match(git(['verify-commit', c.bob]).stderr, /^gitsign: policy: not trusted: violation PATH_UNCOVERED \(policy serial 3\): no rule for this ref covers "b\.txt"$/m);
    } finally {
      h.checkout(['main']);
      disable();
    }
  });

  test('a signed push: the push certificate is no commit or tag, so the policy leaves it alone (status G, no policy line)', () => {
    const server = join(outside, 'server.git');
    const seen = join(outside, 'push-status');
    const log = join(outside, 'server-gitsign.log');
    h.repo.git('init', '-q', '--bare', server);
    for (const [k, v] of [['receive.certNonceSeed', 'seed'], ['gpg.x509.program', BIN], ['gitsign.policy', 'true'], ['gitsign.audit.trustRoot', c.base], ['gitsign.logPath', log]]) h.repo.git('-C', server, 'config', k, v);
    writeFileSync(join(server, 'hooks', 'pre-receive'), `#!/bin/sh\necho "$GIT_PUSH_CERT_STATUS" > '${seen}'\n`);
    chmodSync(join(server, 'hooks', 'pre-receive'), 0o755);
    h.git(ALICE, ['push', '-q', '--signed', server, 'main']);
    assert.equal(readFileSync(seen, 'utf8').trim(), 'G');
    assert.ok(existsSync(log), 'the server verified the certificate with gitsign');
    assert.doesNotMatch(readFileSync(log, 'utf8'), /policy/);
  });

  test('a policy file from outside the repository judges every commit alone; a relative path or one inside the worktree is refused', () => {
    const file = join(outside, 'policy.yaml');
    writeFileSync(file, policy(7, { bob: BOB, mallory: MALLORY }, 'bob'));
    h.repo.git('config', 'gitsign.policy', file);
    h.repo.gitResult(['config', '--unset', 'gitsign.audit.trustRoot']);
    assert.equal(trustOf(c.bob), 'G');
    assert.equal(trustOf(c.mallory), 'G', 'the file names mallory');
    assert.equal(trustOf(c.alice), 'U', 'the file does not name alice');
    assert.match(git(['verify-commit', c.alice]).stderr, /^gitsign: policy: not trusted: violation UNKNOWN_SIGNER \(policy serial 7\)/m);
    h.repo.git('config', 'gitsign.policy', 'policy.yaml');
    assert.equal(trustOf(c.bob), 'U');
    assert.match(git(['verify-commit', c.bob]).stderr, /gitsign\.policy must be true, false or an absolute path/);
    writeFileSync(join(h.repo.dir, 'mine.yaml'), policy(7, { mallory: MALLORY }, 'mallory'));
    h.repo.git('config', 'gitsign.policy', join(h.repo.dir, 'mine.yaml'));
    assert.equal(trustOf(c.mallory), 'U');
    assert.match(git(['verify-commit', c.mallory]).stderr, /is inside the repository's worktree/);
    rmSync(join(h.repo.dir, 'mine.yaml'));
    h.repo.git('config', 'gitsign.policy', outside);
    assert.equal(trustOf(c.bob), 'U');
    assert.match(git(['verify-commit', c.bob]).stderr, /^gitsign: policy: not trusted: the policy file "[^"]+" is not a regular file$/m);
    disable();
  });
});
