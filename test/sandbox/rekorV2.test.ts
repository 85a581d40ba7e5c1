import assert from 'node:assert/strict';
import { createHash, createPublicKey, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { certify, leafHashOf, postJson, removeDir, rootFromInclusionProof, startInProcess, type Identity, type InProcess } from './support';

// The sandbox's Rekor v2 log: hashedrekord 0.0.2 requests are checked, appended to a tree of their
// own, and answered with a TransparencyLogEntry whose proof and Ed25519 checkpoint verify independently.
let s: InProcess;
let id: Identity;
let v2Key: ReturnType<typeof createPublicKey>;
let v2LogId: Buffer;

interface TleJson {
  logIndex: string;
  logId: { keyId: string };
  kindVersion: { kind: string; version: string };
  integratedTime?: string;
  inclusionPromise?: unknown;
  inclusionProof: { logIndex: string; rootHash: string; treeSize: string; hashes: string[]; checkpoint: { envelope: string } };
  canonicalizedBody: string;
}

before(async () => {
  s = await startInProcess();
  id = await certify(s.sb.url, s.token('dave@example.com'), 'dave@example.com');
  const root = JSON.parse(readFileSync(s.sb.paths.trustedRoot, 'utf8')) as { tlogs: { publicKey: { rawBytes: string; keyDetails: string }; logId: { keyId: string } }[] };
  assert.equal(root.tlogs.length, 2);
  assert.equal(root.tlogs[1].publicKey.keyDetails, 'PKIX_ED25519');
  v2Key = createPublicKey({ key: Buffer.from(root.tlogs[1].publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
  v2LogId = Buffer.from(root.tlogs[1].logId.keyId, 'base64');
});
after(async () => {
  await s.sb.close();
  removeDir(s.dir);
});

function request(message: Buffer, signature = sign('sha256', message, id.key)): unknown {
  return {
    hashedRekordRequestV002: {
      digest: createHash('sha256').update(message).digest('base64'),
      signature: { content: signature.toString('base64'), verifier: { x509Certificate: { rawBytes: id.chain[0].toString('base64') }, keyDetails: 'PKIX_ECDSA_P256_SHA_256' } },
    },
  };
}

async function post(body: unknown): Promise<{ status: number; json: TleJson & { code?: number; message?: string } }> {
  const res = await postJson(`${s.sb.url}/api/v2/log/entries`, body);
  return { status: res.status, json: (await res.json()) as TleJson };
}

test('entries come back as protobuf JSON with a proof and checkpoint that verify independently', async () => {
  const raw = Buffer.from(v2Key.export({ format: 'jwk' }).x as string, 'base64url');
  // C2SP key ID: SHA-256(name || "\n" || 0x01 || key), with the bare host as name.
  assert.deepEqual(v2LogId, createHash('sha256').update(Buffer.concat([Buffer.from('127.0.0.1\n'), Buffer.from([1]), raw])).digest());
  for (let i = 0; i < 5; i++) {
    const { status, json } = await post(request(Buffer.from(`message ${i}`)));
    assert.equal(status, 201, JSON.stringify(json));
    assert.equal(json.logIndex, String(i));
    assert.deepEqual(json.kindVersion, { kind: 'hashedrekord', version: '0.0.2' });
    assert.equal(json.inclusionPromise, undefined);
    assert.ok(!json.integratedTime || json.integratedTime === '0');
    assert.equal(Buffer.from(json.logId.keyId, 'base64').toString('hex'), v2LogId.toString('hex'));
    const body = JSON.parse(Buffer.from(json.canonicalizedBody, 'base64').toString('utf8')) as { apiVersion: string; kind: string };
    assert.equal(body.apiVersion, '0.0.2');
    const p = json.inclusionProof;
    assert.equal(Number(p.treeSize), i + 1);
    const root = rootFromInclusionProof(i, Number(p.treeSize), leafHashOf(Buffer.from(json.canonicalizedBody, 'base64')), p.hashes.map((x) => Buffer.from(x, 'base64')));
    assert.equal(root.toString('base64'), p.rootHash, 'inclusion proof');
    const [note, sigLine] = p.checkpoint.envelope.split('\n\n');
    assert.deepEqual(note.split('\n'), ['127.0.0.1', p.treeSize, p.rootHash]);
    const m = /^\u2014 127\.0\.0\.1 (\S+)\n$/.exec(sigLine);
    assert.ok(m, sigLine);
    const sig = Buffer.from(m[1], 'base64');
    assert.deepEqual(sig.subarray(0, 4), v2LogId.subarray(0, 4), 'key hint');
    assert.ok(verify(null, Buffer.from(`${note}\n`), v2Key, sig.subarray(4)), 'checkpoint signature');
  }
});

test('the v1 log is a separate tree', async () => {
  const res = await fetch(`${s.sb.url}/api/v1/log`);
  assert.equal(((await res.json()) as { treeSize: number }).treeSize, 0);
});

test('an identical request gets the entry already logged', async () => {
  const message = Buffer.from('twice');
  const sig = sign('sha256', message, id.key);
  const a = await post(request(message, sig));
  const b = await post(request(message, sig));
  assert.equal(a.json.logIndex, b.json.logIndex);
});

test('bad requests are refused with INVALID_ARGUMENT', async () => {
  const bad = await post(request(Buffer.from('one'), sign('sha256', Buffer.from('other'), id.key)));
  assert.equal(bad.status, 400);
  assert.equal(bad.json.code, 3);
  assert.match(bad.json.message ?? '', /invalid signature/);
  const r = request(Buffer.from('x')) as { hashedRekordRequestV002: { signature: { verifier: { keyDetails: string } } } };
  r.hashedRekordRequestV002.signature.verifier.keyDetails = 'PKIX_ED25519';
  assert.equal((await post(r)).status, 400);
  assert.equal((await post({ dsseRequestV002: {} })).status, 400);
  assert.equal((await post({})).status, 400);
});
