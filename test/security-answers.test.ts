/**
 * Finding 5, for what servers and bundles say: every field of a Rekor (v1, v2), Fulcio, TSA or OIDC
 * answer and of a bundle is checked for its JSON type or DER layout before use, so a wrong one is a
 * stated error code and one sentence naming it, never a JavaScript runtime message or a crash. Real
 * local HTTP servers give the answers; the TSA signature-algorithm case uses a conformance bundle.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseBundle } from '../src/bundle/parse';
import { DEFAULTS } from '../src/config/config';
import { GitsignError, toGitsignError } from '../src/errors';
import { requestCertificate } from '../src/fulcio/client';
import { discoverIssuer } from '../src/oidc/discovery';
import { verifyIdToken } from '../src/oidc/idToken';
import { obtainIdToken, parseIdToken } from '../src/oidc/token';
import { createEntry, getEntry, searchByHash, toLogEntry } from '../src/rekor/client';
import { entryUuid } from '../src/rekor/hashedrekord';
import { parseSignedNote } from '../src/rekor/signedNote';
import { createEntryV2 } from '../src/rekor/v2/client';
import { materialFromJson } from '../src/trust/trustMaterial';
import { timestampSignature } from '../src/tsa/client';
import { parseTimestampResponse, verifyTimestamp } from '../src/verify/time/tsa';
import { RUNTIME_MESSAGE } from './fuzz/outcome';
import { type Hostile, serveHostile } from './helpers/hostileServer';
import { CONFORMANCE, sharedMissing } from './helpers/paths';

/** The answer the local server gives next: status, content type, body. */
let next: { status: number; type: string; body: Buffer | string } = { status: 200, type: 'application/json', body: '{}' };
let server: Hostile;

before(async () => {
  server = await serveHostile((_req, res) => {
    res.writeHead(next.status, { 'Content-Type': next.type });
    res.end(next.body);
  });
});
after(() => server.close());

function answer(body: unknown, status = 200, type = 'application/json'): void {
  next = { status, type, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) };
}

