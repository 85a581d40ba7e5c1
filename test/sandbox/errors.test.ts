import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import { ASN1Obj } from '@sigstore/core';
import { algorithm, bool, int, octets, seq } from '../../src/asn1/writer';
import { signJwt } from '../../src/sandbox/oidc/jwt';
import { identityClaims } from '../../src/sandbox/oidc/token';
import { certify, entryFor, postJson, removeDir, startInProcess, upload, type Identity, type InProcess } from './support';

// Bad requests get the status codes and error bodies of the real services.
let s: InProcess;
let id: Identity;
before(async () => {
  s = await startInProcess();
  id = await certify(s.sb.url, s.token('dave@example.com'), 'dave@example.com');
});
after(async () => {
  await s.sb.close();
  removeDir(s.dir);
});

const TOKEN_ERROR = { code: 3, message: 'There was an error processing the identity token', details: [] };
const SIGNATURE_ERROR = { code: 3, message: 'The signature supplied in the request could not be verified', details: [] };

async function fulcioV1(token: string | undefined, subject: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await postJson(
    `${s.sb.url}/api/v1/signingCert`,
    body ?? {
      publicKey: { content: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), algorithm: 'ecdsa' },
      signedEmailAddress: sign('sha256', Buffer.from(subject), privateKey).toString('base64'),
    },
    token === undefined ? {} : { Authorization: `Bearer ${token}` },
  );
  const text = await res.text();
  return { status: res.status, json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}

test('Fulcio: expired, foreign, unknown-issuer, wrong-audience, unverified and missing tokens are 400 with Fulcio\'s body', async () => {
  const now = Math.floor(Date.now() / 1000);
  const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cases: [string, string | undefined][] = [
    ['expired', s.token('eve@example.com', { exp: now - 5, iat: now - 700 })],
    ['foreign key', signJwt(identityClaims({ issuer: s.sb.issuer, subject: 'eve@example.com' }), foreign.privateKey, s.material.oidc.kid)],
    ['unknown issuer', s.token('eve@example.com', { iss: 'https://accounts.example.com' })],
    ['wrong audience', s.token('eve@example.com', { aud: 'not-sigstore' })],
    ['unverified email', s.token('eve@example.com', { email_verified: false })],
    ['garbage', 'not.a.jwt'],
    ['missing', undefined],
  ];
  for (const [what, token] of cases) {
    const r = await fulcioV1(token, 'eve@example.com');
    assert.equal(r.status, 400, what);
    assert.deepEqual(r.json, TOKEN_ERROR, what);
  }
  // The same token with a good proof works: the rejections above are about the tokens.
  assert.equal((await fulcioV1(s.token('eve@example.com'), 'eve@example.com')).status, 201);
});

test('Fulcio: bad proof of possession, unparsable or weak keys, malformed and oversized bodies', async () => {
  const token = s.token('eve@example.com');
  let r = await fulcioV1(token, 'mallory@example.com'); // proof over another identity
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, SIGNATURE_ERROR);

  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  r = await fulcioV1(token, '', { publicKey: { content: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), algorithm: 'ecdsa' }, signedEmailAddress: '' });
  assert.deepEqual(r.json, SIGNATURE_ERROR);

  r = await fulcioV1(token, '', { publicKey: { content: Buffer.from('not a key').toString('base64'), algorithm: 'ecdsa' }, signedEmailAddress: 'AAAA' });
  assert.equal(r.status, 400);
  assert.deepEqual(r.json, { code: 3, message: 'The public key supplied in the request could not be parsed', details: [] });

  const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
  r = await fulcioV1(token, '', {
    publicKey: { content: weak.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), algorithm: 'rsa' },
    signedEmailAddress: sign('sha256', Buffer.from('eve@example.com'), weak.privateKey).toString('base64'),
  });
  assert.deepEqual(r.json, { code: 3, message: 'The public key supplied in the request is insecure', details: [] });

  const bad = await fetch(`${s.sb.url}/api/v1/signingCert`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: '{not json' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { code: number }).code, 3);

  const big = await fetch(`${s.sb.url}/api/v2/signingCert`, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) }) });
  assert.equal(big.status, 400);
  assert.deepEqual(await big.json(), { code: 3, message: 'http: request body too large', details: [] });
});

