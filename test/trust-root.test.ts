import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GitsignError } from '../src/errors';
import { seededPublicGoodRoot } from '../src/trust/publicGood';
import { materialFromJson } from '../src/trust/trustMaterial';

/**
 * A trusted root is validated, not just read: each log, CT log, CA and TSA needs its key or chain and
 * a validity period with a start; an end may be absent or null (open) but not before the start.
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
