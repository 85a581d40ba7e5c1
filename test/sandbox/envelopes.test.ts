/**
 * The sandbox's Rekor logs DSSE envelopes as Rekor does: intoto 0.0.1 keeps the envelope's and the
 * payload's hashes and the key, never the envelope; dsse 0.0.1 keeps both hashes and each signature
 * with its verifier. Bodies, refusals and search keys (also after a restart) are checked here against
 * shapes written out by hand, not against the sandbox's own builders.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { certify, postJson, removeDir, startInProcess, upload, type Identity, type InProcess } from './support';

let s: InProcess;
let id: Identity;
before(async () => {
  s = await startInProcess();
  id = await certify(s.sb.url, s.token('erin@example.com'), 'erin@example.com');
});
after(async () => {
  await s.sb.close();
  removeDir(s.dir);
});

const IN_TOTO = 'application/vnd.in-toto+json';
const hex = (d: Buffer | string): string => createHash('sha256').update(d).digest('hex');
const b64 = (d: Buffer | string): string => Buffer.from(d).toString('base64');

/** DSSE v1 pre-authentication encoding, written out from the spec. */
function pae(type: string, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);
}

function statement(commit: string, materials: Record<string, string>[] = []): Buffer {
  return Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ digest: { gitCommit: commit } }], predicateType: 'https://example.com/p', predicate: { materials: materials.map((digest) => ({ digest })) } }));
}

function envelope(payload: Buffer, keys = [id.key], type = IN_TOTO): { raw: string; sigs: string[] } {
  const sigs = keys.map((k) => sign('sha256', pae(type, payload), k).toString('base64'));
  return { raw: JSON.stringify({ payloadType: type, payload: b64(payload), signatures: sigs.map((sig) => ({ keyid: '', sig })) }), sigs };
}

const intoto = (env: string, pem = id.leafPem): unknown => ({ apiVersion: '0.0.1', kind: 'intoto', spec: { content: { envelope: env }, publicKey: b64(pem) } });
const dsse = (env: string, pems = [id.leafPem]): unknown => ({ apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: env, verifiers: pems.map(b64) } } });

async function search(query: unknown): Promise<string[]> {
  return (await (await postJson(`${s.sb.url}/api/v1/index/retrieve`, query)).json()) as string[];
}

async function rejected(entry: unknown): Promise<string> {
  const r = await postJson(`${s.sb.url}/api/v1/log/entries`, entry);
  assert.equal(r.status, 400);
  return ((await r.json()) as { message: string }).message;
}

test('intoto 0.0.1: the body keeps the envelope and payload hashes and the certificate, not the envelope', async () => {
  const payload = statement('1'.repeat(40));
  const env = envelope(payload);
  const r = await upload(s.sb.url, intoto(env.raw));
  assert.equal(r.status, 201);
  const body = Buffer.from(r.value.body, 'base64').toString('utf8');
  assert.equal(
    body,
    `{"apiVersion":"0.0.1","kind":"intoto","spec":{"content":{"hash":{"algorithm":"sha256","value":"${hex(env.raw)}"},"payloadHash":{"algorithm":"sha256","value":"${hex(payload)}"}},"publicKey":"${b64(id.leafPem)}"}}`,
  );
  const again = await postJson(`${s.sb.url}/api/v1/log/entries`, intoto(env.raw));
  assert.equal(again.status, 409);
  // Client-sent hashes are ignored and recomputed, as Rekor does.
  const withHashes = { apiVersion: '0.0.1', kind: 'intoto', spec: { content: { envelope: envelope(payload).raw, hash: { algorithm: 'sha256', value: '0'.repeat(64) } }, publicKey: b64(id.leafPem) } };
  const r2 = await upload(s.sb.url, withHashes);
  assert.equal(r2.status, 201);
  assert.doesNotMatch(Buffer.from(r2.value.body, 'base64').toString(), /0{64}/);
});