test('Rekor: malformed, non-verifying and unsupported entries are 400; duplicates 409 with Location', async () => {
  const url = s.sb.url;
  const res = await fetch(`${url}/api/v1/log/entries`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"kind":' });
  assert.equal(res.status, 400);
  const err = (await res.json()) as { code: number; message: string };
  assert.equal(err.code, 400);
  assert.match(err.message, /^parsing proposedEntry body from "" failed, because /);

  const msg = Buffer.from('signed message');
  const good = entryFor(id, msg).entry;
  const forged = structuredClone(good);
  forged.spec.data.hash.value = createHash('sha256').update('another message').digest('hex');
  const bad = await postJson(`${url}/api/v1/log/entries`, forged);
  assert.equal(bad.status, 400);
  const badBody = (await bad.json()) as { code: number; message: string };
  assert.equal(badBody.code, 400);
  assert.match(badBody.message, /^error processing entry: verifying signature: /);

  const variants: [string, (e: typeof good) => unknown, RegExp][] = [
    ['no signature', (e) => ({ ...e, spec: { data: e.spec.data } }), /missing signature/],
    ['short hash', (e) => ({ ...e, spec: { ...e.spec, data: { hash: { algorithm: 'sha256', value: 'abcd' } } } }), /invalid value for hash/],
    ['bad key', (e) => ({ ...e, spec: { ...e.spec, signature: { ...e.spec.signature, publicKey: { content: Buffer.from('junk').toString('base64') } } } }), /invalid public key/],
    ['unknown kind', (e) => ({ ...e, kind: 'rekord' }), /unsupported kind/],
    ['wrong version', (e) => ({ ...e, apiVersion: '9.9.9' }), /not found/],
  ];
  for (const [what, mutate, re] of variants) {
    const r = await postJson(`${url}/api/v1/log/entries`, mutate(structuredClone(good)));
    assert.equal(r.status, 400, what);
    const b = (await r.json()) as { code: number; message: string };
    assert.equal(b.code, 400, what);
    assert.match(b.message, /^error processing entry: /, what);
    assert.match(b.message, re, what);
  }

  const first = await upload(url, good);
  assert.equal(first.status, 201);
  const again = await postJson(`${url}/api/v1/log/entries`, good);
  assert.equal(again.status, 409);
  assert.equal(again.headers.get('location'), `/api/v1/log/entries/${first.id}`);
  assert.deepEqual(await again.json(), { code: 409, message: `an equivalent entry already exists in the transparency log with UUID ${first.id}` });
});

test('Rekor: unknown UUID 404 (empty), malformed UUID 422, oversized 413, bad proof and search queries', async () => {
  const url = s.sb.url;
  const unknown = await fetch(`${url}/api/v1/log/entries/${'ab'.repeat(32)}`);
  assert.equal(unknown.status, 404);
  assert.equal(await unknown.text(), '');
  const unknownIndex = await fetch(`${url}/api/v1/log/entries?logIndex=99999`);
  assert.equal(unknownIndex.status, 404);

  const malformed = await fetch(`${url}/api/v1/log/entries/not-a-uuid`);
  assert.equal(malformed.status, 422);
  assert.deepEqual(await malformed.json(), { code: 605, message: "entryUUID in path should match '^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$'" });

  const big = await fetch(`${url}/api/v1/log/entries`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: 'x'.repeat(5 * 1024 * 1024) });
  assert.equal(big.status, 413);
  assert.deepEqual(await big.json(), { code: 413, message: 'Request Entity Too Large. Limit set to 4194304' });

  const proof = async (q: string): Promise<[number, { code: number; message: string }]> => {
    const r = await fetch(`${url}/api/v1/log/proof?${q}`);
    return [r.status, (await r.json()) as { code: number; message: string }];
  };
  assert.deepEqual(await proof('firstSize=3&lastSize=2'), [400, { code: 400, message: 'firstSize(3) must be less than lastSize(2)' }]);
  assert.deepEqual(await proof('firstSize=1&lastSize=500'), [400, { code: 400, message: 'the tree size requested(500) was greater than what is currently observable(1)' }]);
  assert.deepEqual(await proof('firstSize=1'), [422, { code: 602, message: 'lastSize in query is required' }]);

  const retrieve = await postJson(`${url}/api/v1/log/entries/retrieve`, { logIndexes: Array.from({ length: 11 }, (_, i) => i) });
  assert.equal(retrieve.status, 422);
  assert.deepEqual(await retrieve.json(), { code: 422, message: 'more than max allowed 10 entries in request' });

  const pgp = await postJson(`${url}/api/v1/index/retrieve`, { publicKey: { format: 'pgp', content: 'AAAA' } });
  assert.equal(pgp.status, 400);
  assert.deepEqual(await pgp.json(), { code: 400, message: 'the PKI format requested is not supported by this server' });
  const badKey = await postJson(`${url}/api/v1/index/retrieve`, { publicKey: { format: 'x509', content: 'AAAA' } });
  assert.deepEqual([badKey.status, await badKey.json()], [400, { code: 400, message: 'public key provided could not be parsed' }]);
  const badHash = await postJson(`${url}/api/v1/index/retrieve`, { hash: 'xyz' });
  assert.equal(badHash.status, 422);
  assert.equal(((await badHash.json()) as { code: number }).code, 605);
});

