import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, test } from 'node:test';
import { GitsignError } from '../src/errors';
import { parseCertificate } from '../src/x509/parse';
import { spkiOf } from '../src/sandbox/x509/build';
import { TestPki } from './helpers/testPki';

/**
 * A leaf's EC key is imported as a JWK when its SPKI is an uncompressed point on P-256, P-384 or
 * P-521 (parse.ts), and through OpenSSL's DER decoder otherwise. Whatever the DER decoder refused,
 * the certificate still is refused, with the same code and sentence.
 */
const CURVES = [
  { name: 'P-256', size: 32 },
  { name: 'P-384', size: 48 },
  { name: 'P-521', size: 66 },
] as const;

const pki = new TestPki();
const ca = pki.intermediate('keys');
const certWith = (spki: Buffer): Buffer => pki.leaf(ca, { spki });

/** parseCertificate's verdict: the key, or the error code and sentence. */
function verdict(spki: Buffer): { key: ReturnType<typeof parseCertificate>['publicKey'] } | { code: string; message: string } {
  try {
    return { key: parseCertificate(certWith(spki)).publicKey };
  } catch (err) {
    assert.ok(err instanceof GitsignError, `a GitsignError, not ${String(err)}`);
    return { code: err.code, message: err.message };
  }
}

/** Whether OpenSSL's DER decoder (the path before the JWK import) accepts the SPKI. */
function derAccepts(spki: Buffer): boolean {
  try {
    createPublicKey({ key: spki, format: 'der', type: 'spki' });
    return true;
  } catch {
    return false;
  }
}

const INVALID = { code: 'MALFORMED_CERTIFICATE', message: 'malformed certificate: its public key is not a valid key (node:crypto refuses it)' };

describe('x509 keys: the JWK import of uncompressed EC keys accepts and refuses what the DER import did', () => {
  for (const curve of CURVES) {
    const pair = generateKeyPairSync('ec', { namedCurve: curve.name });
    const spki = spkiOf(pair.publicKey);
    const point = spki.length - 2 * curve.size;

    test(`${curve.name}: a valid key is the same key as the DER import gives, and verifies its signatures`, () => {
      const v = verdict(spki);
      assert.ok('key' in v, JSON.stringify(v));
      assert.deepEqual(v.key.export({ type: 'spki', format: 'der' }), spki);
      assert.equal(v.key.asymmetricKeyDetails?.namedCurve, createPublicKey({ key: spki, format: 'der', type: 'spki' }).asymmetricKeyDetails?.namedCurve);
      const sig = sign('sha256', Buffer.from('payload'), pair.privateKey);
      assert.ok(verify('sha256', Buffer.from('payload'), v.key, sig));
    });

    test(`${curve.name}: a point off the curve is MALFORMED_CERTIFICATE, as OpenSSL's DER decoder refuses it`, () => {
      const off = Buffer.from(spki);
      off[off.length - 1] ^= 0x01;
      assert.equal(derAccepts(off), false);
      assert.deepEqual(verdict(off), INVALID);
    });

    test(`${curve.name}: a coordinate at or above the field prime is MALFORMED_CERTIFICATE, as OpenSSL's DER decoder refuses it`, () => {
      const big = Buffer.from(spki);
      big.fill(0xff, point, point + curve.size);
      if (curve.size === 66) big[point] = 0x01; // P-521's top byte holds one bit
      assert.equal(derAccepts(big), false);
      assert.deepEqual(verdict(big), INVALID);
    });

    test(`${curve.name}: a compressed point is judged by the DER import, as before`, () => {
      const compressed = compressedSpki(spki, curve.size);
      assert.equal(derAccepts(compressed), true);
      const v = verdict(compressed);
      assert.ok('key' in v, JSON.stringify(v));
      assert.deepEqual(v.key.export({ format: 'jwk' }), pair.publicKey.export({ format: 'jwk' }));
    });

    test(`${curve.name}: a byte after the point is MALFORMED_CERTIFICATE (the certificate parser refuses the trailing data)`, () => {
      const v = verdict(Buffer.concat([spki, Buffer.from([0])]));
      assert.ok('code' in v && v.code === 'MALFORMED_CERTIFICATE', JSON.stringify(v));
    });
  }

  test('an EC key on a curve Go does not accept (secp256k1) is still refused by name', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    assert.deepEqual(verdict(spkiOf(k1.publicKey)), { code: 'MALFORMED_CERTIFICATE', message: 'malformed certificate: its public key is an unsupported EC key on curve secp256k1' });
  });

  test('RSA and Ed25519 keys still import through DER', () => {
    for (const pair of [generateKeyPairSync('rsa', { modulusLength: 2048 }), generateKeyPairSync('ed25519')]) {
      const v = verdict(spkiOf(pair.publicKey));
      assert.ok('key' in v, JSON.stringify(v));
      assert.equal(v.key.asymmetricKeyType, pair.publicKey.asymmetricKeyType);
    }
  });
});

/** The same key with its point compressed (02 or 03 by Y's parity, then X): every length shrinks. */
function compressedSpki(spki: Buffer, size: number): Buffer {
  const header = spki[1] & 0x80 ? 3 : 2;
  const alg = spki.subarray(header, header + 2 + spki[header + 1]);
  const x = spki.subarray(spki.length - 2 * size, spki.length - size);
  const body = Buffer.concat([alg, Buffer.from([0x03, 2 + size, 0x00, 0x02 + (spki[spki.length - 1] & 1)]), x]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}
