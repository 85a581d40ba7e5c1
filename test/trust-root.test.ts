import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parseBundle } from '../src/bundle/parse';
import { type BundlePolicy, verifyBundle } from '../src/bundle/verifyBundle';
import { GitsignError } from '../src/errors';
import { seededPublicGoodRoot } from '../src/trust/publicGood';
import { materialFromJson } from '../src/trust/trustMaterial';
import { CONFORMANCE } from './helpers/paths';

/**
 * A trusted root is validated, not just read: each log, CT log, CA and TSA needs its key or chain and
 * a validity period with a start; an end may be absent or null (open) but not before the start, and
 * it includes its last second.
 */
type Root = Record<string, unknown> & { tlogs: Record<string, unknown>[]; ctlogs: Record<string, unknown>[]; certificateAuthorities: Record<string, unknown>[]; timestampAuthorities: Record<string, unknown>[] };

function root(): Root {
  return structuredClone(seededPublicGoodRoot()) as Root;
}

function rejects(r: unknown, message: RegExp): void {
  assert.throws(
    () => materialFromJson(r as Root, 'test root'),
    (err: unknown) => err instanceof GitsignError && err.code === 'TRUST_ROOT' && message.test(err.message),
  );
}

const key = (log: Record<string, unknown>): Record<string, unknown> => log.publicKey as Record<string, unknown>;

test('the seeded public-good root is valid, with Rekor v1 and v2 logs', () => {
  const { material } = materialFromJson(root(), 'seed');
  assert.ok(material.tlogs.length >= 2);
  assert.ok(material.certificateAuthorities.length > 0 && material.ctlogs.length > 0 && material.timestampAuthorities.length > 0);
});

test('a log key without a validity start is an error, not "valid since forever"', () => {
  const r = root();
  delete (key(r.tlogs[1]).validFor as Record<string, unknown>).start;
  rejects(r, /invalid trusted root \(test root\): tlogs\[1\] \(https:\/\/log2025-1\.rekor\.sigstore\.dev\) public key has a validity period without its required start/);
  const none = root();
  delete key(none.tlogs[0]).validFor;
  rejects(none, /tlogs\[0\] \(https:\/\/rekor\.sigstore\.dev\) public key has no validity period/);
  const ct = root();
  key(ct.ctlogs[0]).validFor = { end: '2030-01-01T00:00:00Z' };
  rejects(ct, /ctlogs\[0\] .* without its required start/);
});

test('certificate and timestamp authorities need a validity start and a chain', () => {
  const ca = root();
  ca.certificateAuthorities[0].validFor = {};
  rejects(ca, /certificateAuthorities\[0\] \(https:\/\/fulcio\.sigstore\.dev\) has a validity period without its required start/);
  const tsa = root();
  tsa.timestampAuthorities[0].certChain = { certificates: [] };
  rejects(tsa, /timestampAuthorities\[0\] .* has no certificate chain/);
});

test('an end may be absent or null (open), but not unparsable or before the start', () => {
  const open = root();
  key(open.tlogs[0]).validFor = { start: '2021-01-12T11:53:27Z', end: null };
  assert.equal(materialFromJson(open, 'open').material.tlogs[0].validFor.end.getTime(), 8640000000000000);
  const backwards = root();
  key(backwards.tlogs[0]).validFor = { start: '2021-01-12T11:53:27Z', end: '2020-01-01T00:00:00Z' };
  rejects(backwards, /tlogs\[0\] .* ends before it starts/);
  const garbage = root();
  key(garbage.tlogs[0]).validFor = { start: 'yesterday' };
  rejects(garbage, /validity start is not an RFC 3339 time/);
});

test('keys, log IDs and the media type are checked', () => {
  const noKey = root();
  key(noKey.tlogs[0]).rawBytes = 'not base64!';
  rejects(noKey, /tlogs\[0\] .* public key is missing or not base64/);
  const noId = root();
  delete noId.tlogs[0].logId;
  rejects(noId, /tlogs\[0\] .* has no log ID/);
  const media = root();
  media.mediaType = 'application/json';
  rejects(media, /mediaType "application\/json" is not a Sigstore trusted root/);
  rejects([], /the document is not a JSON object/);
});

