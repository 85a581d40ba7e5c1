/**
 * Principals known by their keys in the policy file (gitsign-policy(5)): `ssh:` with an allowed_signers
 * line or a bare public key, `openpgp:` with a fingerprint (and the certificate); rules that require
 * an attested time; what a key identity matches (never a Sigstore identity, whatever its text), and
 * every refusal with its line and column.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { identityMatches, revocationOf, type Signer } from '../src/policy/identity';
import { PolicyError, parsePolicy } from '../src/policy/parse';

/** A real ed25519 key (ssh-keygen), and its fingerprint as ssh-keygen -l prints it. */
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICRWsA/S6bcqPb5kzFfIGWl8l/XC1eOTJGehGPuVzTi1';
const FP = 'SHA256:z9FQiUm5NZNFjlJ+3rIVlVFh7oMYPMBIreJ99aSzoSk';
const PGP = '968479A1AFF927E37D1A566BB5690EEEBB952194';

const policy = (principals: string, extra = ''): string => `version: 1
serial: 1
principals:
  alice:
    - issuer: https://accounts.example.com
      subject: alice@example.com
${principals}
rules:
  - paths: ["**"]
    signers: [alice]
${extra}policy:
  signers: [alice]
`;

function problems(text: string): string[] {
  try {
    parsePolicy(Buffer.from(text), 'p.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    return err.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
  }
  assert.fail('the policy was accepted');
}

const sshSigner = (fingerprint: string, namespace = 'git', claimed: Date | null = new Date('2025-01-01T00:00:00Z')): Signer => ({
  identities: [fingerprint],
  issuer: '',
  claim: () => undefined,
  key: { kind: 'ssh', fingerprint, namespace, claimedTime: claimed },
});

describe('key principals: what they mean', () => {
  test('ssh: an allowed_signers line (principals, options) or a bare key; openpgp: a fingerprint, spaced or lowercase, alone or with its certificate', () => {
    const p = parsePolicy(
      Buffer.from(
        policy(`  sam:
    - ssh: 'sam@example.com namespaces="git",valid-after="20240101Z" ${KEY} sam@laptop'
    - ssh: "${KEY}"
  web-flow:
    - openpgp: "${PGP.toLowerCase().replace(/(.{4})/g, '$1 ').trim()}"
    - openpgp:
        fingerprint: ${PGP}
        certificate: |
          -----BEGIN PGP PUBLIC KEY BLOCK-----
          (the armored certificate)
          -----END PGP PUBLIC KEY BLOCK-----`),
      ),
      'p.yaml',
    );
    const [line, bare] = p.principals.get('sam') ?? [];
    assert.deepEqual(line.key, { kind: 'ssh', fingerprint: FP, namespaces: ['git'], validAfter: new Date('2024-01-01T00:00:00Z'), validBefore: null, principals: ['sam@example.com'] });
    assert.deepEqual(bare.key, { kind: 'ssh', fingerprint: FP, namespaces: null, validAfter: null, validBefore: null, principals: [] });
    assert.equal(line.line, 8);
    const [short, full] = p.principals.get('web-flow') ?? [];
    assert.deepEqual(short.key, { kind: 'openpgp', fingerprint: PGP, certificate: null });
    assert.equal(full.key?.kind === 'openpgp' && full.key.certificate?.startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----'), true);
    assert.equal(p.rules[0].requireAttestedTime, false);
  });

  test('a key identity matches only a signature by that key, and a Sigstore identity never matches a key, whatever its text', () => {
    const p = parsePolicy(Buffer.from(policy(`  sam:\n    - ssh: "${KEY}"\n  fake:\n    - issuer: ""\n      subject: "${FP}"`.replace('issuer: ""', 'issuer: "x"'))), 'p.yaml');
    const [sam] = p.principals.get('sam') ?? [];
    const [fake] = p.principals.get('fake') ?? [];
    assert.equal(identityMatches(sam, sshSigner(FP)), true);
    assert.equal(identityMatches(sam, sshSigner('SHA256:AAAAiUm5NZNFjlJ+3rIVlVFh7oMYPMBIreJ99aSzoSk')), false);
    assert.equal(identityMatches(sam, { identities: [FP], issuer: '', claim: () => undefined }), false, 'a Sigstore signer whose SAN is the fingerprint');
    assert.equal(identityMatches({ ...fake, issuer: '' }, sshSigner(FP)), false, 'a Sigstore identity whose subject is the fingerprint');
    assert.equal(identityMatches(sam, { ...sshSigner(FP), key: { kind: 'openpgp', fingerprint: FP, claimedTime: null } }), false, 'another kind of key');
  });

  test('allowed_signers options: a namespace the line lists; valid-after against the claimed time; valid-before never met by a claimed time', () => {
    const spec = (options: string) => parsePolicy(Buffer.from(policy(`  sam:\n    - ssh: 'sam@example.com ${options} ${KEY}'`)), 'p.yaml').principals.get('sam')![0];
    assert.equal(identityMatches(spec('namespaces="file,g*"'), sshSigner(FP)), true);
    assert.equal(identityMatches(spec('namespaces="file"'), sshSigner(FP)), false);
    assert.equal(identityMatches(spec('valid-after="20240101Z"'), sshSigner(FP)), true);
    assert.equal(identityMatches(spec('valid-after="20260101Z"'), sshSigner(FP)), false);
    assert.equal(identityMatches(spec('valid-after="20240101Z"'), sshSigner(FP, 'git', null)), false, 'no claimed time at all');
    assert.equal(identityMatches(spec('valid-before="20990101Z"'), sshSigner(FP)), false);
  });

  test('a revoked key is refused at any claimed time (the caller passes null: no attested time)', () => {
    const p = parsePolicy(Buffer.from(policy('', `revoked:\n  - ssh: "${KEY}"\n    after: 2099-01-01T00:00:00Z\n    reason: lost\n`)), 'p.yaml');
    assert.equal(revocationOf(p.revoked, sshSigner(FP), null)?.reason, 'lost');
    assert.equal(revocationOf(p.revoked, sshSigner('SHA256:other'), null), undefined);
  });

  test('requireAttestedTime: true or false on a rule', () => {
    const p = parsePolicy(Buffer.from(policy('').replace('    signers: [alice]\n', '    signers: [alice]\n    requireAttestedTime: true\n')), 'p.yaml');
    assert.equal(p.rules[0].requireAttestedTime, true);
  });
});

describe('key principals: refusals, each with its line and column', () => {
  test('an SSH line that is not one: bad base64, a type that is not the key, cert-authority, a local time, an unknown option', () => {
    assert.deepEqual(problems(policy('  sam:\n    - ssh: "ssh-ed25519 AAAA!!!"')), ['8:12 principals.sam[0].ssh: the allowed_signers line has a key that is not base64']);
    assert.deepEqual(problems(policy(`  sam:\n    - ssh: "${KEY.replace('ssh-ed25519', 'ecdsa-sha2-nistp256')}"`)), ['8:12 principals.sam[0].ssh: the allowed_signers line says "ecdsa-sha2-nistp256" but its key is ssh-ed25519']);
    assert.match(problems(policy(`  sam:\n    - ssh: "s@x cert-authority ${KEY}"`))[0], /^8:12 .*cert-authority: SSH certificates are not supported/);
    assert.match(problems(policy(`  sam:\n    - ssh: 's@x valid-after="20240101" ${KEY}'`))[0], /^8:12 .*in local time: write it in UTC with a Z/);
    assert.match(problems(policy(`  sam:\n    - ssh: "s@x restrict ${KEY}"`))[0], /^8:12 .*unknown option "restrict"/);
  });

  test('OpenPGP: a short key ID, a certificate that is not armored, a mapping without fingerprint, unknown keys', () => {
    assert.match(problems(policy('  p:\n    - openpgp: "BB952194"'))[0], /^8:16 .*not an OpenPGP fingerprint \(40 hex digits, or 64 for a v6 key; never a short key ID\)/);
    assert.match(problems(policy(`  p:\n    - openpgp: {fingerprint: ${PGP}, certificate: "hello"}`))[0], /^8:\d+ principals\.p\[0\]\.openpgp\.certificate must be an armored OpenPGP certificate/);
    assert.match(problems(policy('  p:\n    - openpgp: {certificate: x}')).join('\n'), /openpgp has no fingerprint/);
    assert.match(problems(policy(`  p:\n    - openpgp: {fingerprint: ${PGP}, keyserver: x}`))[0], /unknown key "keyserver" in principals\.p\[0\]\.openpgp \(known: fingerprint, certificate\)/);
  });

  test('one identity is one key: ssh and openpgp together, or with issuer; requireAttestedTime must be a boolean', () => {
    assert.match(problems(policy(`  p:\n    - ssh: "${KEY}"\n      openpgp: ${PGP}`)).join('\n'), /8:7 principals\.p\[0\] has both ssh and openpgp/);
    assert.match(problems(policy(`  p:\n    - ssh: "${KEY}"\n      issuer: x`)).join('\n'), /unknown key "issuer" in principals\.p\[0\] \(known: ssh, openpgp\)/);
    assert.deepEqual(problems(policy('').replace('    signers: [alice]\n', '    signers: [alice]\n    requireAttestedTime: "yes"\n')), ['11:26 rules[0].requireAttestedTime must be true or false']);
  });
});
