import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as openpgp from 'openpgp';
import { GitsignError } from '../src/errors';
import { type OpenPgpResult, openPgpSignatureIssuer, readOpenPgpKeys, verifyOpenPgp } from '../src/openpgp/index';
import { ROOT } from './helpers/paths';

/**
 * The rules of OpenPGP verification that gpg cannot be made to show (signatures crafted with
 * openpgp.js's own packet API: a time after expiry, revocations by reason, signature types), and
 * hostile blocks and certificates: each gets its stable code and one sentence, never a throw.
 */

const DATA = Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@example.com> 1577836800 +0000\n\nmsg\n');
const T2020 = new Date('2020-01-01T00:00:00Z');
const DAY = 86_400_000;
const at = (days: number): Date => new Date(T2020.getTime() + days * DAY);

async function key(name: string, options: Pick<openpgp.KeyOptions, 'keyExpirationTime' | 'subkeys' | 'type' | 'rsaBits'> = {}): Promise<openpgp.PrivateKey> {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name, email: `${name}@example.com` }], date: T2020, ...options, format: 'object' });
  return privateKey;
}

interface Craft {
  created: Date;
  type?: openpgp.enums.signature;
  hash?: openpgp.enums.hash;
  signer?: openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket;
  critical?: boolean;
}

/** A detached signature made with openpgp.js's packet API: no validity check of the key at `created`. */
async function craft(privateKey: openpgp.PrivateKey, data: Buffer, c: Craft): Promise<Buffer> {
  const signer = c.signer ?? (privateKey.keyPacket as openpgp.SecretKeyPacket);
  const packet = new openpgp.SignaturePacket();
  packet.signatureType = c.type ?? openpgp.enums.signature.binary;
  packet.publicKeyAlgorithm = signer.algorithm;
  packet.hashAlgorithm = c.hash ?? openpgp.enums.hash.sha256;
  packet.issuerKeyID = signer.getKeyID();
  packet.issuerFingerprint = signer.getFingerprintBytes();
  packet.issuerKeyVersion = 4;
  if (c.critical) packet.rawNotations = [{ name: 'unknown@example.com', value: new Uint8Array([1]), humanReadable: false, critical: true } as openpgp.RawNotation];
  const literal = new openpgp.LiteralDataPacket();
  (literal as unknown as { setBytes(b: Uint8Array, f: openpgp.enums.literal): void }).setBytes(new Uint8Array(data), openpgp.enums.literal.binary);
  const signed = (c.type === openpgp.enums.signature.standalone ? {} : literal) as unknown as Uint8Array;
  // The JavaScript takes the configuration as a fifth argument; the declarations omit it.
  const sign = packet.sign.bind(packet) as (...args: unknown[]) => Promise<void>;
  // No salt notation: openpgp.js has no salt length for SHA-1.
  await sign(signer, signed, c.created, true, { ...openpgp.config, nonDeterministicSignaturesViaNotation: false });
  const list = new openpgp.PacketList<openpgp.SignaturePacket>();
  list.push(packet);
  return Buffer.from(new openpgp.Signature(list).armor());
}

function outcome(r: OpenPgpResult): string {
  return r.state === 'bad' ? r.code : r.state;
}

/** A bad result speaks our words: one line, no library or runtime message. */
function assertOurSentence(r: OpenPgpResult): void {
  if (r.state !== 'bad') return;
  assert.match(r.code, /^OPENPGP_[A-Z_]+$/);
  assert.doesNotMatch(r.message, /\n|TypeError|RangeError|undefined|Cannot read|Error:/, r.message);
}

