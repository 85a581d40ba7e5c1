import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSignedData } from '../src/cms/signedData';
import { splitObject, type ObjectType } from '../src/git/rawobj';
import { TempRepo } from './helpers/gitRepo';
import { flipByte, parseJsonLines, readCorpus, readTsv, signatureDer, uniqueOffset, withSignature } from './helpers/corpus';
import { CORPUS, sharedMissing } from './helpers/paths';

/**
 * OpenSSL as an independent CMS implementation: on real corpus objects, and on the same objects with
 * the payload, the signature value or a signed attribute changed, `openssl cms -verify -noverify` (no
 * chain, just the CMS signature) must accept exactly when we find the CMS signature sound.
 */
const V0_17_1_TAG = 'sigstore__gitsign/f6a73d9c2b84ee0b46598600c14007f41fa7a6ac.tag';
const LEGACY_ATTRS_COMMIT = 'sigstore__gitsign/c47e8bf5c86212dc9b6db0e3ec4df27a978b3d6e.commit';
const PERMISSIVE = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];
/** Codes that mean "the CMS signature itself does not hold": the only ones OpenSSL (-noverify) can see. */
const CMS_FAILURES = new Set(['CONTENT_MISMATCH', 'SIGNATURE_INVALID']);

function opensslMissing(): string | false {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? false : 'openssl is not installed';
}

/**
 * 20 objects of SELECTED.tsv (one per feature combination), evenly spread, always including the v0.17.1
 * tag and the early-2023 signature with the abandoned experimental unsigned attributes.
 */
function sample(): Array<{ file: string; type: ObjectType }> {
  const rows = readTsv(join(CORPUS, 'SELECTED.tsv')).filter((r) => r.file.startsWith('sigstore__'));
  const files = new Set([V0_17_1_TAG, LEGACY_ATTRS_COMMIT]);
  for (let i = 0; files.size < 20; i++) files.add(rows[Math.floor((i * rows.length) / 18) % rows.length].file);
  return [...files].map((file) => ({ file, type: file.endsWith('.tag') ? 'tag' : 'commit' }));
}

interface Variant {
  label: string;
  file: string;
  type: ObjectType;
  raw: Buffer;
}

function variants(file: string, type: ObjectType): Variant[] {
  const raw = readCorpus(file);
  const { der, payload } = signatureDer(type, raw);
  const si = parseSignedData(der).signers[0];
  // The first character of the tree / object ID: part of the payload, whatever the message holds.
  const payloadFlipped = flipByte(raw, type === 'commit' ? 'tree '.length : 'object '.length);
  const sigFlipped = withSignature(type, raw, flipByte(der, uniqueOffset(der, si.signature, 'signature') + si.signature.length - 1));
  // A signed attribute other than the digest: a digit of signingTime (still a valid UTCTime).
  const attrs = si.signedAttrsDer.subarray(1);
  const attrsAt = uniqueOffset(der, attrs, 'signed attributes') - 1;
  const utcTime = attrs.indexOf(Buffer.from([0x17, 0x0d]));
  assert.notEqual(utcTime, -1, 'signingTime is a UTCTime');
  const attrFlipped = withSignature(type, raw, flipByte(der, attrsAt + utcTime + 2 + 11));
  assert.ok(payload.length > 0);
  return [
    { label: 'original', file, type, raw },
    { label: 'payload', file, type, raw: payloadFlipped },
    { label: 'signature', file, type, raw: sigFlipped },
    { label: 'signed attribute', file, type, raw: attrFlipped },
  ];
}

describe('openssl cms -verify agrees with gitsign verify on the CMS signature', { skip: sharedMissing() || opensslMissing() }, () => {
  let repo: TempRepo;
  let dir: string;

  before(() => {
    repo = new TempRepo();
    dir = mkdtempSync(join(tmpdir(), 'gitsign-openssl-'));
  });

  after(() => {
    repo?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function openssl(v: Variant, n: number): { ok: boolean; stderr: string } {
    const { payload, signature } = splitObject(v.type, v.raw);
    assert.ok(signature);
    const sigPath = join(dir, `${n}.pem`);
    const payloadPath = join(dir, `${n}.payload`);
    writeFileSync(sigPath, signature.toString('latin1').replace(/-----(BEGIN|END) SIGNED MESSAGE-----/g, '-----$1 CMS-----'), 'latin1');
    writeFileSync(payloadPath, payload);
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'PEM', '-in', sigPath, '-content', payloadPath, '-noverify', '-purpose', 'any', '-out', '/dev/null'], {
      encoding: 'utf8',
    });
    return { ok: r.status === 0, stderr: r.stderr };
  }

  test('20 SELECTED objects (incl. the v0.17.1 tag), each original and with payload, signature or a signed attribute changed', () => {
    const objects = sample();
    assert.equal(objects.length, 20);
    assert.ok(objects.some((o) => o.type === 'tag'));
    const all = objects.flatMap((o) => variants(o.file, o.type));
    const shas = all.map((v) => repo.importBytes(v.raw, v.type));
    const r = repo.gitsign(['verify', '--stdin', '--json', ...PERMISSIVE], shas.join('\n'));
    const lines = parseJsonLines(r.stdout);
    assert.deepEqual(lines.map((l) => l.object), shas);

    const disagreements: string[] = [];
    const tally = { agreedGood: 0, agreedBad: 0 };
    all.forEach((v, i) => {
      const ours = lines[i];
      const ossl = openssl(v, i);
      const code = ours.verified ? 'VERIFIED' : ours.error!.code;
      const cmsSound = !CMS_FAILURES.has(code);
      if (ossl.ok !== cmsSound) disagreements.push(`${v.file} (${v.label}): openssl ${ossl.ok ? 'accepts' : 'rejects'}, gitsign says ${code}`);
      if (ossl.ok && cmsSound) tally.agreedGood++;
      if (!ossl.ok && !cmsSound) tally.agreedBad++;
      // Each variant fails for its own reason, on both sides.
      const want = { original: 'VERIFIED', payload: 'CONTENT_MISMATCH', signature: 'SIGNATURE_INVALID', 'signed attribute': 'SIGNATURE_INVALID' }[v.label];
      if (code !== want) disagreements.push(`${v.file} (${v.label}): expected ${want}, gitsign says ${code} ${ours.error?.message ?? ''}`);
      if (v.label === 'payload' && !/content verify error/.test(ossl.stderr)) disagreements.push(`${v.file}: openssl did not report a content (digest) failure: ${ossl.stderr}`);
    });
    assert.deepEqual(disagreements, []);
    assert.deepEqual(tally, { agreedGood: 20, agreedBad: 60 });
  });
});
