import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { bundleFromJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { encodePem } from '../../src/cms/pem';
import { algorithm, bool, int, octets, seq } from '../../src/asn1/writer';
import { certify, entryFor, postJson, removeDir, startInProcess, upload, type InProcess } from './support';

// An independent verifier (sigstore-js + openssl) must accept everything the sandbox produces.
let s: InProcess;
before(async () => {
  s = await startInProcess();
});
after(async () => {
  await s.sb.close();
  removeDir(s.dir);
});

const b64url = (b: Buffer): string => b.toString('base64url');

/** The authorization-code flow with PKCE S256, as sigstore's oauthflow runs it. */
async function interactiveLogin(loginHint?: string): Promise<{ idToken: string; nonce: string }> {
  const disc = (await (await fetch(`${s.sb.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
  assert.equal(disc.issuer, s.sb.issuer);
  const verifier = b64url(randomBytes(48));
  const nonce = b64url(randomBytes(16));
  const state = b64url(randomBytes(16));
  const redirect = 'http://localhost:45678/auth/callback';
  const auth = new URL(disc.authorization_endpoint);
  const params: Record<string, string> = {
    access_type: 'online',
    client_id: 'sigstore',
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
    nonce,
    redirect_uri: redirect,
    response_type: 'code',
    scope: 'openid email',
    state,
  };
  if (loginHint) params.login_hint = loginHint;
  for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
  const res = await fetch(auth, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const back = new URL(res.headers.get('location')!);
  assert.equal(back.origin + back.pathname, redirect);
  assert.equal(back.searchParams.get('state'), state);
  const code = back.searchParams.get('code')!;
  const tok = await fetch(disc.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: 'sigstore', code_verifier: verifier }),
  });
  assert.equal(tok.status, 200);
  const body = (await tok.json()) as { id_token: string; access_token: string };
  // Check the ID token independently against the JWKS.
  const jwks = (await (await fetch(disc.jwks_uri)).json()) as { keys: (Record<string, string> & { kid: string })[] };
  const [h, p, sig] = body.id_token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { kid: string; alg: string };
  assert.equal(header.alg, 'ES256');
  const jwk = jwks.keys.find((k) => k.kid === header.kid)!;
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url')));
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  assert.equal(claims.nonce, nonce);
  assert.equal(claims.iss, s.sb.issuer);
  assert.equal(claims.aud, 'sigstore');
  assert.equal(claims.at_hash, b64url(createHash('sha256').update(body.access_token).digest().subarray(0, 16)));
  return { idToken: body.id_token, nonce };
}

/** RFC 3161 request like gitsign's: sha256 imprint of the signature, 16-byte nonce, certReq. */
function timestampQuery(data: Buffer, nonce: Buffer): Buffer {
  return seq(int(1), seq(algorithm('2.16.840.1.101.3.4.2.1'), octets(createHash('sha256').update(data).digest())), int(nonce), bool(true));
}

test('interactive login -> Fulcio v1 -> Rekor -> TSA: sigstore-js Verifier accepts leaf, SCT, SET, inclusion proof, checkpoint and timestamp', async () => {
  const url = s.sb.url;
  const { idToken } = await interactiveLogin();
  const id = await certify(url, idToken, 'sandbox-user@example.com');
  assert.equal(id.chain.length, 3);

  const artifact = Buffer.from('sandbox artifact\n');
  const { entry, signature } = entryFor(id, artifact);
  const up = await upload(url, entry);
  assert.equal(up.status, 201);
  assert.equal(up.headers.get('location'), `/api/v1/log/entries/${up.id}`);

  const nonce = randomBytes(16);
  nonce[0] &= 0x7f;
  const tsRes = await fetch(`${url}/api/v1/timestamp`, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: timestampQuery(signature, nonce) });
  assert.equal(tsRes.status, 200);
  assert.equal(tsRes.headers.get('content-type'), 'application/timestamp-reply');
  const tsResp = Buffer.from(await tsRes.arrayBuffer());

  const e = up.value;
  const p = e.verification.inclusionProof;
  const bundle = bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    verificationMaterial: {
      certificate: { rawBytes: id.chain[0].toString('base64') },
      tlogEntries: [
        {
          logIndex: String(e.logIndex),
          logId: { keyId: Buffer.from(e.logID, 'hex').toString('base64') },
          kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
          integratedTime: String(e.integratedTime),
          inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
          inclusionProof: {
            logIndex: String(p.logIndex),
            rootHash: Buffer.from(p.rootHash, 'hex').toString('base64'),
            treeSize: String(p.treeSize),
            hashes: p.hashes.map((x) => Buffer.from(x, 'hex').toString('base64')),
            checkpoint: { envelope: p.checkpoint },
          },
          canonicalizedBody: e.body,
        },
      ],
      timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: tsResp.toString('base64') }] },
    },
    messageSignature: {
      messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(artifact).digest('base64') },
      signature: signature.toString('base64'),
    },
  });
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(s.sb.paths.trustedRoot, 'utf8'))));
  // Two timestamps (the tlog's integrated time and the TSA's), one tlog entry, one SCT: all must verify.
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 2 });
  const signer = verifier.verify(toSignedEntity(bundle, artifact), {
    subjectAlternativeName: 'sandbox-user@example.com',
    extensions: { issuer: s.sb.issuer },
  });
  assert.equal(signer.identity?.subjectAlternativeName, 'sandbox-user@example.com');

  // Tampering is noticed: another artifact, or a checkpoint signed by someone else.
  assert.throws(() => verifier.verify(toSignedEntity(bundle, Buffer.from('other'))));
});

test('the certificate chain passes openssl verify, and the leaf is shaped like a public-good Fulcio leaf', async () => {
  const id = await certify(s.sb.url, s.token('bob@example.com'), 'bob@example.com');
  const [leaf, intermediate, root] = id.chain.map((d) => encodePem('CERTIFICATE', d));
  const f = (n: string, c: string): string => {
    const path = join(s.dir, n);
    writeFileSync(path, c);
    return path;
  };
  const out = execFileSync('openssl', ['verify', '-CAfile', f('root.pem', root), '-untrusted', f('int.pem', intermediate), '-purpose', 'any', f('leaf.pem', leaf)], { encoding: 'utf8' });
  assert.match(out, /leaf\.pem: OK/);
  const text = execFileSync('openssl', ['x509', '-in', join(s.dir, 'leaf.pem'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA384/);
  assert.match(text, /Subject: *\n/);
  assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature/);
  assert.match(text, /X509v3 Extended Key Usage: \n\s+Code Signing/);
  assert.match(text, /X509v3 Subject Alternative Name: critical\n\s+email:bob@example.com/);
  assert.match(text, /X509v3 Subject Key Identifier/);
  assert.match(text, /X509v3 Authority Key Identifier/);
  assert.match(text, /CT Precertificate SCTs/);

  const cert = X509Certificate.parse(id.chain[0] as Buffer<ArrayBuffer>);
  assert.equal(cert.notAfter.getTime() - cert.notBefore.getTime(), 10 * 60 * 1000);
  assert.equal(cert.extension('1.3.6.1.4.1.57264.1.1')?.value.toString(), s.sb.issuer);
  const v18 = cert.extension('1.3.6.1.4.1.57264.1.8')!.value;
  assert.equal(v18[0], 0x0c); // DER UTF8String
  assert.equal(v18.subarray(2).toString(), s.sb.issuer);
  assert.ok(cert.verify(X509Certificate.parse(id.chain[1] as Buffer<ArrayBuffer>)));
});

test('the TSA reply passes openssl ts -verify (EKU timeStamping, ESS signing certificate, nonce)', async () => {
  const data = Buffer.from('timestamped data');
  const nonce = Buffer.from('0123456789abcdef', 'hex');
  const res = await fetch(`${s.sb.url}/api/v1/timestamp`, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: timestampQuery(data, nonce) });
  const reply = join(s.dir, 'reply.tsr');
  writeFileSync(reply, Buffer.from(await res.arrayBuffer()));
  const dataFile = join(s.dir, 'data.bin');
  writeFileSync(dataFile, data);
  const chain = readFileSync(s.sb.paths.tsaChain, 'utf8').split(/(?<=-----END CERTIFICATE-----\n)/);
  writeFileSync(join(s.dir, 'tsa-root.pem'), chain[1]);
  writeFileSync(join(s.dir, 'tsa-leaf.pem'), chain[0]);
  const out = execFileSync('openssl', ['ts', '-verify', '-data', dataFile, '-in', reply, '-CAfile', join(s.dir, 'tsa-root.pem'), '-untrusted', join(s.dir, 'tsa-leaf.pem')], { encoding: 'utf8', stdio: 'pipe' });
  assert.match(out, /Verification: OK/);
  const text = execFileSync('openssl', ['ts', '-reply', '-in', reply, '-text'], { encoding: 'utf8', stdio: 'pipe' });
  assert.match(text, /Status: Granted/);
  assert.match(text, /Nonce: 0x0123456789ABCDEF/);
  const leafText = execFileSync('openssl', ['x509', '-in', join(s.dir, 'tsa-leaf.pem'), '-noout', '-text'], { encoding: 'utf8' });
  assert.match(leafText, /X509v3 Extended Key Usage: critical\n\s+Time Stamping/);
});

test('Fulcio v2 signingCert (public key and CSR) and trustBundle; device flow; URI identities', async () => {
  const url = s.sb.url;
  // Device authorization grant with PKCE: approved at once in the sandbox.
  const verifier = b64url(randomBytes(32));
  const dev = await fetch(`${s.sb.issuer}/device/code`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'sigstore', scope: 'openid email', code_challenge_method: 'S256', code_challenge: b64url(createHash('sha256').update(verifier).digest()) }),
  });
  const d = (await dev.json()) as { device_code: string; user_code: string; verification_uri: string; interval: number };
  assert.ok(d.user_code && d.verification_uri.startsWith(s.sb.issuer));
  const grant = (extra: Record<string, string>) =>
    fetch(`${s.sb.issuer}/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: 'sigstore', device_code: d.device_code, ...extra }),
    });
  assert.equal((await grant({ code_verifier: 'wrong' })).status, 400);
  const tok = await grant({ code_verifier: verifier });
  assert.equal(tok.status, 200);
  const { id_token } = (await tok.json()) as { id_token: string };

  // v2 with a PEM public key and a proof over the email.
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const v2 = await postJson(`${url}/api/v2/signingCert`, {
    credentials: { oidcIdentityToken: id_token },
    publicKeyRequest: {
      publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) },
      proofOfPossession: sign('sha256', Buffer.from('sandbox-user@example.com'), privateKey).toString('base64'),
    },
  });
  assert.equal(v2.status, 200);
  const body = (await v2.json()) as { signedCertificateEmbeddedSct: { chain: { certificates: string[] } } };
  assert.equal(body.signedCertificateEmbeddedSct.chain.certificates.length, 3);

  // v2 with a CSR (made by openssl), identity from a URI subject.
  const keyFile = join(s.dir, 'csr.key');
  execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  const csr = execFileSync('openssl', ['req', '-new', '-key', keyFile, '-subj', '/CN=ignored']);
  const uriToken = s.token('https://ci.example.com/pipelines/7');
  const v2csr = await postJson(`${url}/api/v2/signingCert`, { credentials: { oidcIdentityToken: uriToken }, certificateSigningRequest: csr.toString('base64') });
  assert.equal(v2csr.status, 200);
  const leafPem = ((await v2csr.json()) as typeof body).signedCertificateEmbeddedSct.chain.certificates[0];
  const leaf = X509Certificate.parse(leafPem);
  assert.equal(leaf.subjectAltName, 'https://ci.example.com/pipelines/7');

  const bundle = (await (await fetch(`${url}/api/v2/trustBundle`)).json()) as { chains: { certificates: string[] }[] };
  assert.equal(bundle.chains[0].certificates.length, 2);
  const trusted = JSON.parse(readFileSync(s.sb.paths.trustedRoot, 'utf8')) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
  assert.deepEqual(
    bundle.chains[0].certificates.map((p) => X509Certificate.parse(p).root.toDER().toString('base64')),
    trusted.certificateAuthorities[0].certChain.certificates.map((c) => c.rawBytes),
  );
});