describe('OpenPGP rules', () => {
  let signer: openpgp.PrivateKey;
  let expiring: openpgp.PrivateKey;
  let withSubkey: openpgp.PrivateKey;

  before(async () => {
    signer = await key('signer');
    expiring = await key('expiring', { keyExpirationTime: 30 * 86_400 });
    withSubkey = await key('subkeyed', { subkeys: [{ sign: true }] });
  });

  const ring = (...keys: openpgp.PrivateKey[]) => readOpenPgpKeys(keys.map((k) => k.toPublic().armor()));

  test('a certificate gives its fingerprint, the key IDs of the primary key and subkeys, and its certified user IDs', async () => {
    const { keys } = await ring(withSubkey);
    assert.equal(keys.length, 1);
    assert.equal(keys[0].fingerprint, withSubkey.getFingerprint());
    assert.match(keys[0].fingerprint, /^[0-9a-f]{40}$/);
    assert.deepEqual(keys[0].keyIds, withSubkey.getKeys().map((k) => k.getKeyID().toHex()));
    assert.equal(keys[0].keyIds.length, 2);
    assert.deepEqual(keys[0].userIds, ['subkeyed <subkeyed@example.com>']);
  });

  test('hostile certificates are refused with OPENPGP_KEY and one sentence', async () => {
    const cases: Record<string, string> = {
      garbage: 'hello',
      'a private key': signer.armor(),
      'a signature instead': (await craft(signer, DATA, { created: at(1) })).toString(),
      'broken base64': '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!!\n-----END PGP PUBLIC KEY BLOCK-----\n',
      'random packets': `-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${Buffer.alloc(300, 0xc6).toString('base64')}\n-----END PGP PUBLIC KEY BLOCK-----\n`,
      'two armor blocks': `${signer.toPublic().armor()}${signer.toPublic().armor()}`,
      'not ASCII': `${signer.toPublic().armor()}\u00e9`,
      'over 1 MiB': `${signer.toPublic().armor()}${' '.repeat(1024 * 1024)}`,
    };
    for (const [what, text] of Object.entries(cases)) {
      await assert.rejects(readOpenPgpKeys([text]), (err: unknown) => {
        assert.ok(err instanceof GitsignError, what);
        assert.equal(err.code, 'OPENPGP_KEY', what);
        assert.match(err.message, /^OpenPGP certificate 1: [^\n]+$/, what);
        return true;
      });
    }
  });

  test('a certificate with more self-signatures than a verify may check (512) is refused', async () => {
    const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'ed25519Legacy', userIDs: Array.from({ length: 513 }, (_, i) => ({ name: `u${i}` })), format: 'object' });
    await assert.rejects(readOpenPgpKeys([privateKey.toPublic().armor()]), (err: unknown) => err instanceof GitsignError && err.code === 'OPENPGP_KEY' && /more than 512 self-signatures/.test(err.message));
  });

  test('key expiry is judged at the signature\'s claimed time: made while valid, verified; claimed after expiry, OPENPGP_KEY_EXPIRED', async () => {
    const keyring = await ring(expiring);
    const during = await verifyOpenPgp(await craft(expiring, DATA, { created: at(10) }), DATA, keyring);
    assert.equal(outcome(during), 'verified');
    assert.equal(during.state === 'verified' && during.claimedTime.getTime(), at(10).getTime());
    const afterwards = await verifyOpenPgp(await craft(expiring, DATA, { created: at(40) }), DATA, keyring);
    assert.equal(outcome(afterwards), 'OPENPGP_KEY_EXPIRED');
    assertOurSentence(afterwards);
  });

  test('a superseded key\'s signatures count until its revocation; a compromised key\'s never do (RFC 9580 hard and soft revocations)', async () => {
    const { keySuperseded, keyCompromised } = openpgp.enums.reasonForRevocation;
    for (const [flag, beforeRevocation] of [[keySuperseded, 'verified'], [keyCompromised, 'OPENPGP_KEY_REVOKED']] as const) {
      const k = await key(`revoked${flag}`);
      const { publicKey } = await openpgp.revokeKey({ key: k, reasonForRevocation: { flag }, date: at(100), format: 'object' });
      const keyring = await readOpenPgpKeys([publicKey.armor()]);
      assert.equal(outcome(await verifyOpenPgp(await craft(k, DATA, { created: at(50) }), DATA, keyring)), beforeRevocation, `reason ${flag}, before`);
      assert.equal(outcome(await verifyOpenPgp(await craft(k, DATA, { created: at(150) }), DATA, keyring)), 'OPENPGP_KEY_REVOKED', `reason ${flag}, after`);
    }
  });

  test('a signing subkey signs for its primary key: the result names both', async () => {
    const keyring = await ring(withSubkey);
    const signingSubkey = withSubkey.subkeys[0];
    const good = await verifyOpenPgp(await craft(withSubkey, DATA, { created: at(1), signer: signingSubkey.keyPacket as openpgp.SecretSubkeyPacket }), DATA, keyring);
    assert.equal(outcome(good), 'verified');
    assert.ok(good.state === 'verified');
    assert.equal(good.fingerprint, withSubkey.getFingerprint());
    assert.equal(good.signingKey, signingSubkey.getFingerprint());
    assert.deepEqual(good.userIds, ['subkeyed <subkeyed@example.com>']);
  });

  test('only document signatures: standalone (0x02) is OPENPGP_SIGNATURE_TYPE, SHA-1 is OPENPGP_WEAK_HASH, an unknown critical notation is OPENPGP_MALFORMED', async () => {
    const keyring = await ring(signer);
    const { signature, hash } = openpgp.enums;
    assert.equal(outcome(await verifyOpenPgp(await craft(signer, DATA, { created: at(1), type: signature.standalone }), DATA, keyring)), 'OPENPGP_SIGNATURE_TYPE');
    // EdDSA cannot even use SHA-1 (RFC 9580 5.2.3.4): an RSA key can.
    const rsa = await key('rsa', { type: 'rsa', rsaBits: 2048 });
    assert.equal(outcome(await verifyOpenPgp(await craft(rsa, DATA, { created: at(1), hash: hash.sha1 }), DATA, await ring(rsa))), 'OPENPGP_WEAK_HASH');
    assert.equal(outcome(await verifyOpenPgp(await craft(signer, DATA, { created: at(1), critical: true }), DATA, keyring)), 'OPENPGP_MALFORMED');
    assert.equal(outcome(await verifyOpenPgp(await craft(signer, DATA, { created: at(1), hash: hash.sha512 }), DATA, keyring)), 'verified');
  });

  test('the claimed time is compared with the given now: ahead by more than the clock skew, OPENPGP_FUTURE_SIGNATURE', async () => {
    const keyring = await ring(signer);
    const sig = await craft(signer, DATA, { created: at(10) });
    assert.equal(outcome(await verifyOpenPgp(sig, DATA, keyring, { now: at(9) })), 'OPENPGP_FUTURE_SIGNATURE');
    assert.equal(outcome(await verifyOpenPgp(sig, DATA, keyring, { now: new Date(at(10).getTime() - 60_000) })), 'verified');
  });

  test('malformed signature blocks get OPENPGP_MALFORMED (or their own code) and one sentence, never a throw', async () => {
    const keyring = await ring(signer);
    const good = (await craft(signer, DATA, { created: at(1) })).toString('latin1');
    const body = good.split('\n').slice(2, -3).join('\n');
    const cases: Record<string, string | Buffer> = {
      empty: '',
      'not armor': 'hello\n',
      'SSH armor': '-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n',
      'no END': '-----BEGIN PGP SIGNATURE-----\n\nAAAA\n',
      'text after END': `${good}trailing\n`,
      'two blocks': `${good}${good}`,
      'broken base64': '-----BEGIN PGP SIGNATURE-----\n\n!!!!\n-----END PGP SIGNATURE-----\n',
      'truncated body': `-----BEGIN PGP SIGNATURE-----\n\n${body.slice(0, 40)}\n-----END PGP SIGNATURE-----\n`,
      'no packets': '-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n',
      'a key instead': signer.toPublic().armor().replace(/PUBLIC KEY BLOCK/g, 'SIGNATURE'),
      'NUL byte': Buffer.concat([Buffer.from(good), Buffer.from([0])]),
      'over 64 KiB': `-----BEGIN PGP SIGNATURE-----\n\n${'A'.repeat(70_000)}\n-----END PGP SIGNATURE-----\n`,
    };
    for (const [what, block] of Object.entries(cases)) {
      const r = await verifyOpenPgp(Buffer.from(block as string), DATA, keyring);
      assert.equal(r.state, 'bad', `${what}: ${JSON.stringify(r)}`);
      assertOurSentence(r);
      assert.ok(r.state === 'bad' && r.code === 'OPENPGP_MALFORMED', `${what}: ${JSON.stringify(r)}`);
      await assert.rejects(openPgpSignatureIssuer(Buffer.from(block as string)), (err: unknown) => err instanceof GitsignError && err.code === 'OPENPGP_MALFORMED', what);
    }
  });

  test('a wrong armor checksum alone does not refuse a signature (RFC 9580 6.1: the CRC is not checked; the signature is)', async () => {
    const good = (await craft(signer, DATA, { created: at(1) })).toString('latin1');
    const wrongCrc = good.replace(/\n=....\n/, '\n=AAAA\n');
    assert.notEqual(wrongCrc, good);
    assert.equal(outcome(await verifyOpenPgp(Buffer.from(wrongCrc), DATA, await ring(signer))), 'verified');
  });

  test('fuzz: 300 blocks with a byte of their packet changed never throw, keep to our codes, and never verify under another key', async () => {
    const other = await key('other');
    const keyring = await ring(signer, other);
    const good = await craft(signer, DATA, { created: at(1) });
    const lines = good.toString('latin1').split('\n');
    const packet = Buffer.from(lines.slice(2, lines.findIndex((l) => l.startsWith('='))).join(''), 'base64');
    let seed = 15;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const changed = Buffer.from(packet);
      changed[next() % changed.length] ^= 1 << next() % 8;
      const block = Buffer.from(`-----BEGIN PGP SIGNATURE-----\n\n${changed.toString('base64')}\n-----END PGP SIGNATURE-----\n`);
      const r = await verifyOpenPgp(block, DATA, keyring);
      assertOurSentence(r);
      if (r.state === 'verified') assert.equal(r.fingerprint, signer.getFingerprint(), `mutation ${i}`);
    }
  });

  test('keyrings may be filtered or copied; a key not made by readOpenPgpKeys is not trusted', async () => {
    const keyring = await ring(signer, expiring);
    const sig = await craft(signer, DATA, { created: at(1) });
    assert.equal(outcome(await verifyOpenPgp(sig, DATA, { keys: keyring.keys.filter((k) => k.fingerprint === signer.getFingerprint()) })), 'verified');
    assert.equal(outcome(await verifyOpenPgp(sig, DATA, { keys: keyring.keys.map((k) => ({ ...k })) })), 'unknown-key');
    const issuer = await openPgpSignatureIssuer(sig);
    assert.deepEqual(issuer, { fingerprint: signer.getFingerprint(), keyId: signer.getKeyID().toHex() });
  });

  test('git\'s hot path never loads openpgp.js: the library is only in its own bundle file', () => {
    const dist = join(ROOT, 'dist');
    // A string of the library's own code (its URL in its version header), not of a require() naming it.
    const library = 'openpgpjs.org';
    assert.ok(readFileSync(join(dist, 'openpgp.js'), 'latin1').includes(library), 'npm run build makes dist/openpgp.js');
    for (const hot of ['gitsign.js', 'verifyWorker.js', 'commands.js']) {
      assert.ok(!readFileSync(join(dist, hot), 'latin1').includes(library), hot);
    }
  });
});