test('TSA: wrong content type 415, garbage 400, unsupported hash answered with an RFC 3161 rejection', async () => {
  const url = `${s.sb.url}/api/v1/timestamp`;
  assert.equal((await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status, 415);
  const garbage = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: randomBytes(20) });
  assert.equal(garbage.status, 400);
  const md5 = seq(int(1), seq(algorithm('1.2.840.113549.2.5', true), octets(randomBytes(16))), bool(true));
  const rej = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: md5 });
  assert.equal(rej.status, 200);
  const resp = ASN1Obj.parseBuffer(Buffer.from(await rej.arrayBuffer()));
  assert.equal(resp.subs.length, 1); // no token
  assert.equal(resp.subs[0].subs[0].toInteger(), 2n); // rejection
  assert.deepEqual(resp.subs[0].subs[2].toBitString().slice(0, 1), [1]); // badAlg
});

test('OIDC: PKCE is enforced, codes are single-use, redirects must be loopback', async () => {
  const issuer = s.sb.issuer;
  const verifier = randomBytes(32).toString('base64url');
  const authorize = (params: Record<string, string>) => fetch(`${issuer}/auth?${new URLSearchParams(params)}`, { redirect: 'manual' });
  const base = {
    client_id: 'sigstore',
    response_type: 'code',
    redirect_uri: 'http://127.0.0.1:9/cb',
    state: 'st',
    nonce: 'n',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  };
  const noPkce = await authorize({ ...base, code_challenge: '', code_challenge_method: '' });
  assert.equal(noPkce.status, 302);
  assert.equal(new URL(noPkce.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  assert.equal((await authorize({ ...base, redirect_uri: 'https://evil.example.com/cb' })).status, 400);

  const code = new URL((await authorize(base)).headers.get('location')!).searchParams.get('code')!;
  const exchange = (extra: Record<string, string>) =>
    fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: base.redirect_uri, client_id: 'sigstore', ...extra }),
    });
  const wrong = await exchange({ code_verifier: 'x'.repeat(43) });
  assert.equal(wrong.status, 400);
  assert.equal(((await wrong.json()) as { error: string }).error, 'invalid_grant');
  // The failed exchange burnt the code.
  assert.equal(((await (await exchange({ code_verifier: verifier })).json()) as { error: string }).error, 'invalid_grant');

  const code2 = new URL((await authorize(base)).headers.get('location')!).searchParams.get('code')!;
  const missing = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: code2, redirect_uri: base.redirect_uri, client_id: 'sigstore' }),
  });
  assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request');
});
