import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { json } from '@sigstore/core';
import { leafHash, MerkleTree } from '../../src/sandbox/rekor/merkle';
import {
  certify,
  entryFor,
  leafHashOf,
  naiveRoot,
  postJson,
  removeDir,
  rootFromInclusionProof,
  startInProcess,
  upload,
  verifyConsistency,
  type EntryJson,
  type Identity,
  type InProcess,
} from './support';

// The log is a real RFC 6962 tree: proofs stay valid as it grows, sizes are consistent, SETs and
// checkpoints verify with the key published in trusted_root.json, concurrent uploads all land.
let s: InProcess;
let id: Identity;
let rekorKey: ReturnType<typeof createPublicKey>;
let logId: Buffer;

before(async () => {
  s = await startInProcess();
  id = await certify(s.sb.url, s.token('carol@example.com'), 'carol@example.com');
  const root = JSON.parse(readFileSync(s.sb.paths.trustedRoot, 'utf8')) as { tlogs: { publicKey: { rawBytes: string }; logId: { keyId: string } }[] };
  rekorKey = createPublicKey({ key: Buffer.from(root.tlogs[0].publicKey.rawBytes, 'base64'), format: 'der', type: 'spki' });
  logId = Buffer.from(root.tlogs[0].logId.keyId, 'base64');
});
after(async () => {
  await s.sb.close();
  removeDir(s.dir);
});

/** Independent checks of one entry answer: UUID, SET, inclusion proof, checkpoint. */
function checkEntry(entryId: string, e: EntryJson): void {
  const body = Buffer.from(e.body, 'base64');
  const leaf = leafHashOf(body);
  assert.equal(entryId.slice(-64), leaf.toString('hex'));
  assert.equal(e.logID, logId.toString('hex'));
  const set = Buffer.from(json.canonicalize({ body: e.body, integratedTime: e.integratedTime, logID: e.logID, logIndex: e.logIndex }));
  assert.ok(verify('sha256', set, rekorKey, Buffer.from(e.verification.signedEntryTimestamp, 'base64')), 'SET');
  const p = e.verification.inclusionProof;
  assert.equal(p.logIndex, e.logIndex);
  const root = rootFromInclusionProof(p.logIndex, p.treeSize, leaf, p.hashes.map((x) => Buffer.from(x, 'hex')));
  assert.equal(root.toString('hex'), p.rootHash, 'inclusion proof');
  // Checkpoint: "<origin>\n<size>\n<b64 root>\n\n— <name> <b64(keyhint || sig)>\n"
  const [note, sigLine] = p.checkpoint.split('\n\n');
  const lines = note.split('\n');
  assert.match(lines[0], /^127\.0\.0\.1 - \d+$/);
  assert.equal(Number(lines[1]), p.treeSize);
  assert.equal(Buffer.from(lines[2], 'base64').toString('hex'), p.rootHash);
  const m = /^\u2014 (\S+) (\S+)\n$/.exec(sigLine);
  assert.ok(m, sigLine);
  const raw = Buffer.from(m[2], 'base64');
  assert.ok(raw.subarray(0, 4).equals(logId.subarray(0, 4)), 'key hint');
  assert.ok(verify('sha256', Buffer.from(note + '\n'), rekorKey, raw.subarray(4)), 'checkpoint signature');
}

const postTime: { size: number; root: string }[] = [];
const ids: string[] = [];
const messages: Buffer[] = [];

