/**
 * Signed pushes (`git push --signed`) with gitsign-ts, to a real bare repository with
 * receive.certNonceSeed set and the shipped pre-receive hook: what the hook sees from receive-pack
 * (GIT_PUSH_CERT_STATUS=G, GIT_PUSH_CERT_SIGNER naming the Sigstore identity, nonce OK), and a policy
 * whose `pushes` section names who may push to which refs: an unsigned push, a push certificate by a
 * signer the rule does not name, and a forged certificate (checked by gitsign itself, whatever
 * receive-pack's variables say) are refused; a certificate by an authorized signer is accepted.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { policyHead, SignedHistory } from './helpers/auditHistory';
import { BIN } from './helpers/paths';
import { PushServer } from './helpers/pushServer';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MALLORY = 'mallory@example.com';

describe('signed pushes and the pushes section', () => {
  let h: SignedHistory;
  let server: PushServer;
  let record = '';

  const policy = (): string =>
    [
      ...policyHead(h.issuer, 1, { alice: ALICE, bob: BOB }),
      'rules:',
      '  - paths: ["**"]',
      '    signers: [alice, bob]',
      'policy:',
      '  signers: [alice]',
      'pushes:',
      '  - refs: ["refs/heads/**"]',
      '    signers: [alice, bob]',
      '  - refs: ["refs/heads/main"]',
      '    signers: [alice]',
    ].join('\n');

  const seen = (): Record<string, string> => Object.fromEntries(readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  /** `gitsign hook pre-receive` run by hand in the server, with receive-pack's variables as given. */
  const hook = (stdin: string, env: Record<string, string>): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [BIN, 'hook', 'pre-receive'], { cwd: server.dir, env: { ...h.repo.env, GIT_DIR: server.dir, ...env }, input: stdin, encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stderr: r.stderr };
  };

  before(() => {
    h = new SignedHistory(sb);
    server = new PushServer(h);
    server.git('config', 'receive.certNonceSeed', 'a secret of the server');
    // So that receive-pack can check certificates itself (GIT_PUSH_CERT_STATUS); the hook does not rely on it.
    server.git('config', 'gpg.x509.program', BIN);
    h.commit(ALICE, 'policy: pushes by alice and bob', { '.gitsign/policy.yaml': policy() });
    assert.equal(server.push(null, ['-q', 'origin', 'main']).status, 0);
    record = join(server.dir, 'push-env');
    server.installHook(record);
  });
  after(() => {
    h?.remove();
    server?.remove();
  });

  test('the hook sees the certificate checked by git with gitsign: status G, the signer named, the nonce OK', () => {
    const c = h.commit(BOB, 'bob works', { 'b.txt': '1' });
    const r = server.push(ALICE, ['--signed', 'origin', 'main']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.rev('refs/heads/main'), c);
    assert.match(r.stderr, /refs\/heads\/main: accepted: 1 new commit authorized .*; push certificate signer authorized/);
    const env = seen();
    assert.equal(env.GIT_PUSH_CERT_STATUS, 'G');
    assert.equal(env.GIT_PUSH_CERT_SIGNER, ALICE);
    assert.match(env.GIT_PUSH_CERT_KEY, /^[0-9a-f]{40}$/);
    assert.equal(env.GIT_PUSH_CERT_NONCE_STATUS, 'OK');
    assert.match(server.git('cat-file', 'blob', env.GIT_PUSH_CERT), /^certificate version 0\.1\n[\s\S]*-----BEGIN SIGNED MESSAGE-----/);
  });

  test('an unsigned push to a ref a pushes rule covers is refused', () => {
    h.commit(ALICE, 'alice works', { 'a.txt': '1' });
    const before = server.rev('refs/heads/main');
    const r = server.push(null, ['origin', 'main']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /PUSH_UNSIGNED: pushes\[1\] \(line \d+\) requires a signed push \(git push --signed\) to refs\/heads\/main/);
    assert.equal(server.rev('refs/heads/main'), before);
  });

  test("a certificate by a principal the ref's last matching rule does not name is refused; the same signer may push where a rule names it", () => {
    const before = server.rev('refs/heads/main');
    const denied = server.push(BOB, ['--signed', 'origin', 'main']);
    assert.notEqual(denied.status, 0);
    assert.match(denied.stderr, /PUSH_DENIED: pushes\[1\] \(line \d+\) does not allow bob to push to refs\/heads\/main/);
    assert.equal(server.rev('refs/heads/main'), before);

    const branch = server.push(BOB, ['--signed', 'origin', 'main:refs/heads/bob']);
    assert.equal(branch.status, 0, branch.stderr);
    assert.equal(seen().GIT_PUSH_CERT_SIGNER, BOB);

    const stranger = server.push(MALLORY, ['--signed', 'origin', 'main:refs/heads/mallory']);
    assert.notEqual(stranger.status, 0);
    assert.match(stranger.stderr, new RegExp(`PUSH_DENIED: pushes\\[0\\] \\(line \\d+\\) does not allow ${MALLORY} to push to refs/heads/mallory`));
  });

  test('a deletion needs an authorized certificate too', () => {
    assert.notEqual(server.push(null, ['origin', ':refs/heads/bob']).status, 0);
    const r = server.push(ALICE, ['--signed', 'origin', ':refs/heads/bob']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(server.rev('refs/heads/bob'), null);
  });

  test("the certificate is verified by gitsign, not taken from receive-pack's variables: a forged one is refused whatever they say", () => {
    const signed = server.push(ALICE, ['--signed', 'origin', 'main']);
    assert.equal(signed.status, 0, signed.stderr);
    const env = seen();
    const genuine = server.git('cat-file', 'blob', env.GIT_PUSH_CERT);
    const tip = server.rev('refs/heads/main') as string;
    const update = `${tip} ${tip} refs/heads/main\n`;
    // The same signature over other ref updates: the content no longer matches what was signed.
    const forged = genuine.replace(/^[0-9a-f]{40} [0-9a-f]{40} refs\/heads\/main$/m, update.trim());
    assert.notEqual(forged, genuine);
    const oid = spawnSync('git', ['hash-object', '-w', '--stdin'], { cwd: server.dir, env: { ...h.repo.env, GIT_DIR: server.dir }, input: forged, encoding: 'utf8' }).stdout.trim();
    const lying = { GIT_PUSH_CERT: oid, GIT_PUSH_CERT_STATUS: 'G', GIT_PUSH_CERT_SIGNER: ALICE, GIT_PUSH_CERT_NONCE_STATUS: 'OK', GIT_PUSH_CERT_NONCE: env.GIT_PUSH_CERT_NONCE, GIT_PUSH_CERT_KEY: env.GIT_PUSH_CERT_KEY };
    const r = hook(update, lying);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /PUSH_CERT: the push certificate does not verify: signature does not match the signed data/);

    // The genuine certificate with a nonce receive-pack did not accept.
    const stale = hook(genuine.split('\n\n')[1].split('-----BEGIN')[0], { ...lying, GIT_PUSH_CERT: env.GIT_PUSH_CERT, GIT_PUSH_CERT_NONCE_STATUS: 'SLOP' });
    assert.equal(stale.status, 1, stale.stderr);
    assert.match(stale.stderr, /GIT_PUSH_CERT_NONCE_STATUS="SLOP"/);

    // A genuine certificate does not cover updates it does not list.
    const other = hook(update.replace('refs/heads/main', 'refs/heads/other'), { ...lying, GIT_PUSH_CERT: env.GIT_PUSH_CERT });
    assert.equal(other.status, 1, other.stderr);
    assert.match(other.stderr, /it does not list the update of refs\/heads\/other/);
  });
});
