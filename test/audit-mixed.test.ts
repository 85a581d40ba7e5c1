/**
 * A history signed in all four ways git knows (gitsign through the sandbox, SSH through ssh-keygen,
 * OpenPGP through gpg, and not at all), audited under policies that allow and refuse each kind:
 * SSH principals by allowed_signers line (namespaces, valid-before, revocation), OpenPGP principals
 * by fingerprint with their certificate, rules that require an attested time; git's own verification
 * (gpg.ssh.allowedSignersFile, gpg) agreeing with the audit on good and tampered objects; the report's
 * kind and claimed time; and `gitsign policy init` proposing the keys it saw.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type AuditEntry, person, SignedHistory } from './helpers/auditHistory';
import { requirePeer } from './helpers/peers';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();
const ALICE = 'alice@example.com';

type Entry = AuditEntry & { kind: string | null; timeSource: string | null; claimedTime?: string };

describe('an audit of a history signed by gitsign, SSH, OpenPGP and not at all', () => {
  let h: SignedHistory;
  let keys = '';
  let gnupg = '';
  let sshPub = '';
  let otherSshPub = '';
  let pgpFingerprint = '';
  let pgpCertificate = '';
  const c: Record<string, string> = {};

  /** git with SSH or OpenPGP signing (the sandbox's gitsign is not used for these commits). */
  function commitAs(kind: 'ssh' | 'openpgp', message: string, files: Record<string, string>): string {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(h.repo.dir, path)), { recursive: true });
      writeFileSync(join(h.repo.dir, path), content);
    }
    h.repo.git('add', '-A');
    const cfg = kind === 'ssh' ? ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${join(keys, 'sam')}`] : ['-c', 'gpg.format=openpgp', '-c', 'gpg.program=gpg', '-c', `user.signingkey=${pgpFingerprint}`];
    execFileSync('git', ['-c', 'commit.gpgsign=true', ...cfg, 'commit', '-q', '-m', message], { cwd: h.repo.dir, env: { ...h.repo.env, GNUPGHOME: gnupg }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return h.rev('HEAD');
  }

  const gpg = (...args: string[]): string => execFileSync('gpg', ['--batch', '--homedir', gnupg, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });

  /** A policy: alice (gitsign), plus the given principals; `rule` extra keys for the one rule. */
  function policy(principals: string[], opts: { rule?: string[]; extra?: string[] } = {}): string {
    const signers = ['alice', ...['sam', 'pat'].filter((n) => principals.includes(`  ${n}:`))];
    const file = join(keys, `policy-${Math.random().toString(36).slice(2)}.yaml`);
    const text = [
      'version: 1',
      'serial: 1',
      'principals:',
      `  alice: ${person(h.issuer, ALICE)}`,
      ...principals,
      'rules:',
      '  - paths: ["**"]',
      `    signers: [${signers.join(', ')}]`,
      ...(opts.rule ?? []),
      'policy:',
      '  signers: [alice]',
      ...(opts.extra ?? []),
    ].join('\n');
    writeFileSync(file, text);
    return file;
  }

  const sam = (line: string): string[] => ['  sam:', `    - ssh: ${JSON.stringify(line)}`];
  const pat = (fingerprint: string, certificate: string | null): string[] => [
    '  pat:',
    '    - openpgp:',
    `        fingerprint: ${fingerprint}`,
    ...(certificate ? ['        certificate: |', ...certificate.trim().split('\n').map((l) => `          ${l}`)] : []),
  ];

  const audit = (policyFile: string, range = `${c.base}..main`): { status: number | null; of: (sha: string) => Entry; stdout: string } => {
    const run = h.audit([range, '--policy', policyFile]);
    assert.ok(run.summary, `the audit ran: ${run.stderr}`);
    return { status: run.status, of: (sha) => run.of(sha) as Entry, stdout: run.stdout };
  };

  before(() => {
    requirePeer('ssh-keygen');
    requirePeer('gpg');
    keys = mkdtempSync(join(tmpdir(), 'gitsign-mixed-'));
    gnupg = join(keys, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sam@example.com', '-f', join(keys, 'sam')], { timeout: 30_000 });
    execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(keys, 'other')], { timeout: 30_000 });
    sshPub = readFileSync(join(keys, 'sam.pub'), 'utf8').trim();
    otherSshPub = readFileSync(join(keys, 'other.pub'), 'utf8').trim();
    gpg('--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', 'Pat <pat@example.com>', 'ed25519', 'sign', 'never');
    pgpFingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-keys', 'pat@example.com'))![1];
    pgpCertificate = gpg('--armor', '--export', pgpFingerprint);

    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'base', { 'README.md': 'r' });
    c.alice = h.commit(ALICE, 'alice: gitsign', { 'src/a.txt': 'a' });
    c.ssh = commitAs('ssh', 'sam: ssh', { 'src/b.txt': 'b' });
    c.pgp = commitAs('openpgp', 'pat: openpgp', { 'src/c.txt': 'c' });
    c.unsigned = h.commit(null, 'bot: unsigned', { 'src/d.txt': 'd' });
    execFileSync('git', ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${join(keys, 'sam')}`, 'tag', '-s', '-m', 'v1', 'v1', c.ssh], { cwd: h.repo.dir, env: h.repo.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    c.tag = h.rev('refs/tags/v1');
  });
  after(() => {
    if (gnupg) spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'all'], { timeout: 10_000 });
    if (keys) rmSync(keys, { recursive: true, force: true });
    h?.remove();
  });

  test('a policy naming all three signers accepts each kind and reports it with its time source; the unsigned commit fails', () => {
    const run = audit(policy([...sam(`sam@example.com namespaces="git" ${sshPub}`), ...pat(pgpFingerprint, pgpCertificate)]));
    assert.equal(run.status, 1);
    const [a, s, p, u] = [c.alice, c.ssh, c.pgp, c.unsigned].map(run.of);
    assert.deepEqual([a.status, a.kind, a.timeSource], ['ok', 'sigstore', 'tlog']);
    assert.deepEqual([s.status, s.kind, s.timeSource, s.principals, s.attestedTime], ['ok', 'ssh', 'claimed', ['sam'], null]);
    assert.match(s.signer?.identities[0] ?? '', /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.equal(s.claimedTime, new Date(Number(h.repo.git('log', '-1', '--format=%ct', c.ssh).trim()) * 1000).toISOString());
    assert.deepEqual([p.status, p.kind, p.timeSource, p.principals, p.attestedTime], ['ok', 'openpgp', 'claimed', ['pat'], null]);
    assert.equal(p.signer?.identities[0], pgpFingerprint);
    assert.ok(p.claimedTime);
    assert.deepEqual([u.status, u.reason, u.kind], ['unsigned', 'NOT_SIGNED', null]);
  });

  test('the text report says each signature kind and which times are only claimed', () => {
    const file = policy([...sam(sshPub), ...pat(pgpFingerprint, pgpCertificate)]);
    const r = h.gitsign(['audit', `${c.base}..main`, '--policy', file, '--offline']);
    const line = (sha: string): string => r.stdout.split('\n').find((l) => l.includes(sha.slice(0, 12))) ?? '';
    assert.match(line(c.ssh), /signer=ssh:SHA256:\S+ +time=claimed:\d{4}-/);
    assert.match(line(c.pgp), new RegExp(`signer=openpgp:${pgpFingerprint} +time=claimed:`));
    assert.match(line(c.alice), /time=\d{4}-/);
    assert.match(r.stdout, /^audit: signatures: 1 sigstore, 2 ssh, 1 openpgp, 1 unsigned; time attested by a log or timestamp: 1, only claimed by the signer: 3$/m);
  });

  test('a policy without them refuses SSH and OpenPGP signers, even with a Sigstore identity spelled like the SSH fingerprint', () => {
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(keys, 'sam.pub')], { encoding: 'utf8' }).split(' ')[1];
    const run = audit(policy(['  sam:', `    - {issuer: "ssh", subject: ${JSON.stringify(fp)}}`]));
    assert.deepEqual([run.of(c.alice).status, run.of(c.ssh).status, run.of(c.ssh).reason], ['ok', 'violation', 'UNKNOWN_SIGNER']);
    assert.deepEqual([run.of(c.pgp).status, run.of(c.pgp).reason], ['error', 'OPENPGP_UNKNOWN_KEY'], 'no policy carries its certificate');
  });

  test('the fingerprint names an OpenPGP principal: a certificate that verifies does not make its key a principal under another fingerprint', () => {
    const wrong = `${pgpFingerprint.slice(0, 39)}${pgpFingerprint.endsWith('0') ? '1' : '0'}`;
    const run = audit(policy([...sam(sshPub), ...pat(wrong, pgpCertificate)]));
    assert.deepEqual([run.of(c.pgp).status, run.of(c.pgp).reason, run.of(c.pgp).kind], ['violation', 'UNKNOWN_SIGNER', 'openpgp']);
    assert.equal(run.of(c.ssh).status, 'ok');
  });

  test('another SSH key, a namespace list without git, and valid-before (a claimed time proves no "before") each refuse the SSH commit', () => {
    for (const line of [otherSshPub, `sam@example.com namespaces="file" ${sshPub}`, `sam@example.com valid-before="20990101Z" ${sshPub}`]) {
      const run = audit(policy(sam(line)));
      assert.deepEqual([run.of(c.ssh).status, run.of(c.ssh).reason], ['violation', 'UNKNOWN_SIGNER'], line.slice(0, 60));
    }
    const run = audit(policy(sam(`sam@example.com valid-after="20000101Z" ${sshPub}`)));
    assert.equal(run.of(c.ssh).status, 'ok', 'valid-after before the claimed time');
  });

  test('revoking a key refuses its signatures whatever time they claim (a claimed time never proves "before the revocation")', () => {
    const run = audit(
      policy([...sam(sshPub), ...pat(pgpFingerprint, pgpCertificate)], {
        extra: ['revoked:', `  - ssh: ${JSON.stringify(sshPub)}`, '    after: 2099-01-01T00:00:00Z', '    reason: lost laptop', `  - openpgp: ${pgpFingerprint}`, '    after: 2099-01-01T00:00:00Z', '    reason: expired'],
      }),
    );
    assert.deepEqual([run.of(c.ssh).status, run.of(c.pgp).status, run.of(c.alice).status], ['revoked', 'revoked', 'ok']);
    assert.match(run.of(c.ssh).message, /only claims/);
  });

  test('requireAttestedTime: a rule may accept only signatures whose time a log attests', () => {
    const run = audit(policy([...sam(sshPub), ...pat(pgpFingerprint, pgpCertificate)], { rule: ['    requireAttestedTime: true'] }));
    assert.deepEqual([run.of(c.alice).status, run.of(c.ssh).reason, run.of(c.pgp).reason], ['ok', 'TIME_NOT_ATTESTED', 'TIME_NOT_ATTESTED']);
  });

  test('an SSH-signed annotated tag is judged by the tag rules: allowed for its key, denied to another principal', () => {
    const tags = (signers: string): string[] => ['tags:', '  - names: ["v*"]', `    signers: ${signers}`];
    const allowed = audit(policy(sam(sshPub), { extra: tags('[sam]') })).of(c.tag);
    assert.deepEqual([allowed.status, allowed.kind, allowed.timeSource, allowed.principals], ['ok', 'ssh', 'claimed', ['sam']]);
    const denied = audit(policy(sam(sshPub), { extra: tags('[alice]') })).of(c.tag);
    assert.deepEqual([denied.status, denied.reason], ['violation', 'TAG_DENIED']);
  });

  test('git itself (gpg.ssh.allowedSignersFile, gpg) and the audit agree on the good and on tampered SSH and OpenPGP commits', () => {
    const allowed = join(keys, 'allowed_signers');
    writeFileSync(allowed, `sam@example.com ${sshPub}\n`);
    const env = { ...h.repo.env, GNUPGHOME: gnupg };
    const gitVerifies = (sha: string): boolean => spawnSync('git', ['-c', `gpg.ssh.allowedSignersFile=${allowed}`, 'verify-commit', sha], { cwd: h.repo.dir, env, timeout: 60_000 }).status === 0;
    assert.equal(gitVerifies(c.ssh), true);
    assert.equal(gitVerifies(c.pgp), true);
    // The same signature on another message: a commit object written as is, on a branch of its own.
    const tamper = (sha: string, branch: string): string => {
      const raw = execFileSync('git', ['cat-file', 'commit', sha], { cwd: h.repo.dir, env }).toString('latin1');
      const forged = raw.replace(/\n\n([^\n]*)\n$/, '\n\n$1 (tampered)\n');
      assert.notEqual(forged, raw);
      const id = execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: h.repo.dir, env, input: Buffer.from(forged, 'latin1') }).toString().trim();
      h.repo.git('update-ref', `refs/heads/${branch}`, id);
      return id;
    };
    const badSsh = tamper(c.ssh, 'tampered-ssh');
    const badPgp = tamper(c.pgp, 'tampered-pgp');
    assert.equal(gitVerifies(badSsh), false);
    assert.equal(gitVerifies(badPgp), false);
    const file = policy([...sam(sshPub), ...pat(pgpFingerprint, pgpCertificate)]);
    const s = audit(file, `${c.alice}..tampered-ssh`).of(badSsh);
    const p = audit(file, `${c.ssh}..tampered-pgp`).of(badPgp);
    assert.deepEqual([s.status, s.reason, s.kind], ['error', 'SSH_BAD_SIGNATURE', 'ssh']);
    assert.deepEqual([p.status, p.reason, p.kind], ['error', 'OPENPGP_BAD_SIGNATURE', 'openpgp']);
  });

  test('policy init proposes a principal for the SSH key (with its public key) and the OpenPGP fingerprint, and the result is a valid policy', () => {
    const r = h.gitsign(['policy', 'init', `${c.base}..main`, '-o', '-']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(r.stdout.includes(`- ssh: ${JSON.stringify(sshPub.split(' ').slice(0, 2).join(' '))}`), r.stdout);
    assert.ok(r.stdout.includes(`fingerprint: "${pgpFingerprint}"`), r.stdout);
    assert.ok(r.stdout.includes(`subject: "${ALICE}"`));
    const file = join(keys, 'init.yaml');
    writeFileSync(file, r.stdout);
    assert.equal(h.gitsign(['policy', 'check', file]).status, 0);
  });
});
