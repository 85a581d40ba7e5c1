/**
 * Where a tag's signature starts, against git's own split (gpg-interface.c parse_signed_buffer): only
 * the last line that starts with one of the four signature markers git knows, anywhere in the object.
 * git's split is recorded by a program standing in for gpg / gpgsm / ssh-keygen during `git verify-tag`;
 * tags are made by real git (unsigned with quoted armor, hand-made objects, and really signed by
 * gitsign through the sandbox, by gpg and by ssh-keygen).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { splitTag } from '../src/git/rawobj';
import { requirePeer } from './helpers/peers';
import { mintToken, sandboxPerFile, signingRepo, tempDir } from './helpers/signingSandbox';
import type { TempRepo } from './helpers/gitRepo';

const sb = sandboxPerFile();
const RUN_MS = 60_000;

const CERT_BLOCK = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQuoted\n-----END CERTIFICATE-----\n';
const PGP_BLOCK = '-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEEquoted\n=abcd\n-----END PGP SIGNATURE-----\n';
const CMS_BLOCK = '-----BEGIN SIGNED MESSAGE-----\nMIAGCSqGSIb3DQEHAqCAquoted\n-----END SIGNED MESSAGE-----\n';
const SSH_BLOCK = '-----BEGIN SSH SIGNATURE-----\nU1NIU0lHquoted\n-----END SSH SIGNATURE-----\n';

describe('a tag splits where git splits it', () => {
  let repo: TempRepo;
  let work = '';
  let recorder = '';
  let allowed = '';

  /** An annotated tag of HEAD with this exact message (no cleanup), signed when `sign` gives git's -c options. */
  function tag(name: string, message: string, sign?: string[], env: NodeJS.ProcessEnv = {}): Buffer {
    const file = join(work, `${name}.msg`);
    writeFileSync(file, message);
    execFileSync('git', [...(sign ?? []), 'tag', sign ? '-s' : '-a', '--cleanup=verbatim', '-F', file, name], { cwd: repo.dir, env: { ...repo.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_MS });
    return execFileSync('git', ['cat-file', 'tag', name], { cwd: repo.dir, env: repo.env, timeout: RUN_MS });
  }

  /** A tag object written as given (the header block too), named by refs/tags/NAME. */
  function handMadeTag(name: string, text: string): Buffer {
    const sha = execFileSync('git', ['hash-object', '-t', 'tag', '-w', '--literally', '--stdin'], { cwd: repo.dir, env: repo.env, input: text, timeout: RUN_MS }).toString().trim();
    repo.git('update-ref', `refs/tags/${name}`, sha);
    return Buffer.from(text);
  }

  /** git's split of the tag: what `git verify-tag` hands the signature program, or null for "no signature found". */
  function gitSplit(name: string): { payload: Buffer; signature: Buffer } | null {
    const out = join(work, `rec-${name}`);
    mkdirSync(out, { recursive: true });
    const r = spawnSync('git', ['-c', `gpg.program=${recorder}`, '-c', `gpg.x509.program=${recorder}`, '-c', `gpg.ssh.program=${recorder}`, '-c', `gpg.ssh.allowedSignersFile=${allowed}`, 'verify-tag', name], {
      cwd: repo.dir,
      env: { ...repo.env, RECORD_TO: out },
      encoding: 'utf8',
      timeout: RUN_MS,
    });
    if (/no signature found/.test(r.stderr)) return null;
    assert.ok(existsSync(join(out, 'signature')), `git called the signature program for ${name}: ${r.stderr}`);
    return { payload: readFileSync(join(out, 'payload')), signature: readFileSync(join(out, 'signature')) };
  }

  function assertSplitsLikeGit(name: string, raw: Buffer, expectSigned: string | null): void {
    const ours = splitTag(raw);
    const git = gitSplit(name);
    assert.equal(git === null ? null : git.signature.toString('latin1').split('\n')[0], expectSigned, `git's split of ${name}`);
    if (git === null) {
      assert.equal(ours.signature, null, `${name}: git finds no signature, we found ${JSON.stringify(ours.signature?.toString('latin1').slice(0, 40))}`);
      assert.deepEqual(ours.payload, raw);
    } else {
      assert.deepEqual(ours.signature?.toString('latin1'), git.signature.toString('latin1'), `${name}: signature`);
      assert.deepEqual(ours.payload.toString('latin1'), git.payload.toString('latin1'), `${name}: payload`);
    }
  }

  before(() => {
    work = tempDir();
    recorder = join(work, 'record-signature');
    allowed = join(work, 'allowed_signers');
    writeFileSync(allowed, '');
    // gpg/gpgsm get "--verify FILE -", ssh-keygen "-s FILE"; the payload comes on stdin (last call wins).
    writeFileSync(
      recorder,
      '#!/bin/sh\nwhile [ $# -gt 0 ]; do case "$1" in --verify|-s) cp "$2" "$RECORD_TO/signature";; esac; shift; done\ncat > "$RECORD_TO/payload.new" && [ -s "$RECORD_TO/payload.new" ] && mv "$RECORD_TO/payload.new" "$RECORD_TO/payload"\nexit 1\n',
    );
    chmodSync(recorder, 0o755);
    repo = signingRepo({ ...sb.env, GITSIGN_TIMESTAMP_SERVER_URL: '' });
    writeFileSync(join(repo.dir, 'a.txt'), 'a\n');
    repo.git('add', 'a.txt');
    repo.git('commit', '-q', '-m', 'base');
  });
  after(() => {
    repo?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('an unsigned tag quoting a certificate is unsigned for git and for us', () => {
    assertSplitsLikeGit('cert', tag('cert', `release notes\n\n${CERT_BLOCK}`), null);
  });

  test('armor lines git does not take as a start (other labels, indented, not at a line start) leave a tag unsigned', () => {
    const raw = tag('others', `notes\n-----BEGIN PUBLIC KEY-----\n -----BEGIN PGP SIGNATURE-----\nsee -----BEGIN SSH SIGNATURE-----\n-----BEGIN PGP SIGNATURE\n-----BEGIN  SIGNED MESSAGE-----\n`);
    assertSplitsLikeGit('others', raw, null);
  });

  test('a quoted signature marker followed by a certificate: the signature starts at the marker, not at the last BEGIN line', () => {
    assertSplitsLikeGit('pgp-then-cert', tag('pgp-then-cert', `notes\n${PGP_BLOCK}more notes\n${CERT_BLOCK}`), '-----BEGIN PGP SIGNATURE-----');
  });

  test('each of the four markers starts a signature, with a CR or any text after it on the line', () => {
    assertSplitsLikeGit('pgp-message', tag('pgp-message', `notes\n-----BEGIN PGP MESSAGE-----\r\nabc\n${CERT_BLOCK}`), '-----BEGIN PGP MESSAGE-----\r');
    assertSplitsLikeGit('cms-tail', tag('cms-tail', `notes\n-----BEGIN SIGNED MESSAGE-----trailing\nabc\n-----BEGIN X509 CRL-----\n`), '-----BEGIN SIGNED MESSAGE-----trailing');
    assertSplitsLikeGit('ssh-last', tag('ssh-last', `notes\n${CMS_BLOCK}${SSH_BLOCK}`), '-----BEGIN SSH SIGNATURE-----');
    assertSplitsLikeGit('no-newline', handMadeTag('no-newline', `object ${repo.git('rev-parse', 'HEAD').trim()}\ntype commit\ntag x\ntagger T <t@x> 1 +0000\n\nm\n-----BEGIN PGP SIGNATURE-----`), '-----BEGIN PGP SIGNATURE-----');
  });

  test('a marker in the header block counts for git, so it counts for us', () => {
    // (After the tagger line: git checks the payload's tagger before it calls the program.)
    const raw = handMadeTag('in-header', `object ${repo.git('rev-parse', 'HEAD').trim()}\ntype commit\ntag in-header\ntagger T <t@x> 1 +0000\n-----BEGIN PGP SIGNATURE----- x\n\nmsg\n${CERT_BLOCK}`);
    assertSplitsLikeGit('in-header', raw, '-----BEGIN PGP SIGNATURE----- x');
  });

  test('gitsign verify-tag says an unsigned tag quoting a certificate is not signed (not a malformed signature)', () => {
    tag('cert-cli', `notes\n${CERT_BLOCK}`);
    const r = repo.gitsign(['verify-tag', '--json', 'cert-cli']);
    const out = JSON.parse(r.stdout.trim().split('\n')[0]) as { verified: boolean; error?: { code: string } };
    assert.equal(out.verified, false);
    assert.equal(out.error?.code, 'NOT_SIGNED', r.stdout);
  });

  const QUOTES = `notes quoting every kind of block\n${PGP_BLOCK}${CMS_BLOCK}${SSH_BLOCK}${CERT_BLOCK}`;

  test('a tag quoting signature blocks, signed by gitsign: git and gitsign verify it, and we split it as git does', () => {
    const raw = tag('gitsign-signed', QUOTES, [], { SIGSTORE_ID_TOKEN: mintToken(sb.dir, 'test@example.com') });
    assertSplitsLikeGit('gitsign-signed', raw, '-----BEGIN SIGNED MESSAGE-----');
    assert.equal(repo.gitResult(['verify-tag', 'gitsign-signed']).status, 0);
    const out = JSON.parse(repo.gitsign(['verify-tag', '--json', 'gitsign-signed']).stdout.trim().split('\n')[0]) as { verified: boolean };
    assert.equal(out.verified, true);
  });

  test('a tag quoting signature blocks, signed by gpg and by ssh-keygen: git verifies both, and we split them as git does', () => {
    requirePeer('gpg');
    requirePeer('ssh-keygen');
    const gnupg = join(work, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    const gpg = (...args: string[]): string => execFileSync('gpg', ['--batch', '--homedir', gnupg, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_MS });
    try {
      gpg('--passphrase', '', '--pinentry-mode', 'loopback', '--quick-gen-key', 'Pat <pat@example.com>', 'ed25519', 'sign', 'never');
      const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(gpg('--with-colons', '--list-keys', 'pat@example.com'))![1];
      const pgpEnv = { GNUPGHOME: gnupg };
      const raw = tag('gpg-signed', QUOTES, ['-c', 'gpg.format=openpgp', '-c', 'gpg.program=gpg', '-c', `user.signingkey=${fpr}`], pgpEnv);
      assertSplitsLikeGit('gpg-signed', raw, '-----BEGIN PGP SIGNATURE-----');
      assert.equal(spawnSync('git', ['-c', 'gpg.program=gpg', 'verify-tag', 'gpg-signed'], { cwd: repo.dir, env: { ...repo.env, ...pgpEnv }, timeout: RUN_MS }).status, 0);
    } finally {
      spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'all'], { timeout: 10_000 });
    }
    const key = join(work, 'sam');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'sam', '-f', key], { timeout: RUN_MS });
    const signers = join(work, 'ssh_allowed');
    writeFileSync(signers, `test@example.com ${readFileSync(`${key}.pub`, 'utf8')}`);
    const raw = tag('ssh-signed', QUOTES, ['-c', 'gpg.format=ssh', '-c', `user.signingkey=${key}`]);
    assertSplitsLikeGit('ssh-signed', raw, '-----BEGIN SSH SIGNATURE-----');
    assert.equal(repo.gitResult(['-c', `gpg.ssh.allowedSignersFile=${signers}`, 'verify-tag', 'ssh-signed']).status, 0);
  });
});