test('dsse 0.0.1: both hashes, and every signature with its verifier, sorted by signature', async () => {
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherPem = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const payload = statement('2'.repeat(40));
  const env = envelope(payload, [id.key, other.privateKey]);
  const r = await upload(s.sb.url, dsse(env.raw, [otherPem, id.leafPem]));
  assert.equal(r.status, 201);
  const logged = [
    { signature: env.sigs[0], verifier: b64(id.leafPem) },
    { signature: env.sigs[1], verifier: b64(otherPem) },
  ].sort((a, b) => (a.signature < b.signature ? -1 : 1));
  const body = Buffer.from(r.value.body, 'base64').toString('utf8');
  assert.equal(
    body,
    `{"apiVersion":"0.0.1","kind":"dsse","spec":{"envelopeHash":{"algorithm":"sha256","value":"${hex(env.raw)}"},"payloadHash":{"algorithm":"sha256","value":"${hex(payload)}"},"signatures":${JSON.stringify(logged)}}}`,
  );
});

test('refusals: bad or missing signatures, unusable keys, malformed envelopes, mixed dsse forms', async () => {
  const payload = statement('3'.repeat(40));
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const strangerPem = stranger.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const forged = envelope(payload, [stranger.privateKey]).raw;
  assert.match(await rejected(intoto(forged)), /^error processing entry: Accepted signatures do not match threshold/);
  assert.match(await rejected(intoto(JSON.stringify({ payloadType: IN_TOTO, payload: b64(payload), signatures: [] }))), /1 or more signatures/);
  assert.match(await rejected(intoto('{"payloadType":')), /invalid DSSE envelope/);
  assert.match(await rejected(intoto(envelope(payload).raw.replace(/"payload":"/, '"payload":"!'))), /base64/);
  assert.match(await rejected({ apiVersion: '0.0.1', kind: 'intoto', spec: { content: {}, publicKey: b64(id.leafPem) } }), /missing envelope content/);
  assert.match(await rejected(intoto(envelope(payload).raw, 'not a key')), /invalid public key/);
  assert.match(await rejected({ apiVersion: '0.0.2', kind: 'intoto', spec: {} }), /intoto implementation for version '0.0.2' not found/);
  // dsse: every signature must be verified; each verifier tried must verify one (Rekor stops trying
  // once all signatures are verified, so a trailing stranger is never looked at).
  assert.match(await rejected(dsse(envelope(payload).raw, [strangerPem, id.leafPem])), /could not verify envelope/);
  assert.equal((await upload(s.sb.url, dsse(envelope(payload).raw, [id.leafPem, strangerPem]))).status, 201);
  assert.match(await rejected(dsse(envelope(payload, [id.key, stranger.privateKey]).raw, [id.leafPem])), /all signatures must have a key that verifies it/);
  assert.match(await rejected(dsse(envelope(payload).raw, [])), /verifiers/);
  const both = { apiVersion: '0.0.1', kind: 'dsse', spec: { proposedContent: { envelope: envelope(payload).raw, verifiers: [b64(id.leafPem)] }, payloadHash: { algorithm: 'sha256', value: hex(payload) } } };
  assert.match(await rejected(both), /but not both/);
});

test('search: envelope and payload hashes, subject and material digests, key and email; kept across a restart', async () => {
  const commit = 'ab'.repeat(20);
  const payload = statement(commit, [{ sha256: 'cd'.repeat(32) }]);
  const envA = envelope(payload);
  const envB = envelope(payload);
  const a = await upload(s.sb.url, intoto(envA.raw));
  const b = await upload(s.sb.url, dsse(envB.raw));
  const keyHash = hex(id.leafPem);
  const queries: [unknown, string[]][] = [
    [{ hash: `sha256:${hex(envA.raw)}` }, [a.id]],
    [{ hash: `sha256:${hex(envB.raw)}` }, [b.id]],
    [{ hash: `sha256:${hex(payload)}` }, [a.id, b.id]],
    [{ hash: `sha256:${'cd'.repeat(32)}` }, [a.id, b.id]],
    [{ subject: `gitcommit:${commit}` }, [a.id, b.id]],
  ];
  // The key and the certificate's email find these and the earlier entries of the same certificate.
  const byKey = { subject: `sha256:${keyHash}`, email: 'erin@example.com', operator: 'and' };
  const check = async (when: string): Promise<void> => {
    for (const [q, want] of queries) assert.deepEqual(await search(q), want, `${when}: ${JSON.stringify(q)}`);
    const keyed = await search(byKey);
    assert.ok(keyed.length >= 4 && keyed.includes(a.id) && keyed.includes(b.id), `${when}: key and email`);
  };
  await check('live');
  // The subject digests are not in the bodies: the log stores them with the entries for a restart.
  await s.sb.close();
  s = await startInProcess(s.dir);
  await check('after a restart');
});
