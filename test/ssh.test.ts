/**
 * SSH signatures (src/ssh) against the real OpenSSH: keys of every supported type made by
 * `ssh-keygen`, signatures made by `ssh-keygen -Y sign`, and `ssh-keygen -Y verify` agreeing with us
 * on good, tampered and wrong-namespace signatures; fingerprints as `ssh-keygen -l` prints them;
 * allowed_signers lines; and hostile bytes that must end in a stable SSH_* code, never a crash.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GitsignError } from '../src/errors';
import { matchesPatternList, parseAllowedSigner } from '../src/ssh/allowedSigners';
import { parseSshSignature, verifySshSignature } from '../src/ssh/sshsig';
import { wireString } from '../src/ssh/wire';
import { requirePeer } from './helpers/peers';

const KEYS: { name: string; args: string[]; type: string }[] = [
  { name: 'ed25519', args: ['-t', 'ed25519'], type: 'ssh-ed25519' },
  { name: 'p256', args: ['-t', 'ecdsa', '-b', '256'], type: 'ecdsa-sha2-nistp256' },
  { name: 'p384', args: ['-t', 'ecdsa', '-b', '384'], type: 'ecdsa-sha2-nistp384' },
  { name: 'p521', args: ['-t', 'ecdsa', '-b', '521'], type: 'ecdsa-sha2-nistp521' },
  { name: 'rsa', args: ['-t', 'rsa', '-b', '2048'], type: 'ssh-rsa' },
];

let dir = '';
let sshKeygen = '';
const message = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1700000000 +0000\ncommitter A <a@example.com> 1700000000 +0000\n\nhello\n');

function sign(key: string, data: Buffer, namespace = 'git', extra: string[] = []): Buffer {
  const file = join(dir, `msg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, data);
  execFileSync(sshKeygen, ['-q', '-Y', 'sign', '-f', join(dir, key), '-n', namespace, ...extra, file], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  return readFileSync(`${file}.sig`);
}

/** `ssh-keygen -Y verify` with an allowed_signers file naming the key: true when it says Good. */
function opensshVerifies(key: string, sig: Buffer, data: Buffer, namespace = 'git'): boolean {
  const allowed = join(dir, `allowed-${key}`);
  writeFileSync(allowed, `signer@example.com ${readFileSync(join(dir, `${key}.pub`), 'utf8')}`);
  const sigFile = join(dir, `sig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(sigFile, sig);
  const r = spawnSync(sshKeygen, ['-Y', 'verify', '-f', allowed, '-I', 'signer@example.com', '-n', namespace, '-s', sigFile], { input: data, timeout: 30_000 });
  return r.status === 0;
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'verified';
  } catch (err) {
    assert.ok(err instanceof GitsignError, `a GitsignError, not ${String(err)}`);
    return err.code;
  }
}

before(() => {
  sshKeygen = requirePeer('ssh-keygen');
  dir = mkdtempSync(join(tmpdir(), 'gitsign-ssh-'));
  for (const k of KEYS) execFileSync(sshKeygen, ['-q', ...k.args, '-N', '', '-C', `${k.name}@example.com`, '-f', join(dir, k.name)], { timeout: 60_000 });
});
after(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('SSH signatures agree with ssh-keygen -Y verify', () => {
  for (const k of KEYS) {
    test(`${k.name}: a good signature verifies for both, with the key and fingerprint ssh-keygen -l prints`, () => {
      const sig = sign(k.name, message);
      assert.equal(opensshVerifies(k.name, sig, message), true);
      const verified = verifySshSignature(sig, message);
      assert.equal(verified.key.type, k.type);
      const printed = execFileSync(sshKeygen, ['-l', '-E', 'sha256', '-f', join(dir, `${k.name}.pub`)], { encoding: 'utf8' }).split(' ')[1];
      assert.equal(verified.key.fingerprint, printed);
      assert.equal(parseAllowedSigner(readFileSync(join(dir, `${k.name}.pub`), 'utf8').trim()).key.fingerprint, printed);
    });

    test(`${k.name}: a tampered object fails for both (SSH_BAD_SIGNATURE)`, () => {
      const sig = sign(k.name, message);
      const tampered = Buffer.from(message.toString().replace('hello', 'hellO'));
      assert.equal(opensshVerifies(k.name, sig, tampered), false);
      assert.equal(codeOf(() => verifySshSignature(sig, tampered)), 'SSH_BAD_SIGNATURE');
    });

    test(`${k.name}: a signature for another namespace is refused by both (SSH_NAMESPACE)`, () => {
      const sig = sign(k.name, message, 'file');
      assert.equal(opensshVerifies(k.name, sig, message, 'git'), false);
      assert.equal(codeOf(() => verifySshSignature(sig, message)), 'SSH_NAMESPACE');
      assert.equal(verifySshSignature(sig, message, 'file').namespace, 'file');
    });
  }

  test('a SHA-256 message hash (-O hashalg=sha256) verifies for both', () => {
    const sig = sign('ed25519', message, 'git', ['-O', 'hashalg=sha256']);
    assert.equal(parseSshSignature(sig).hashAlgorithm, 'sha256');
    assert.equal(opensshVerifies('ed25519', sig, message), true);
    assert.equal(verifySshSignature(sig, message).key.type, 'ssh-ed25519');
  });

  test('a signature made by another key of the same type is SSH_BAD_SIGNATURE (the key in it is the key that must verify)', () => {
    execFileSync(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'other')], { timeout: 30_000 });
    const sig = sign('ed25519', message);
    const theirs = sign('other', message);
    // Splice: our signature's key, their signature value.
    const blob = (s: Buffer): Buffer => Buffer.from(s.toString().split('\n').slice(1, -2).join(''), 'base64');
    const a = blob(sig);
    const b = blob(theirs);
    const spliced = Buffer.concat([a.subarray(0, a.length - 64), b.subarray(b.length - 64)]);
    assert.equal(codeOf(() => verifySshSignature(armor(spliced), message)), 'SSH_BAD_SIGNATURE');
  });
});

function armor(blob: Buffer): Buffer {
  const b64 = blob.toString('base64').replace(/.{1,70}/g, '$&\n');
  return Buffer.from(`-----BEGIN SSH SIGNATURE-----\n${b64}-----END SSH SIGNATURE-----\n`);
}

describe('SSH signatures we refuse, with a stable code', () => {
  test('an ssh-rsa (SHA-1) signature is SSH_UNSUPPORTED, even when the rest is intact', () => {
    const blob = Buffer.from(sign('rsa', message).toString().split('\n').slice(1, -2).join(''), 'base64');
    // The signature field (its length, then the algorithm string) rebuilt with ssh-rsa as the algorithm.
    const at = blob.indexOf(wireString('rsa-sha2-512'));
    assert.ok(at > 0);
    const inner = Buffer.concat([wireString('ssh-rsa'), blob.subarray(at + wireString('rsa-sha2-512').length)]);
    const outer = Buffer.concat([blob.subarray(0, at - 4), wireString(inner)]);
    assert.equal(codeOf(() => verifySshSignature(armor(outer), message)), 'SSH_UNSUPPORTED');
  });

  test('an unknown security key type and a certificate are SSH_UNSUPPORTED', () => {
    const fake = (type: string): Buffer => Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 1]), wireString(Buffer.concat([wireString(type), wireString(Buffer.alloc(32))])), wireString('git'), wireString(''), wireString('sha512'), wireString(Buffer.concat([wireString(type), wireString(Buffer.alloc(64))]))]);
    assert.equal(codeOf(() => verifySshSignature(armor(fake('sk-ssh-ed448@openssh.com')), message)), 'SSH_UNSUPPORTED');
    assert.equal(codeOf(() => verifySshSignature(armor(fake('ssh-ed25519-cert-v01@openssh.com')), message)), 'SSH_UNSUPPORTED');
    assert.equal(codeOf(() => verifySshSignature(armor(fake('ssh-dss')), message)), 'SSH_UNSUPPORTED');
  });

  test('truncated, extended, re-armored and bit-flipped signatures all end in an SSH_* code, never verified or a crash', () => {
    for (const k of KEYS) {
      const sig = sign(k.name, message);
      const blob = Buffer.from(sig.toString().split('\n').slice(1, -2).join(''), 'base64');
      const codes = new Set<string>();
      for (let n = 0; n < blob.length; n += 7) codes.add(codeOf(() => verifySshSignature(armor(blob.subarray(0, n)), message)));
      codes.add(codeOf(() => verifySshSignature(armor(Buffer.concat([blob, Buffer.from([0])])), message)));
      for (let i = 0; i < blob.length; i += 3) {
        const flipped = Buffer.from(blob);
        flipped[i] ^= 0x01;
        codes.add(codeOf(() => verifySshSignature(armor(flipped), message)));
      }
      codes.add(codeOf(() => verifySshSignature(Buffer.from(sig.toString().replace('BEGIN SSH', 'BEGIN PGP')), message)));
      codes.add(codeOf(() => verifySshSignature(Buffer.from(sig.toString().replace(/\n(.)/, '\n!$1')), message)));
      codes.add(codeOf(() => verifySshSignature(Buffer.alloc(70_000, 0x41), message)));
      const huge = Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 1]), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
      codes.add(codeOf(() => verifySshSignature(armor(huge), message)));
      assert.ok(!codes.has('verified'), `${k.name}: no damaged signature verifies`);
      for (const c of codes) assert.match(c, /^SSH_(MALFORMED|BAD_SIGNATURE|NAMESPACE|UNSUPPORTED)$/, `${k.name}: ${c}`);
    }
  });
});

describe('allowed_signers lines (git gpg.ssh.allowedSignersFile)', () => {
  const pub = (): string => readFileSync(join(dir, 'ed25519.pub'), 'utf8').trim();

  test('principals, namespaces, valid-after and valid-before are read; ssh-keygen accepts the same line', () => {
    const line = `alice@example.com,"bob@example.com" namespaces="git,file",valid-after="20240101Z",valid-before="202501021230Z" ${pub()}`;
    const s = parseAllowedSigner(line);
    assert.deepEqual(s.principals, ['alice@example.com', 'bob@example.com']);
    assert.deepEqual(s.namespaces, ['git', 'file']);
    assert.equal(s.validAfter?.toISOString(), '2024-01-01T00:00:00.000Z');
    assert.equal(s.validBefore?.toISOString(), '2025-01-02T12:30:00.000Z');
    // ssh-keygen reads the same fields (without valid-before, which is past): it finds these principals for a signature by the key.
    const file = join(dir, 'allowed-line');
    writeFileSync(file, `${line.replace(',valid-before="202501021230Z"', '')}\n`);
    const sigFile = join(dir, 'find.sig');
    writeFileSync(sigFile, sign('ed25519', message));
    const r = spawnSync(sshKeygen, ['-Y', 'find-principals', '-f', file, '-s', sigFile], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.stdout.trim(), s.principals.join('\n'));
  });

  test('a bare public key line is a signer with no principals and no options', () => {
    const s = parseAllowedSigner(pub());
    assert.deepEqual([s.principals, s.namespaces, s.validAfter, s.validBefore], [[], null, null, null]);
  });

  test('cert-authority is SSH_UNSUPPORTED; local times, unknown options, a type that is not the key, and two lines are SSH_MALFORMED', () => {
    assert.equal(codeOf(() => parseAllowedSigner(`a@example.com cert-authority ${pub()}`)), 'SSH_UNSUPPORTED');
    assert.equal(codeOf(() => parseAllowedSigner(`a@example.com valid-after="20240101" ${pub()}`)), 'SSH_MALFORMED');
    assert.equal(codeOf(() => parseAllowedSigner(`a@example.com valid-after="20241301Z" ${pub()}`)), 'SSH_MALFORMED');
    assert.equal(codeOf(() => parseAllowedSigner(`a@example.com no-such-option ${pub()}`)), 'SSH_MALFORMED');
    assert.equal(codeOf(() => parseAllowedSigner(`a@example.com ${pub().replace('ssh-ed25519', 'ssh-rsa')}`)), 'SSH_MALFORMED');
    assert.equal(codeOf(() => parseAllowedSigner(`${pub()}\n${pub()}`)), 'SSH_MALFORMED');
    assert.equal(codeOf(() => parseAllowedSigner('a@example.com')), 'SSH_MALFORMED');
    assert.equal(codeOf(() => parseAllowedSigner(`a@example.com "namespaces="git ${pub()}`)), 'SSH_MALFORMED');
  });

  test('namespace patterns: * and ? match, a ! pattern refuses', () => {
    assert.equal(matchesPatternList('git', ['g*']), true);
    assert.equal(matchesPatternList('git', ['file', 'g?t']), true);
    assert.equal(matchesPatternList('git', ['*', '!git']), false);
    assert.equal(matchesPatternList('git', ['file']), false);
  });
});

/** An SSH mpint of an unsigned big-endian number. */
function mpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return wireString(v[0] & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/**
 * A security-key (sk-ecdsa-sha2-nistp256@openssh.com) signature as an authenticator makes it
 * (PROTOCOL.u2f), with a software P-256 key: no hardware is needed to check that we and ssh-keygen
 * read flags, counter and application the same way.
 */
function skSignature(data: Buffer, flags: number, counter: number): { armored: Buffer; line: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x as string, 'base64url'), Buffer.from(jwk.y as string, 'base64url')]);
  const type = 'sk-ecdsa-sha2-nistp256@openssh.com';
  const pub = Buffer.concat([wireString(type), wireString('nistp256'), wireString(q), wireString('ssh:')]);
  const sha = (alg: string, b: Buffer): Buffer => createHash(alg).update(b).digest();
  const signed = Buffer.concat([Buffer.from('SSHSIG'), wireString('git'), wireString(''), wireString('sha512'), wireString(sha('sha512', data))]);
  const counterBytes = Buffer.alloc(4);
  counterBytes.writeUInt32BE(counter, 0);
  const rs = cryptoSign('sha256', Buffer.concat([sha('sha256', Buffer.from('ssh:')), Buffer.from([flags]), counterBytes, sha('sha256', signed)]), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const inner = Buffer.concat([wireString(type), wireString(Buffer.concat([mpint(rs.subarray(0, 32)), mpint(rs.subarray(32))])), Buffer.from([flags]), counterBytes]);
  const blob = Buffer.concat([Buffer.from('SSHSIG'), Buffer.from([0, 0, 0, 1]), wireString(pub), wireString('git'), wireString(''), wireString('sha512'), wireString(inner)]);
  return { armored: armor(blob), line: `${type} ${pub.toString('base64')}` };
}

describe('security keys (sk-*): flags, counter and application as ssh-keygen reads them', () => {
  /** ssh-keygen -Y verify with this allowed_signers line. */
  function opensshAccepts(line: string, sig: Buffer, data: Buffer): boolean {
    const allowed = join(dir, 'allowed-sk');
    writeFileSync(allowed, `signer@example.com ${line}\n`);
    const sigFile = join(dir, 'sk.sig');
    writeFileSync(sigFile, sig);
    return spawnSync(sshKeygen, ['-Y', 'verify', '-f', allowed, '-I', 'signer@example.com', '-n', 'git', '-s', sigFile], { input: data, timeout: 30_000 }).status === 0;
  }
  for (const flags of [0x01, 0x00, 0x05]) {
    test(`flags ${flags}: both accept the signature (ssh-keygen, so git, requires no flag) and read the same key`, () => {
      const { armored, line } = skSignature(message, flags, 7);
      assert.equal(opensshAccepts(line, armored, message), true);
      const verified = verifySshSignature(armored, message);
      assert.deepEqual([verified.key.fingerprint, verified.sk], [parseAllowedSigner(line).key.fingerprint, { flags, counter: 7 }]);
    });
  }

  test('a tampered object and a changed counter fail for both', () => {
    const { armored, line } = skSignature(message, 1, 7);
    assert.equal(opensshAccepts(line, armored, message), true);
    const tampered = Buffer.concat([message, Buffer.from('x')]);
    assert.equal(opensshAccepts(line, armored, tampered), false);
    assert.equal(codeOf(() => verifySshSignature(armored, tampered)), 'SSH_BAD_SIGNATURE');
    const blob = Buffer.from(armored.toString().split('\n').slice(1, -2).join(''), 'base64');
    blob[blob.length - 1] ^= 1; // the counter's last byte
    assert.equal(opensshAccepts(line, armor(blob), message), false);
    assert.equal(codeOf(() => verifySshSignature(armor(blob), message)), 'SSH_BAD_SIGNATURE');
  });
});
