import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { splitObject, type ObjectType } from '../src/git/rawobj';
import { type OpenPgpKeyring, type OpenPgpResult, readOpenPgpKeys, verifyOpenPgp } from '../src/openpgp/index';
import { TempRepo } from './helpers/gitRepo';
import { GpgHome, statusVerdicts } from './helpers/gpg';
import { peerMissing } from './helpers/peers';

/**
 * The real gpg as the other OpenPGP implementation: keys it made, objects git signed with it
 * (gpg.format openpgp), and the same objects changed. We and gpg (directly, or through git
 * verify-commit / verify-tag) must agree on every case, except where our rule is stated to differ.
 */

/** Our outcome in one word: verified, unknown-key, or the code. */
function outcome(r: OpenPgpResult): string {
  return r.state === 'bad' ? r.code : r.state;
}

function flipLastSignatureByte(armored: Buffer): Buffer {
  const lines = armored.toString('latin1').split('\n');
  const begin = lines.indexOf('');
  const end = lines.findIndex((l) => l.startsWith('=') || l.startsWith('-----END'));
  const body = Buffer.from(lines.slice(begin + 1, end).join(''), 'base64');
  body[body.length - 1] ^= 0x01;
  const b64 = body.toString('base64').match(/.{1,64}/g)!;
  // The CRC line is optional (RFC 9580 6.1): dropped, so only the signature itself is wrong.
  return Buffer.from(['-----BEGIN PGP SIGNATURE-----', '', ...b64, '-----END PGP SIGNATURE-----', ''].join('\n'), 'latin1');
}