/** A stated error: our code, one line, and none of JavaScript's own words. */
async function refused(call: () => unknown, code: string, words: RegExp, what: string): Promise<string> {
  let err: unknown;
  try {
    await call();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof GitsignError, `${what}: expected a GitsignError, got ${err === undefined ? 'success' : String(err)}`);
  assert.equal(err.code, code, `${what}: ${err.message}`);
  assert.match(err.message, words, what);
  assert.doesNotMatch(err.message, /[\r\n]/, `${what}: one line`);
  const runtime = RUNTIME_MESSAGE.find((re) => re.test(err.message));
  assert.equal(runtime, undefined, `${what}: ${err.message} matches ${runtime}`);
  return err.message;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe('finding 5: Rekor v1 answers', () => {
  const body = Buffer.from(JSON.stringify({ apiVersion: '0.0.1', kind: 'hashedrekord', spec: {} }));
  const uuid = entryUuid(body);
  const entry: Json = {
    body: body.toString('base64'),
    integratedTime: 1_700_000_000,
    logID: 'c0'.repeat(32),
    logIndex: 5,
    verification: {
      signedEntryTimestamp: 'AAAA',
      inclusionProof: { checkpoint: 'origin\n10\nroot\n\n', hashes: ['ab'.repeat(32), 'cd'.repeat(32)], logIndex: 5, rootHash: 'ef'.repeat(32), treeSize: 10 },
    },
  };
  const proof = (e: Json): Json => e.verification.inclusionProof;
  const cases: [string, (e: Json) => void, RegExp][] = [
    ['the inclusion proof emptied', (e) => (e.verification.inclusionProof = {}), /verification\.inclusionProof\.logIndex is not a non-negative integer \(missing\)/],
    ['a proof hash retyped to 0', (e) => (proof(e).hashes[1] = 0), /verification\.inclusionProof\.hashes\[1\] is not a hex SHA-256 hash \("0"\)/],
    ['the proof hashes retyped to true', (e) => (proof(e).hashes = true), /verification\.inclusionProof\.hashes is not a list/],
    ['the root hash removed', (e) => delete proof(e).rootHash, /verification\.inclusionProof\.rootHash is not a hex SHA-256 hash \(missing\)/],
    ['the tree size 50.5', (e) => (proof(e).treeSize = 50.5), /treeSize is not a non-negative integer/],
    ['the tree size 1e21', (e) => (proof(e).treeSize = 1e21), /treeSize is not a non-negative integer/],
    ['the tree size null', (e) => (proof(e).treeSize = null), /treeSize is not a non-negative integer/],
    ['the proof index "x"', (e) => (proof(e).logIndex = 'x'), /inclusionProof\.logIndex is not a non-negative integer/],
    ['the checkpoint retyped to true', (e) => (proof(e).checkpoint = true), /inclusionProof\.checkpoint is not text/],
    ['the integrated time true', (e) => (e.integratedTime = true), /integratedTime is not a non-negative integer/],
    ['the integrated time 1e300', (e) => (e.integratedTime = 1e300), /integratedTime is not a non-negative integer/],
    ['the log index negative', (e) => (e.logIndex = -1), /logIndex is not a non-negative integer/],
    ['the SET retyped to {}', (e) => (e.verification.signedEntryTimestamp = {}), /signedEntryTimestamp is not base64 text/],
    ['verification retyped to a list', (e) => (e.verification = []), /verification is not an object/],
    ['the body removed', (e) => delete e.body, /body is not base64 text \(missing\)/],
  ];

  test('finding 5: the unmutated entry converts (the cases below change one field each)', async () => {
    answer({ [uuid]: entry });
    const got = await getEntry(server.url, uuid);
    const logEntry = toLogEntry(got.uuid, got.entry);
    assert.equal(logEntry.inclusionProof?.treeSize, '10');
    assert.equal(logEntry.inclusionProof?.hashes.length, 2);
  });

  for (const [what, mutate, words] of cases) {
    test(`finding 5: a Rekor entry with ${what} is a TLOG error naming the field`, async () => {
      const e = clone(entry);
      mutate(e);
      answer({ [uuid]: e });
      const got = await getEntry(server.url, uuid);
      await refused(() => toLogEntry(got.uuid, got.entry), 'TLOG', words, what);
      // The same answer to an upload.
      answer({ [uuid]: e }, 201);
      const created = await createEntry(server.url, {});
      await refused(() => toLogEntry(created.uuid, created.entry), 'TLOG', /Rekor entry [0-9a-f]{64} is malformed/, `${what} (upload)`);
    });
  }

  test('finding 5: a Rekor entry that is null is a TLOG error', async () => {
    answer({ [uuid]: null });
    const got = await getEntry(server.url, uuid);
    await refused(() => toLogEntry(got.uuid, got.entry), 'TLOG', /Rekor entry [0-9a-f]{64} is malformed: it is not an object/, 'null entry');
  });

  test('finding 5: an entry keyed by something other than a UUID, and a search answer that is not UUIDs, are TLOG errors', async () => {
    answer({ 'line one\nline two': entry });
    await refused(() => getEntry(server.url, uuid), 'TLOG', /entry key "line one\\nline two" is not a Rekor UUID/, 'entry key');
    for (const list of [[1], [null], ['not-a-uuid'], { a: 1 }]) {
      answer(list);
      await refused(() => searchByHash(server.url, `sha256:${'00'.repeat(32)}`), 'TLOG', /not a list of entry UUIDs/, JSON.stringify(list));
    }
  });
});

test("finding 5: a checkpoint signature line that is not padded base64 makes the note malformed, even for a key nobody checks", async () => {
  const text = 'log.example\n7\nrs1YPY0ydAV0lxgfrq5pE4oRpUJwo3syeps5+eGUTDI=\n\n';
  const good = `\u2014 log.example ${Buffer.alloc(40, 7).toString('base64')}\n`;
  assert.equal(parseSignedNote(text + good).signatures.length, 1);
  // One character of an unknown key's line deleted (the fuzzer's case): Buffer.from read what was left.
  const truncated = `\u2014 log.example ${Buffer.alloc(41, 9).toString('base64').slice(0, -2)}=\n`;
  await refused(() => parseSignedNote(text + good + truncated), 'TLOG', /malformed checkpoint: signature of "log\.example" is not valid base64/, 'truncated line');
});

describe('finding 5: Rekor v2 answers', () => {
  const entry: Json = {
    logIndex: '7',
    logId: { keyId: Buffer.alloc(32, 1).toString('base64') },
    kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
    inclusionProof: { logIndex: '7', rootHash: Buffer.alloc(32, 2).toString('base64'), treeSize: '8', hashes: [Buffer.alloc(32, 3).toString('base64')], checkpoint: { envelope: 'x\n' } },
    canonicalizedBody: Buffer.from('{}').toString('base64'),
  };
  const cases: [string, (e: Json) => void, RegExp][] = [
    ['logIndex true', (e) => (e.logIndex = true), /the answer\.logIndex is not an integer \(int64\) \(it is "true"\)/],
    ['logIndex {}', (e) => (e.logIndex = {}), /the answer\.logIndex is not an integer \(int64\) \(it is an object\)/],
    ['logIndex "="', (e) => (e.logIndex = '='), /the answer\.logIndex is not an integer/],
    ['integratedTime 1e300', (e) => (e.integratedTime = 1e300), /the answer\.integratedTime is not an integer/],
    ['treeSize "x"', (e) => (e.inclusionProof.treeSize = 'x'), /the answer\.inclusionProof\.treeSize is not an integer/],
    ['treeSize beyond int64', (e) => (e.inclusionProof.treeSize = '9223372036854775808'), /the answer\.inclusionProof\.treeSize is not an integer/],
    ['a proof hash null', (e) => (e.inclusionProof.hashes = [null]), /the answer\.inclusionProof\.hashes\[0\] is null/],
    ['the checkpoint envelope a number', (e) => (e.inclusionProof.checkpoint.envelope = 5), /the answer\.inclusionProof\.checkpoint\.envelope is not a string/],
    ['the kind {}', (e) => (e.kindVersion.kind = {}), /the answer\.kindVersion\.kind is not a string/],
    ['the body a number', (e) => (e.canonicalizedBody = 12), /the answer\.canonicalizedBody is not base64 text/],
    ['the root hash not base64', (e) => (e.inclusionProof.rootHash = 'not base64!'), /the answer\.inclusionProof\.rootHash is not valid base64/],
  ];

  test('finding 5: the unmutated v2 entry is taken', async () => {
    answer(entry, 201);
    const got = await createEntryV2(server.url, {});
    assert.equal(got.inclusionProof?.treeSize, '8');
  });

  for (const [what, mutate, words] of cases) {
    test(`finding 5: a Rekor v2 answer with ${what} is a TLOG error naming the field`, async () => {
      const e = clone(entry);
      mutate(e);
      answer(e, 201);
      await refused(() => createEntryV2(server.url, {}), 'TLOG', words, what);
    });
  }
});

describe('finding 5: Fulcio answers', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  for (const [what, certificates] of [
    ['null', [null]],
    ['an empty list', [[]]],
    ['an object', [{}]],
    ['a number', ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n', 1e300]],
  ] as const) {
    test(`finding 5: a Fulcio chain entry that is ${what} is a SERVICE error naming it`, async () => {
      answer({ signedCertificateEmbeddedSct: { chain: { certificates } } }, 201);
      await refused(() => requestCertificate(server.url, 'token', 'a@example.com', privateKey, publicKey), 'SERVICE', /signedCertificateEmbeddedSct\.chain\.certificates\[\d\] is not PEM text/, what);
    });
  }

  test('finding 5: a Fulcio answer that is JSON null or a list is a SERVICE error', async () => {
    for (const body of [null, [1]]) {
      answer(body, 201);
      await refused(() => requestCertificate(server.url, 'token', 'a@example.com', privateKey, publicKey), 'SERVICE', /Fulcio answered with something other than a JSON object/, JSON.stringify(body));
    }
  });
});

describe('finding 5: timestamp authority replies and tokens', () => {
  const der = (tag: number, ...parts: Buffer[]): Buffer => {
    const content = Buffer.concat(parts);
    return Buffer.concat([Buffer.from([tag, content.length]), content]);
  };
  const int0 = Buffer.from([2, 1, 0]);
  const signedDataOid = Buffer.from('06092a864886f70d010702', 'hex');
  for (const [what, reply, words] of [
    ['a token that is an empty SEQUENCE', der(0x30, der(0x30, int0), der(0x30)), /malformed reply: the timestamp token has 0 elements/],
    ['a status that is not an INTEGER', der(0x30, der(0x30, der(0x30, int0)), der(0x30, signedDataOid, der(0xa0, der(0x30)))), /malformed reply: the status is not an INTEGER/],
    ['an empty SignedData', der(0x30, der(0x30, int0), der(0x30, signedDataOid, der(0xa0, der(0x30)))), /malformed reply: the SignedData has 0 elements/],
    ['a token without its content', der(0x30, der(0x30, int0), der(0x30, signedDataOid, der(0xa0))), /malformed reply: the timestamp token content has 0 elements/],
    ['truncated DER', Buffer.from([0x30, 0x10, 0x30]), /malformed reply: malformed timestamp reply: ASN.1 length runs past the end/],
  ] as const) {
    test(`finding 5: a TSA reply with ${what} is a SERVICE sentence`, async () => {
      answer(reply, 200, 'application/timestamp-reply');
      await refused(() => timestampSignature(server.url, Buffer.from('signature')), 'SERVICE', words, what);
    });
  }

  test('finding 5: a TSA refusal (status 2, no token) says so', async () => {
    answer(der(0x30, der(0x30, Buffer.from([2, 1, 2]))), 200, 'application/timestamp-reply');
    await refused(() => timestampSignature(server.url, Buffer.from('signature')), 'SERVICE', /refused the request \(status 2\)/, 'refusal');
  });

  const dir = join(CONFORMANCE, 'rekor2-timestamp-without-embedded-cert');
  test("finding 5: a token whose SignerInfo signature algorithm is not the authority key's or its digest's is refused", { skip: sharedMissing() }, () => {
    const bundle = JSON.parse(readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8')) as Json;
    const trust = materialFromJson(JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8')), 'conformance').material;
    const token = Buffer.from(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp, 'base64');
    const signature = Buffer.from(bundle.messageSignature.signature, 'base64');
    // The one ecdsa-with-SHA256 OID in the token is its SignerInfo's signatureAlgorithm.
    const oid = Buffer.from('06082a8648ce3d040302', 'hex');
    const at = token.indexOf(oid);
    assert.ok(at > 0 && token.indexOf(oid, at + 1) === -1);
    assert.ok(verifyTimestamp(parseTimestampResponse(token), signature, trust) instanceof Date, 'the token as issued verifies');
    for (const [last, words] of [
      [0x07, /its signature algorithm 1\.2\.840\.10045\.4\.3\.7 is not one for the timestamp authority's ec key/],
      [0x03, /its signature algorithm \(with sha384\) disagrees with its digest algorithm \(sha256\)/],
    ] as const) {
      const changed = Buffer.from(token);
      changed[at + oid.length - 1] = last;
      assert.throws(() => verifyTimestamp(parseTimestampResponse(changed), signature, trust), (err: GitsignError) => err.code === 'TIMESTAMP' && words.test(err.message));
    }
  });
});

describe('finding 5: OIDC answers', () => {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const jwt = `${enc({ alg: 'ES256', kid: 'k1', typ: 'JWT' })}.${enc({ iss: 'x' })}.${Buffer.from('sig').toString('base64url')}`;
  const want = (): { issuer: string; audience: string; jwksUri: string } => ({ issuer: 'x', audience: 'sigstore', jwksUri: `${server.url}/keys` });
  const ec = { kid: 'k1', kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
  for (const [what, keys, words] of [
    ['a null key', [null], /keys\[0\] is not an object/],
    ['a key without kty', [{ ...ec, kty: undefined }], /the issuer's key has the key type \(none\), not EC, RSA or OKP/],
    ['an EC key without y', [{ ...ec, y: undefined }], /the issuer's EC key has no "y" text/],
    ['an EC key whose x is a number', [{ ...ec, x: 5 }], /the issuer's EC key has no "x" text/],
    ['an EC key off its curve', [{ ...ec, x: 'AAAA' }], /the issuer's EC key is unusable/],
  ] as const) {
    test(`finding 5: a JWKS with ${what} is a TOKEN sentence`, async () => {
      answer({ keys });
      await refused(() => verifyIdToken(jwt, want(), 'interactive'), 'TOKEN', words, what);
    });
  }

  test('finding 5: a CI token answer that is JSON null, and a token whose claims are null, are TOKEN sentences', async () => {
    const io = { say: () => undefined, ask: async () => null };
    const env = { ACTIONS_ID_TOKEN_REQUEST_URL: `${server.url}/token`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };
    answer('null');
    await refused(() => obtainIdToken({ ...DEFAULTS, tokenProvider: 'github-actions' }, io, env), 'TOKEN', /answered without a token/, 'null answer');
    await refused(() => parseIdToken(`${enc({ alg: 'ES256' })}.${enc(null)}.c2ln`, 'envvar'), 'TOKEN', /the ID token from envvar is not a JWT/, 'null claims');
  });

  test('finding 5: a discovery answer whose issuer is not a URL is a TOKEN sentence, not "Invalid URL"', async () => {
    answer({ issuer: 'not a url', jwks_uri: `${server.url}/keys`, authorization_endpoint: `${server.url}/auth`, token_endpoint: `${server.url}/token` });
    await refused(() => discoverIssuer({ ...DEFAULTS, issuer: server.url }, ''), 'TOKEN', /OIDC discovery at .*: a URL in the issuer's answer is not valid/, 'issuer');
  });
});

describe('finding 5: bundles', () => {
  const base: Json = {
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: 'MAA=' },
      tlogEntries: [
        {
          logIndex: '1',
          logId: { keyId: 'AA==' },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: '1',
          inclusionProof: { logIndex: '1', rootHash: 'AA==', treeSize: '2', hashes: ['AA=='], checkpoint: { envelope: 'x' } },
          canonicalizedBody: 'e30=',
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: 'MAA=' }] },
    },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: 'AA==' }, signature: 'AA==' },
  };
  const dsse = (b: Json): void => {
    delete b.messageSignature;
    b.dsseEnvelope = { payload: 'e30=', payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'AA==', keyid: '' }] };
  };
  const cases: [string, (b: Json) => void, RegExp][] = [
    ['no media type', (b) => delete b.mediaType, /it has no media type \(supported: bundle v0\.1, v0\.2, v0\.3\)/],
    ['a media type that is an object', (b) => (b.mediaType = { a: 1 }), /unsupported media type "\{\\"a\\":1\}"/],
    ['a digest algorithm {}', (b) => (b.messageSignature.messageDigest.algorithm = {}), /messageSignature\.messageDigest\.algorithm is not an enum name or number \(it is an object\)/],
    ['an unknown digest algorithm with a line break', (b) => (b.messageSignature.messageDigest.algorithm = 'SHA\nX'), /it does not decode \(Unrecognized enum value SHA X/],
    ['a null DSSE signature', (b) => (dsse(b), (b.dsseEnvelope.signatures[0] = null)), /dsseEnvelope\.signatures\[0\] is null/],
    ['a DSSE payload type {}', (b) => (dsse(b), (b.dsseEnvelope.payloadType = {})), /dsseEnvelope\.payloadType is not a string \(it is an object\)/],
    ['a null log entry', (b) => (b.verificationMaterial.tlogEntries[0] = null), /verificationMaterial\.tlogEntries\[0\] is null/],
    ['a null chain certificate', (b) => (b.verificationMaterial = { x509CertificateChain: { certificates: [null] } }), /verificationMaterial\.x509CertificateChain\.certificates\[0\] is null/],
    ['a null timestamp', (b) => (b.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0] = null), /rfc3161Timestamps\[0\] is null/],
    ['a proof index {}', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.logIndex = {}), /tlogEntries\[0\]\.inclusionProof\.logIndex is not an integer \(int64\) \(it is an object\)/],
    ['a tree size {}', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = {}), /tlogEntries\[0\]\.inclusionProof\.treeSize is not an integer/],
    ['a log index {}', (b) => (b.verificationMaterial.tlogEntries[0].logIndex = {}), /tlogEntries\[0\]\.logIndex is not an integer/],
    ['a kind {}', (b) => (b.verificationMaterial.tlogEntries[0].kindVersion.kind = {}), /tlogEntries\[0\]\.kindVersion\.kind is not a string/],
    ['proof hashes that are a number', (b) => (b.verificationMaterial.tlogEntries[0].inclusionProof.hashes = 5), /inclusionProof\.hashes is not a list \(it is a number\)/],
  ];

  test('finding 5: the unmutated bundle and its DSSE form parse', () => {
    assert.equal(parseBundle(JSON.stringify(base)).version, '0.3');
    const b = clone(base);
    dsse(b);
    assert.equal(parseBundle(JSON.stringify(b)).version, '0.3');
  });

  for (const [what, mutate, words] of cases) {
    test(`finding 5: a bundle with ${what} is a BUNDLE error naming it`, async () => {
      const b = clone(base);
      mutate(b);
      await refused(() => parseBundle(JSON.stringify(b)), 'BUNDLE', words, what);
    });
  }

  test('finding 5: a bundle that is not JSON is refused in one line, with the parser words clipped', async () => {
    // V8's message quotes the text around the error, line breaks included.
    const text = JSON.stringify(base, null, 2).replace('"hashes": [\n            "AA=="', '"hashes": [\n            \u007f"AA=="');
    assert.notEqual(text, JSON.stringify(base, null, 2));
    const message = await refused(() => parseBundle(text), 'BUNDLE', /^invalid bundle: not valid JSON \(/, 'not JSON');
    assert.ok(message.length < 300, message);
  });
});

test('finding 5: a runtime error that escapes is INTERNAL, says "internal error", and is one clipped line', () => {
  const err = toGitsignError(new TypeError(`Cannot read properties of undefined\n    at x (y.js:1:1)${'z'.repeat(500)}`));
  assert.equal(err.code, 'INTERNAL');
  assert.match(err.message, /^internal error: Cannot read properties of undefined at x \(y\.js:1:1\)z+\.\.\. \(\d+ more characters\)$/);
  assert.doesNotMatch(err.message, /\n/);
});