test('a CA or TSA certificate that is not whole DER makes the root invalid when it is loaded, not when a chain reaches it', () => {
  for (const kind of ['certificateAuthorities', 'timestampAuthorities'] as const) {
    const truncated = root();
    const certs = (truncated[kind][0].certChain as { certificates: { rawBytes: string }[] }).certificates;
    certs[0].rawBytes = Buffer.from(certs[0].rawBytes, 'base64').subarray(0, 200).toString('base64');
    rejects(truncated, /invalid trusted root \(test root\): malformed certificate: ASN\.1 length runs past the end/);
  }
});

test('RSA log keys are read as their key details name them: PKIX_* as SubjectPublicKeyInfo, PKCS1_* as PKCS#1', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  for (const [keyDetails, type] of [['PKIX_RSA_PKCS1V15_2048_SHA256', 'spki'], ['PKIX_RSA_PKCS1V5', 'spki'], ['PKCS1_RSA_PKCS1V5', 'pkcs1']] as const) {
    const r = root();
    key(r.tlogs[0]).rawBytes = publicKey.export({ type, format: 'der' }).toString('base64');
    key(r.tlogs[0]).keyDetails = keyDetails;
    const log = materialFromJson(r, keyDetails).material.tlogs[0];
    assert.equal(log.publicKey.asymmetricKeyType, 'rsa', keyDetails);
    assert.ok(log.publicKey.equals(publicKey), keyDetails);
  }
  // The other form is not accepted under a name: an SPKI given as PKCS#1 is an invalid root.
  const wrong = root();
  key(wrong.tlogs[0]).rawBytes = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  key(wrong.tlogs[0]).keyDetails = 'PKCS1_RSA_PKCS1V5';
  rejects(wrong, /invalid trusted root \(test root\)/);
});

describe('validity ends are inclusive, to the second', { skip: existsSync(CONFORMANCE) ? false : `${CONFORMANCE} is absent` }, () => {
  const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
  const policy: BundlePolicy = { identity: { kind: 'policy', policy: { identity: IDENTITY, issuer: 'https://token.actions.githubusercontent.com' } } };
  const artifact = readFileSync(join(CONFORMANCE, 'a.txt'));

  /** The case's bundle against its trusted root, with one validity end moved by `shift` seconds. */
  function verifyWithEnd(name: string, edit: (r: Root) => Record<string, unknown>, shift: number): void {
    const dir = join(CONFORMANCE, name);
    const r = JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8')) as Root;
    const validFor = edit(r);
    validFor.end = new Date(Date.parse(validFor.end as string) + shift * 1000).toISOString();
    verifyBundle(parseBundle(readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8')), artifact, policy, materialFromJson(r, name).material);
  }

  test('a log key whose validity ends at the integrated time vouches for it; a second earlier, it does not', () => {
    const tlog = (r: Root) => key(r.tlogs.find((t) => (t.baseUrl as string) === 'https://rekor.sigstore.dev') as Record<string, unknown>).validFor as Record<string, unknown>;
    verifyWithEnd('trust-root-tlog-validity-end-inclusive', tlog, 0);
    assert.throws(() => verifyWithEnd('trust-root-tlog-validity-end-inclusive', tlog, -1), /key of log https:\/\/rekor\.sigstore\.dev was not valid at 2023-07-12T15:56:36\.000Z/);
  });

  test('a timestamp authority whose validity ends at the timestamp vouches for it; a second earlier, it does not', () => {
    const tsa = (r: Root) => r.timestampAuthorities[0].validFor as Record<string, unknown>;
    verifyWithEnd('trust-root-tsa-validity-end-inclusive', tsa, 0);
    assert.throws(() => verifyWithEnd('trust-root-tsa-validity-end-inclusive', tsa, -1), /its time 2025-06-12T12:02:20\.000Z is outside its timestamp authority's validity/);
  });
});