describe('OpenPGP: cross-checked with gpg', { skip: peerMissing('gpg') }, () => {
  let gpg: GpgHome;
  let repo: TempRepo;
  let ed: string;
  let rsa: string;
  let rsaSubkey: string;
  let old: string;
  let past: string;
  let revoked: string;
  let keyring: OpenPgpKeyring;

  before(async () => {
    gpg = new GpgHome();
    ed = gpg.generate('Ed Signer <ed@example.com>', 'ed25519', 'sign', 'never');
    rsa = gpg.generate('Rsa Signer <rsa@example.com>', 'rsa2048', 'cert', 'never');
    rsaSubkey = gpg.addSubkey(rsa, 'rsa2048', 'sign', 'never');
    // Made in 2020, valid one year: expired now.
    old = gpg.generate('Old Signer <old@example.com>', 'ed25519', 'sign', '1y', '20200101T000000');
    past = gpg.generate('Past Signer <past@example.com>', 'ed25519', 'sign', 'never', '20200101T000000');
    revoked = gpg.generate('Revoked Signer <revoked@example.com>', 'ed25519', 'sign', 'never');
    repo = new TempRepo({ GNUPGHOME: gpg.home });
    keyring = await readOpenPgpKeys([ed, rsa, old, past].map((k) => gpg.exportKey(k)));
  });

  after(() => {
    repo?.remove();
    gpg?.close();
  });

  /** git commit -S (or tag -s) with `key`, through gpg with `extra` options; the object's id and bytes. */
  function signedObject(type: ObjectType, key: string, extra: string[] = []): { id: string; raw: Buffer } {
    const program = extra.length ? gpg.wrapper(extra) : 'gpg';
    const config = ['-c', 'gpg.format=openpgp', '-c', `gpg.program=${program}`, '-c', `user.signingkey=${key}`];
    if (type === 'commit') repo.git(...config, 'commit', '-q', '--allow-empty', '-S', '-m', `signed by ${key}\n\nbody line\n`);
    else repo.git(...config, 'tag', '-f', '-s', '-m', `tag by ${key}`, 'v1');
    const id = repo.git('rev-parse', type === 'commit' ? 'HEAD' : 'refs/tags/v1').trim();
    return { id, raw: execFileSync('git', ['cat-file', type, id], { cwd: repo.dir, env: repo.env }) };
  }

  function gitVerdicts(type: ObjectType, id: string): { status: number | null; verdicts: string[] } {
    const r = repo.gitResult([type === 'commit' ? 'verify-commit' : 'verify-tag', '--raw', id]);
    return { status: r.status, verdicts: statusVerdicts(`${r.stdout}${r.stderr}`) };
  }

  async function ours(raw: Buffer, type: ObjectType, ring = keyring): Promise<OpenPgpResult> {
    const { payload, signature } = splitObject(type, raw);
    assert.ok(signature, 'the object has a signature');
    return verifyOpenPgp(signature, payload, ring);
  }

  test('an Ed25519-signed commit: git and we verify it; a changed payload and a flipped signature bit are refused by both', async () => {
    const { id, raw } = signedObject('commit', ed);
    const good = await ours(raw, 'commit');
    assert.equal(good.state, 'verified', JSON.stringify(good));
    assert.ok(good.state === 'verified');
    assert.equal(good.fingerprint, ed.toLowerCase());
    assert.equal(good.signingKey, ed.toLowerCase());
    assert.deepEqual(good.userIds, ['Ed Signer <ed@example.com>']);
    assert.deepEqual(gitVerdicts('commit', id), { status: 0, verdicts: ['GOODSIG'] });

    const tampered = Buffer.from(raw.toString('latin1').replace('body line', 'body linE'), 'latin1');
    const tamperedId = repo.importBytes(tampered, 'commit');
    assert.equal(outcome(await ours(tampered, 'commit')), 'OPENPGP_BAD_SIGNATURE');
    assert.deepEqual(gitVerdicts('commit', tamperedId).verdicts, ['BADSIG']);

    const { payload, signature } = splitObject('commit', raw);
    const flipped = flipLastSignatureByte(signature!);
    assert.equal(outcome(await verifyOpenPgp(flipped, payload, keyring)), 'OPENPGP_BAD_SIGNATURE');
    assert.deepEqual(gpg.verdict(flipped, payload), ['BADSIG']);
  });

  test('a tag signed by an RSA signing subkey: git and we verify it; we name the primary key and the subkey; gpg verifies our split', async () => {
    const { id, raw } = signedObject('tag', rsa);
    const r = await ours(raw, 'tag');
    assert.equal(r.state, 'verified', JSON.stringify(r));
    assert.ok(r.state === 'verified');
    assert.equal(r.fingerprint, rsa.toLowerCase());
    assert.equal(r.signingKey, rsaSubkey.toLowerCase());
    assert.deepEqual(gitVerdicts('tag', id), { status: 0, verdicts: ['GOODSIG'] });
    // Our payload/signature split of both kinds of object is exactly what gpg verifies.
    const { payload, signature } = splitObject('tag', raw);
    assert.deepEqual(gpg.verdict(signature!, payload), ['GOODSIG']);
    const commit = splitObject('commit', signedObject('commit', rsa).raw);
    assert.deepEqual(gpg.verdict(commit.signature!, commit.payload), ['GOODSIG']);
  });

  test('a signer not in the keyring: we say unknown-key with its key ID, git (gpg without the key) refuses', async () => {
    const { raw } = signedObject('commit', ed);
    const onlyRsa = await readOpenPgpKeys([gpg.exportKey(rsa)]);
    const r = await ours(raw, 'commit', onlyRsa);
    assert.equal(r.state, 'unknown-key');
    assert.ok(r.state === 'unknown-key');
    assert.equal(r.keyId, ed.toLowerCase().slice(-16));
    const stranger = new GpgHome();
    try {
      const { payload, signature } = splitObject('commit', raw);
      assert.deepEqual(stranger.verdict(signature!, payload), ['ERRSIG']);
    } finally {
      stranger.close();
    }
  });

  test('a key that expired after it signed: gpg says good signature by an expired key (EXPKEYSIG), we verify it at its claimed time', async () => {
    const { id, raw } = signedObject('commit', old, ['--faked-system-time', '20200601T000000!']);
    const r = await ours(raw, 'commit');
    assert.equal(outcome(r), 'verified', JSON.stringify(r));
    assert.equal(r.state === 'verified' && r.claimedTime.toISOString(), '2020-06-01T00:00:00.000Z');
    // git refuses what gpg calls EXPKEYSIG (verify-commit's status is not 0): judged at today's date.
    const git = gitVerdicts('commit', id);
    assert.deepEqual(git.verdicts, ['EXPKEYSIG']);
    assert.notEqual(git.status, 0);
  });

  test('a signature claiming a time before its key existed: gpg and we refuse it', async () => {
    const { raw } = signedObject('commit', past, ['--faked-system-time', '20190601T000000!', '--ignore-time-conflict']);
    assert.equal(outcome(await ours(raw, 'commit')), 'OPENPGP_KEY_UNUSABLE');
    const { payload, signature } = splitObject('commit', raw);
    assert.notDeepEqual(gpg.verdict(signature!, payload), ['GOODSIG']);
  });

  test('a revoked key (gpg\'s revocation certificate, no reason: a hard revocation): gpg says REVKEYSIG, we refuse signatures made before the revocation too', async () => {
    const { id, raw } = signedObject('commit', revoked);
    assert.equal(outcome(await ours(raw, 'commit', await readOpenPgpKeys([gpg.exportKey(revoked)]))), 'verified');
    gpg.revoke(revoked);
    const ring = await readOpenPgpKeys([gpg.exportKey(revoked)]);
    assert.equal(outcome(await ours(raw, 'commit', ring)), 'OPENPGP_KEY_REVOKED');
    const git = gitVerdicts('commit', id);
    assert.deepEqual(git.verdicts, ['REVKEYSIG']);
    assert.notEqual(git.status, 0);
  });

  test('a revoked signing subkey: with no reason (hard), gpg says REVKEYSIG and we refuse; superseded (soft), we still verify what it signed before, gpg does not', async () => {
    for (const reason of [0, 2] as const) {
      const primary = gpg.generate(`Sub${reason} <sub${reason}@example.com>`, 'ed25519', 'cert', 'never', '20200101T000000');
      gpg.addSubkey(primary, 'ed25519', 'sign', 'never', '20200101T000000');
      const { id, raw } = signedObject('commit', primary, ['--faked-system-time', '20210101T000000!']);
      gpg.revokeSubkey(primary, reason);
      const ring = await readOpenPgpKeys([gpg.exportKey(primary)]);
      assert.equal(outcome(await ours(raw, 'commit', ring)), reason === 0 ? 'OPENPGP_KEY_REVOKED' : 'verified', `reason ${reason}`);
      assert.deepEqual(gitVerdicts('commit', id).verdicts, ['REVKEYSIG'], `reason ${reason}`);
    }
  });

  test('a text-mode signature (gpg --textmode, type 0x01): git and we verify it; changed, both refuse; with CRLF line endings, gpg accepts the other object, we refuse it', async () => {
    const { id, raw } = signedObject('commit', ed, ['--textmode']);
    assert.equal(outcome(await ours(raw, 'commit')), 'verified');
    assert.deepEqual(gitVerdicts('commit', id), { status: 0, verdicts: ['GOODSIG'] });
    const { payload, signature } = splitObject('commit', raw);
    const changed = Buffer.from(payload.toString('latin1').replace('body line', 'body line!'), 'latin1');
    assert.equal(outcome(await verifyOpenPgp(signature!, changed, keyring)), 'OPENPGP_BAD_SIGNATURE');
    assert.deepEqual(gpg.verdict(signature!, changed), ['BADSIG']);
    // The same lines ending CRLF are another object, which gpg accepts under the signature; we do not.
    const crlf = Buffer.from(payload.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    assert.deepEqual(gpg.verdict(signature!, crlf), ['GOODSIG']);
    assert.equal(outcome(await verifyOpenPgp(signature!, crlf, keyring)), 'OPENPGP_SIGNATURE_TYPE');
  });

  test('a commit with two signatures in its block: gpg reports two results, git verify-commit refuses it, so do we', async () => {
    const { id, raw } = signedObject('commit', ed, ['-u', `${rsaSubkey}!`]);
    const git = gitVerdicts('commit', id);
    assert.deepEqual(git.verdicts, ['GOODSIG', 'GOODSIG']);
    assert.notEqual(git.status, 0);
    assert.equal(outcome(await ours(raw, 'commit')), 'OPENPGP_MULTIPLE_SIGNATURES');
  });

  test('DSA and RSA-1024 signing keys: gpg accepts their signatures, we refuse them (OPENPGP_WEAK_KEY), by decision', async () => {
    const data = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');
    for (const algorithm of ['dsa2048', 'rsa1024']) {
      const weak = gpg.generate(`Weak ${algorithm} <${algorithm}@example.com>`, algorithm, 'sign', 'never');
      const sig = gpg.sign(data, [weak]);
      assert.deepEqual(gpg.verdict(sig, data), ['GOODSIG'], algorithm);
      const r = await verifyOpenPgp(sig, data, await readOpenPgpKeys([gpg.exportKey(weak)]));
      assert.equal(outcome(r), 'OPENPGP_WEAK_KEY', `${algorithm}: ${JSON.stringify(r)}`);
    }
  });

  test('a SHA-1 signature: gpg still accepts it, we refuse it (OPENPGP_WEAK_HASH), by decision', async () => {
    const data = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');
    const sha1 = gpg.sign(data, [ed], ['--digest-algo', 'SHA1']);
    assert.deepEqual(gpg.verdict(sha1, data), ['GOODSIG']);
    assert.equal(outcome(await verifyOpenPgp(sha1, data, keyring)), 'OPENPGP_WEAK_HASH');
  });

  test('a signature claiming to be made tomorrow: gpg accepts it, we refuse it (OPENPGP_FUTURE_SIGNATURE), by decision', async () => {
    const data = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, '');
    const future = gpg.sign(data, [ed], ['--faked-system-time', `${tomorrow}!`]);
    assert.deepEqual(gpg.verdict(future, data), ['GOODSIG']);
    assert.equal(outcome(await verifyOpenPgp(future, data, keyring)), 'OPENPGP_FUTURE_SIGNATURE');
  });

  test('a signature that expired (gpg --default-sig-expire): gpg says EXPSIG, we refuse it', async () => {
    const data = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmsg\n');
    const expiring = gpg.sign(data, [past], ['--faked-system-time', '20200601T000000!', '--default-sig-expire', '1d']);
    assert.deepEqual(gpg.verdict(expiring, data), ['EXPSIG']);
    assert.equal(outcome(await verifyOpenPgp(expiring, data, keyring)), 'OPENPGP_SIGNATURE_EXPIRED');
  });
});