test('50 concurrent uploads all land, with distinct indexes and valid proofs', async () => {
  const batch = Array.from({ length: 50 }, (_, i) => Buffer.from(`concurrent message ${i}`));
  const results = await Promise.all(batch.map((m) => upload(s.sb.url, entryFor(id, m).entry)));
  assert.ok(results.every((r) => r.status === 201));
  const indexes = results.map((r) => r.value.logIndex);
  assert.equal(new Set(indexes).size, 50);
  assert.deepEqual([...indexes].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  for (const [k, r] of results.entries()) {
    checkEntry(r.id, r.value);
    ids[r.value.logIndex] = r.id;
    messages[r.value.logIndex] = batch[k];
    postTime.push({ size: r.value.verification.inclusionProof.treeSize, root: r.value.verification.inclusionProof.rootHash });
  }
});

test('inclusion proofs stay valid as the log grows to 120 entries; consistency proofs verify', async () => {
  for (let i = 50; i < 120; i++) {
    const m = Buffer.from(`sequential message ${i}`);
    const r = await upload(s.sb.url, entryFor(id, m).entry);
    assert.equal(r.status, 201);
    assert.equal(r.value.logIndex, i);
    assert.equal(r.value.verification.inclusionProof.treeSize, i + 1);
    checkEntry(r.id, r.value);
    ids[i] = r.id;
    messages[i] = m;
    postTime.push({ size: i + 1, root: r.value.verification.inclusionProof.rootHash });
  }
  const info = (await (await fetch(`${s.sb.url}/api/v1/log`)).json()) as { treeSize: number; rootHash: string; signedTreeHead: string; treeID: string };
  assert.equal(info.treeSize, 120);
  assert.ok(info.signedTreeHead.startsWith(`127.0.0.1 - ${info.treeID}\n120\n`));
  // Every entry proven again against the grown tree.
  const leaves: Buffer[] = [];
  for (let i = 0; i < 120; i++) {
    const res = await fetch(`${s.sb.url}/api/v1/log/entries/${ids[i]}`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, EntryJson>;
    const e = body[ids[i]];
    checkEntry(ids[i], e);
    leaves.push(leafHashOf(Buffer.from(e.body, 'base64')));
    assert.equal(e.verification.inclusionProof.treeSize, 120);
    assert.equal(e.verification.inclusionProof.rootHash, info.rootHash);
  }
  // Every root handed out earlier is consistent with the current one.
  for (const { size, root } of postTime) {
    const res = await fetch(`${s.sb.url}/api/v1/log/proof?firstSize=${size}&lastSize=120`);
    assert.equal(res.status, 200);
    const proof = (await res.json()) as { rootHash: string; hashes: string[] };
    assert.equal(proof.rootHash, info.rootHash);
    const ok = verifyConsistency(size, 120, Buffer.from(root, 'hex'), Buffer.from(info.rootHash, 'hex'), proof.hashes.map((x) => Buffer.from(x, 'hex')));
    assert.ok(ok, `consistency ${size} -> 120`);
  }
  // And between intermediate sizes, against roots recomputed independently from the entries' bodies.
  const rootAt = (n: number): Buffer => naiveRoot(leaves.slice(0, n));
  assert.equal(rootAt(120).toString('hex'), info.rootHash);
  for (const [a, b] of [[1, 1], [1, 2], [3, 7], [8, 16], [17, 64], [50, 51], [63, 65], [99, 119]]) {
    const proof = (await (await fetch(`${s.sb.url}/api/v1/log/proof?firstSize=${a}&lastSize=${b}`)).json()) as { rootHash: string; hashes: string[] };
    assert.equal(proof.rootHash, rootAt(b).toString('hex'));
    assert.ok(verifyConsistency(a, b, rootAt(a), rootAt(b), proof.hashes.map((x) => Buffer.from(x, 'hex'))), `${a} -> ${b}`);
  }
});

test('search by hash, public key, email; retrieve by UUID, entry ID, index and entry', async () => {
  const url = s.sb.url;
  const search = async (q: unknown): Promise<string[]> => {
    const res = await postJson(`${url}/api/v1/index/retrieve`, q);
    assert.equal(res.status, 200);
    return (await res.json()) as string[];
  };
  const hash = createHash('sha256').update(messages[7]).digest('hex');
  assert.deepEqual(await search({ hash: `sha256:${hash}` }), [ids[7]]);
  assert.deepEqual(await search({ hash: hash.toUpperCase() }), [ids[7]]);
  const byKey = await search({ publicKey: { format: 'x509', content: Buffer.from(id.leafPem).toString('base64') } });
  assert.deepEqual(byKey, ids);
  assert.deepEqual(await search({ email: 'Carol@Example.com' }), ids);
  assert.deepEqual(await search({ operator: 'and', hash, publicKey: { format: 'x509', content: Buffer.from(id.leafPem).toString('base64') } }), [ids[7]]);
  assert.deepEqual(await search({ hash: '0'.repeat(64) }), []);

  // A logged body is itself a valid proposed entry: searching with it finds the entry.
  const six = (await (await fetch(`${url}/api/v1/log/entries/${ids[6]}`)).json()) as Record<string, EntryJson>;
  const proposed = JSON.parse(Buffer.from(six[ids[6]].body, 'base64').toString()) as unknown;
  const fresh = entryFor(id, messages[8]).entry; // same message, new (randomized) signature: not logged
  const res = await postJson(`${url}/api/v1/log/entries/retrieve`, { entryUUIDs: [ids[3], ids[4].slice(-64)], logIndexes: [5, 1000], entries: [proposed, fresh] });
  assert.equal(res.status, 200);
  const got = ((await res.json()) as Record<string, EntryJson>[]).map((m) => Object.values(m)[0].logIndex);
  assert.deepEqual(got.sort((a, b) => a - b), [3, 4, 5, 6]);

  const byIndex = await fetch(`${url}/api/v1/log/entries?logIndex=9`);
  assert.equal(Object.keys((await byIndex.json()) as object)[0], ids[9]);
});

test('Merkle tree matches a naive RFC 6962 implementation for every size, index and pair up to 40', () => {
  const tree = new MerkleTree();
  const leaves: Buffer[] = [];
  assert.equal(tree.root().toString('hex'), createHash('sha256').digest('hex'));
  for (let n = 1; n <= 40; n++) {
    const leaf = leafHash(Buffer.from(`leaf ${n}`));
    leaves.push(leaf);
    tree.append(leaf);
    const root = naiveRoot(leaves);
    assert.ok(tree.root().equals(root), `root ${n}`);
    for (let i = 0; i < n; i++) assert.ok(rootFromInclusionProof(i, n, leaves[i], tree.inclusionProof(i, n)).equals(root), `inclusion ${i}/${n}`);
    for (let m = 1; m <= n; m++) {
      assert.ok(verifyConsistency(m, n, naiveRoot(leaves.slice(0, m)), root, tree.consistencyProof(m, n)), `consistency ${m}/${n}`);
    }
  }
});
