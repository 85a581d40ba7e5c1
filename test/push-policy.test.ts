/**
 * The `pushes` section of a policy (gitsign-policy(5)): absent means push certificates are not
 * required; present, each rule's refs and signers are read like the rest of the policy (groups
 * expanded, names checked, unknown keys refused with line and column); the last rule matching a ref
 * decides which principals' push certificates may update it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushRefusal } from '../src/audit/pushJudge';
import type { PushSigner } from '../src/audit/pushCert';
import { PolicyError, parsePolicy } from '../src/policy/parse';

const BASE = `version: 1
serial: 1
principals:
  alice: [{issuer: https://issuer.example, subject: alice@example.com}]
  bob: [{issuer: https://issuer.example, subject: bob@example.com}]
groups:
  maintainers: [alice, bob]
rules:
  - paths: ["**"]
    signers: [maintainers]
policy:
  signers: [alice]
`;

const parse = (extra: string) => parsePolicy(Buffer.from(BASE + extra), 'policy.yaml');

const signer = (email: string): PushSigner => ({ signer: { identities: [email], issuer: 'https://issuer.example', claim: () => undefined }, time: new Date() });

test('no pushes section: pushes need no certificate', async () => {
  const policy = parse('');
  assert.equal(policy.pushes, null);
  assert.equal(await pushRefusal(policy, 'refs/heads/main', { certificate: async () => null }), null);
});

test('pushes rules: groups expanded, the last matching rule decides, a ref no rule covers is refused', async () => {
  const policy = parse('pushes:\n  - refs: ["refs/heads/**", "refs/tags/*"]\n    signers: [maintainers]\n  - refs: ["refs/heads/main"]\n    signers: [alice]\n');
  assert.deepEqual(policy.pushes?.map((r) => [...r.signers]), [['alice', 'bob'], ['alice']]);
  const by = (email: string | null) => ({ certificate: async () => (email ? signer(email) : null) });
  assert.equal(await pushRefusal(policy, 'refs/heads/main', by('alice@example.com')), null);
  assert.match((await pushRefusal(policy, 'refs/heads/main', by('bob@example.com'))) ?? '', /^PUSH_DENIED: pushes\[1\] \(line 16\) does not allow bob/);
  assert.equal(await pushRefusal(policy, 'refs/heads/topic/x', by('bob@example.com')), null);
  assert.match((await pushRefusal(policy, 'refs/heads/topic/x', by(null))) ?? '', /^PUSH_UNSIGNED: /);
  assert.match((await pushRefusal(policy, 'refs/notes/commits', by('alice@example.com'))) ?? '', /^PUSH_UNCOVERED: no pushes rule of the policy covers refs\/notes\/commits/);
  const broken = { certificate: async () => Promise.reject(new Error('bad signature')) };
  assert.match((await pushRefusal(policy, 'refs/heads/main', broken)) ?? '', /^PUSH_CERT: the push certificate does not verify/);
});

test('a revoked signer may not push', async () => {
  const policy = parse('revoked:\n  - issuer: https://issuer.example\n    subject: alice@example.com\n    after: 2020-01-01T00:00:00Z\n    reason: key lost\npushes:\n  - refs: ["refs/heads/main"]\n    signers: [alice]\n');
  assert.match((await pushRefusal(policy, 'refs/heads/main', { certificate: async () => signer('alice@example.com') })) ?? '', /^PUSH_REVOKED: .*key lost/);
});

test('pushes problems are reported with their line and column', () => {
  const problems = (extra: string): string[] => {
    try {
      parse(extra);
    } catch (err) {
      assert.ok(err instanceof PolicyError);
      return err.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
    }
    return [];
  };
  assert.deepEqual(problems('pushes:\n  - refs: ["refs/heads/main"]\n    signers: [carol]\n    when: always\n'), [
    '16:5 unknown key "when" in pushes[0] (known: refs, signers)',
    '15:15 pushes[0].signers[0]: "carol" is neither a principal nor a group',
  ].sort());
  assert.match(problems('pushes:\n  - signers: [alice]\n').join('\n'), /pushes\[0\] has no refs/);
  assert.match(problems('pushes:\n  - refs: ["refs/heads/[a]"]\n    signers: [alice]\n').join('\n'), /character classes/);
  assert.match(problems('pushes: {}\n').join('\n'), /pushes must be a list/);
});
