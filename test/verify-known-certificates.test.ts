/**
 * A certificate read once is kept (src/x509/knownCertificates.ts) with its issuer's verdict, so a
 * certificate that signs many objects is parsed and chain-checked once per process. The cache must
 * never answer for other bytes: a certificate that differs from a verified one only in its signature
 * (same subject, issuer and serial: what a name-keyed cache would confuse) must still fail, and an
 * object changed after signing must fail even when its certificate was verified a moment before.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseSignedData } from '../src/cms/signedData';
import { loadConfig } from '../src/config/config';
import type { RawObject } from '../src/git/catFile';
import { verifyGitObject } from '../src/verify/gitObject';
import { type VerifySettings, verifySettings } from '../src/verify/settings';
import { Certificate } from '../src/x509/certificate';
import { certificateOf } from '../src/x509/knownCertificates';
import { TempRepo } from './helpers/gitRepo';
import { flipByte, parseJsonLines, readCorpus, signatureDer, uniqueOffset, withSignature } from './helpers/corpus';
import { sharedMissing } from './helpers/paths';

/** An online-mode commit (no embedded log entry): with the log not consulted, the chain is what checks the certificate. */
const ONLINE_COMMIT = 'sigstore__fulcio/31e0d52a304ff1af782b4560f2b31e0ff9acce49.commit';

interface Variants {
  good: Buffer;
  /** The certificate's own signature changed (its last byte): same names and serial, other bytes. */
  forgedCert: Buffer;
  /** The commit message changed after signing, with the good signature and certificate. */
  tampered: Buffer;
}

function variants(): Variants {
  const good = readCorpus(ONLINE_COMMIT);
  const { der } = signatureDer('commit', good);
  const [cert] = parseSignedData(der).certificates;
  const certAt = uniqueOffset(der, cert, 'certificate');
  const forgedCert = withSignature('commit', good, flipByte(der, certAt + cert.length - 1));
  const msgAt = good.lastIndexOf('\n\n') + 2;
  const tampered = flipByte(good, msgAt, 0x20);
  return { good, forgedCert, tampered };
}

function outcomeCode(o: Awaited<ReturnType<typeof verifyGitObject>>): string {
  return 'ok' in o ? 'VERIFIED' : o.error.code;
}

describe('certificates read once per process cannot be confused', { skip: sharedMissing() }, () => {
  let v: Variants;
  let settings: VerifySettings;
  before(async () => {
    v = variants();
    settings = await verifySettings(loadConfig(), { offline: true, ignoreTlog: true, ignoreSct: false });
  });

  test('a kept certificate is returned only for the same bytes; one differing byte is a new certificate', () => {
    const der = parseSignedData(signatureDer('commit', v.good).der).certificates[0];
    const first = certificateOf(der);
    assert.equal(certificateOf(Buffer.from(der)), first, 'equal bytes (another buffer) find the kept certificate');
    const other = Buffer.from(der);
    other[other.length - 1] ^= 0x01;
    const forged = certificateOf(other);
    assert.notEqual(forged, first);
    assert.ok(forged.der.equals(other) && first.der.equals(der));
    assert.ok(forged.subject.equals(first.subject) && forged.serial.equals(first.serial), 'same names and serial: only the bytes tell them apart');
  });

  test('a kept certificate does not change when the buffer it was read from does', () => {
    const der = Buffer.from(parseSignedData(signatureDer('commit', v.good).der).certificates[0]);
    const kept = certificateOf(der);
    const copy = Buffer.from(der);
    der[der.length - 1] ^= 0x01;
    assert.ok(kept.der.equals(copy), 'the cache holds its own copy of the bytes');
    assert.ok(new Certificate(copy).der.equals(certificateOf(copy).der));
  });

  test('in one process: good, forged certificate, tampered payload, good again: each gets its own verdict', async () => {
    const identity = { kind: 'none' as const };
    const sequence: [string, Buffer, string][] = [
      ['good', v.good, 'VERIFIED'],
      ['forged certificate signature', v.forgedCert, 'CERTIFICATE'],
      ['tampered payload', v.tampered, 'CONTENT_MISMATCH'],
      ['good again', v.good, 'VERIFIED'],
      ['forged certificate again', v.forgedCert, 'CERTIFICATE'],
    ];
    const got: string[] = [];
    for (const [name, raw] of sequence) {
      const obj: RawObject = { sha: name, type: 'commit', raw };
      got.push(`${name}: ${outcomeCode(await verifyGitObject(obj, settings, identity))}`);
    }
    assert.deepEqual(got, sequence.map(([name, , want]) => `${name}: ${want}`));
  });

  test('all at once, the signature checks on libuv\'s thread pool: copies of one certificate in flight together each get their own verdict', async () => {
    const concurrent = { ...settings, concurrent: true };
    const identity = { kind: 'none' as const };
    // Forgeries no earlier test has read (another byte of the certificate's signature changed), twice each.
    const { der } = signatureDer('commit', v.good);
    const [cert] = parseSignedData(der).certificates;
    const certAt = uniqueOffset(der, cert, 'certificate');
    const forged = (back: number): Buffer => withSignature('commit', v.good, flipByte(der, certAt + cert.length - back));
    const sequence: [string, Buffer, string][] = [
      ['good', v.good, 'VERIFIED'],
      ['forged A', forged(2), 'CERTIFICATE'],
      ['forged A again', forged(2), 'CERTIFICATE'],
      ['tampered payload', v.tampered, 'CONTENT_MISMATCH'],
      ['forged B', forged(3), 'CERTIFICATE'],
      ['good again', v.good, 'VERIFIED'],
      ['forged B again', forged(3), 'CERTIFICATE'],
    ];
    const got = await Promise.all(sequence.map(async ([name, raw]) => `${name}: ${outcomeCode(await verifyGitObject({ sha: name, type: 'commit', raw }, concurrent, identity))}`));
    assert.deepEqual(got, sequence.map(([name, , want]) => `${name}: ${want}`));
  });

  describe('gitsign verify --stdin (many objects verified at once)', () => {
    let repo: TempRepo;
    before(() => (repo = new TempRepo()));
    after(() => repo?.remove());

    test('good objects first, then the forged certificate and the tampered payload, in flight together: only the good ones verify', () => {
      const good = repo.importBytes(v.good, 'commit');
      const forged = repo.importBytes(v.forgedCert, 'commit');
      const tampered = repo.importBytes(v.tampered, 'commit');
      // Twice each, side by side: the bad ones are read while the good ones' checks are still running.
      const names = [good, good, forged, forged, tampered, tampered, good, good];
      const r = repo.gitsign(['verify', '--stdin', '--json', '--offline', '--insecure-ignore-tlog', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'], names.join('\n'));
      const lines = parseJsonLines(r.stdout);
      assert.deepEqual(lines.map((l) => l.object), names);
      assert.deepEqual(
        lines.map((l) => (l.verified ? 'VERIFIED' : l.error?.code)),
        ['VERIFIED', 'VERIFIED', 'CERTIFICATE', 'CERTIFICATE', 'CONTENT_MISMATCH', 'CONTENT_MISMATCH', 'VERIFIED', 'VERIFIED'],
      );
      assert.equal(r.status, 1);
    });
  });
});
