import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { dsse } from '@sigstore/core';
import { GitsignError } from '../src/errors';
import { verifyCheckpoint } from '../src/rekor/checkpoint';
import { hashedRekordV2Body, keyDetails } from '../src/rekor/v2/hashedrekord';
import { Certificate } from '../src/x509/certificate';
import { CONFORMANCE } from './helpers/paths';

/**
 * The Rekor v2 pieces commit verification will reuse: tile-style checkpoints (bare-host origin,
 * Ed25519 log key, witness cosignatures in any position) and the hashedrekord 0.0.2 body a log makes
 * of a signature, rebuilt byte for byte.
 */
const NAME = 'log2099.rekor.example.test';

function ed25519Log(): { key: KeyObject; log: { baseURL: string; logID: Buffer; publicKey: KeyObject; validFor: { start: Date; end: Date } } } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ type: 'spki', format: 'der' }).subarray(12);
  // C2SP key ID for Ed25519: SHA-256(name || "\n" || 0x01 || key); Rekor v2 uses it as the log ID.
  const logID = createHash('sha256').update(Buffer.concat([Buffer.from(`${NAME}\n`), Buffer.from([1]), raw])).digest();
  return { key: privateKey, log: { baseURL: `https://${NAME}`, logID, publicKey, validFor: { start: new Date(0), end: new Date(8.64e15) } } };
}

const text = (origin = NAME): string => `${origin}\n42\n${randomBytes(32).toString('base64')}\n`;
const line = (name: string, hint: Buffer, sig: Buffer): string => `\u2014 ${name} ${Buffer.concat([hint.subarray(0, 4), sig]).toString('base64')}\n`;
/** A timestamped witness cosignature: key hash, 8-byte time, Ed25519 signature. */
const witness = (): string => line('witness.example/w1', randomBytes(4), Buffer.concat([Buffer.alloc(8), randomBytes(64)]));

function rejects(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof GitsignError && err.code === 'TLOG' && message.test(err.message));
}

describe('tile-style checkpoints', () => {
  const { key, log } = ed25519Log();
  const signed = (body: string): string => line(NAME, log.logID, sign(null, Buffer.from(body), key));

  test('the log signature verifies wherever it sits among witness cosignatures', () => {
    const body = text();
    for (const sigs of [signed(body), signed(body) + witness(), witness() + signed(body) + witness()]) {
      const cp = verifyCheckpoint(`${body}\n${sigs}`, log);
      assert.equal(cp.origin, NAME);
      assert.equal(cp.size, 42n);
    }
  });

  test('only witnesses, a forged log signature, another origin: rejected', () => {
    const body = text();
    rejects(() => verifyCheckpoint(`${body}\n${witness()}`, log), /not signed by the transparency log log2099\.rekor\.example\.test/);
    rejects(() => verifyCheckpoint(`${body}\n${line(NAME, log.logID, randomBytes(64))}`, log), /checkpoint signature of log2099\.rekor\.example\.test does not verify/);
    const other = text('other.example.test');
    rejects(() => verifyCheckpoint(`${other}\n${signed(other)}`, log), /origin "other\.example\.test" is not the log/);
    rejects(() => verifyCheckpoint(`${body}\n`, log), /malformed checkpoint/);
  });

  test('a Rekor v1 checkpoint: "<host> - <tree ID>" origin, extension line, ECDSA key hinted by its log ID', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const logID = createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest();
    const v1 = { ...log, logID, publicKey };
    const body = `${NAME} - 1193050959916656506\n7\n${randomBytes(32).toString('base64')}\nTimestamp: 1689177396617352539\n`;
    assert.equal(verifyCheckpoint(`${body}\n${line(NAME, logID, sign('sha256', Buffer.from(body), privateKey))}`, v1).size, 7n);
  });
});

describe('hashedrekord 0.0.2 bodies', { skip: existsSync(CONFORMANCE) ? false : `${CONFORMANCE} is absent` }, () => {
  test('rebuilt byte for byte from every Rekor v2 conformance bundle (messages and DSSE envelopes)', (t) => {
    let count = 0;
    for (const name of readdirSync(CONFORMANCE)) {
      const path = join(CONFORMANCE, name, 'bundle.sigstore.json');
      if (!existsSync(path) || name.includes('malformed')) continue;
      const b = JSON.parse(readFileSync(path, 'utf8'));
      const entry = b.verificationMaterial?.tlogEntries?.[0];
      if (entry?.kindVersion?.version !== '0.0.2' || entry.kindVersion.kind !== 'hashedrekord' || !b.verificationMaterial.certificate) continue;
      const body = Buffer.from(entry.canonicalizedBody, 'base64');
      const cert = new Certificate(Buffer.from(b.verificationMaterial.certificate.rawBytes, 'base64'));
      // Only bundles whose entry logs this very signature can be rebuilt (the _fail cases swap parts).
      const logged = JSON.parse(body.toString('utf8')).spec.hashedRekordV002.signature.content as string;
      let digest: Buffer;
      let signature: Buffer;
      if (b.dsseEnvelope) {
        const env = b.dsseEnvelope;
        digest = createHash('sha256').update(dsse.preAuthEncoding(env.payloadType, Buffer.from(env.payload, 'base64'))).digest();
        signature = Buffer.from(env.signatures[0].sig, 'base64');
      } else {
        digest = Buffer.from(b.messageSignature.messageDigest.digest, 'base64');
        signature = Buffer.from(b.messageSignature.signature, 'base64');
      }
      if (signature.toString('base64') !== logged) continue;
      assert.deepEqual(hashedRekordV2Body(digest, signature, { certificate: cert.der }, keyDetails(cert.publicKey)).toString('utf8'), body.toString('utf8'), name);
      count++;
    }
    t.diagnostic(`${count} bodies rebuilt`);
    assert.ok(count >= 15, `only ${count} Rekor v2 bodies found`);
  });
});
