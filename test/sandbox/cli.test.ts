import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { BIN } from '../helpers/paths';
import { certify, entryFor, leafHashOf, postJson, removeDir, rootFromInclusionProof, spawnSandbox, tempDir, upload, verifyConsistency, type EntryJson, type Identity } from './support';

// `gitsign sandbox up|token` as a user runs them: a separate process, stopped by signals.
const dirs: string[] = [];
after(() => dirs.forEach(removeDir));
function newDir(): string {
  const d = tempDir();
  dirs.push(d);
  return d;
}

function token(dir: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', dir, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

const claims = (jwt: string): Record<string, unknown> => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString()) as Record<string, unknown>;

interface LogInfo {
  treeSize: number;
  rootHash: string;
}
const logInfo = async (url: string): Promise<LogInfo> => (await (await fetch(`${url}/api/v1/log`)).json()) as LogInfo;

test('up: prints and writes the exports, a usable trusted root, serves on 127.0.0.1 only, exits 0 on SIGTERM and SIGINT', async (t) => {
  const dir = newDir();
  const first = await spawnSandbox(dir);
  t.diagnostic(`sandbox up -> ready: ${first.readyMs.toFixed(0)} ms (new keys)`);
  const env = readFileSync(`${dir}/env`, 'utf8');
  assert.equal(first.stdout, env);
  const vars = Object.fromEntries([...env.matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
  for (const k of ['GITSIGN_FULCIO_URL', 'GITSIGN_REKOR_URL', 'GITSIGN_OIDC_ISSUER', 'GITSIGN_TRUSTED_ROOT', 'GITSIGN_TIMESTAMP_SERVER_URL']) assert.ok(vars[k], k);
  const url = new URL(vars.GITSIGN_FULCIO_URL);
  assert.equal(url.hostname, '127.0.0.1');
  assert.equal(vars.GITSIGN_OIDC_ISSUER, `${url.origin}/auth`);
  assert.equal(vars.GITSIGN_TIMESTAMP_SERVER_URL, `${url.origin}/api/v1/timestamp`);
  const material = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(readFileSync(vars.GITSIGN_TRUSTED_ROOT, 'utf8'))));
  assert.equal(material.certificateAuthorities.length, 1);
  assert.equal(material.tlogs.length, 2); // Rekor v1 and Rekor v2
  assert.equal(material.ctlogs.length, 1);
  assert.equal(material.timestampAuthorities.length, 1);
  assert.equal((await fetch(`${url.origin}/auth/.well-known/openid-configuration`)).status, 200);
  // Not on the IPv6 loopback (nor anything but 127.0.0.1).
  const v6 = await new Promise<string>((resolve) => {
    const sock = connect({ host: '::1', port: Number(url.port) });
    sock.on('connect', () => (sock.destroy(), resolve('connected')));
    sock.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
  assert.notEqual(v6, 'connected');
  assert.equal(await first.stop('SIGTERM'), 0);

  // Without --port, a second `up` comes back on the same port, so the exports stay valid.
  const second = await spawnSandbox(dir, [], null);
  t.diagnostic(`sandbox up -> ready: ${second.readyMs.toFixed(0)} ms (existing keys)`);
  assert.equal(second.url, url.origin);
  assert.equal(second.stdout, env);
  assert.equal(await second.stop('SIGINT'), 0);
  assert.match(second.stderr(), /stopped/);
});

test('token: a fresh ID token Fulcio accepts; --subject and --issuer-claims; bad claims are a usage error', async () => {
  const dir = newDir();
  const r = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', dir], { encoding: 'utf8' });
  assert.equal(r.status, 1); // never started here: an error, exit 1 as every failure but an unreadable gitsign configuration
  assert.match(r.stderr, /no sandbox in/);
  const sb = await spawnSandbox(dir, ['--subject', 'ci@example.com']);
  try {
    const jwt = token(dir);
    assert.equal(claims(jwt).email, 'ci@example.com');
    const other = token(dir, '--subject', 'ops@example.com', '--issuer-claims', '{"groups":["admins"],"aud":["sigstore","other"]}');
    assert.equal(claims(other).email, 'ops@example.com');
    assert.deepEqual(claims(other).groups, ['admins']);
    const id = await certify(sb.url, other, 'ops@example.com');
    assert.equal(id.chain.length, 3);
    const bad = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', dir, '--issuer-claims', '[1]'], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--issuer-claims must be a JSON object/);
    const busy = spawnSync(process.execPath, [BIN, 'sandbox', 'up', '--dir', dir, '--port', '0'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(busy.status, 1);
    assert.match(busy.stderr, /already running/);
  } finally {
    assert.equal(await sb.stop(), 0);
  }
});

test('a restart keeps the keys and the log; proofs stay valid and the log continues', async () => {
  const dir = newDir();
  let sb = await spawnSandbox(dir);
  const keysBefore = JSON.parse(readFileSync(`${dir}/trusted_root.json`, 'utf8')) as Record<string, { publicKey?: unknown; certChain?: unknown }[]>;
  const id = await certify(sb.url, token(dir), 'sandbox-user@example.com');
  const first: { id: string; e: EntryJson }[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await upload(sb.url, entryFor(id, Buffer.from(`before restart ${i}`)).entry);
    first.push({ id: r.id, e: r.value });
  }
  const before = await logInfo(sb.url);
  assert.equal(await sb.stop(), 0);

  sb = await spawnSandbox(dir);
  try {
    const keysAfter = JSON.parse(readFileSync(`${dir}/trusted_root.json`, 'utf8')) as typeof keysBefore;
    for (const k of ['tlogs', 'ctlogs', 'certificateAuthorities', 'timestampAuthorities']) {
      assert.deepEqual(keysAfter[k].map((x) => [x.publicKey, x.certChain]), keysBefore[k].map((x) => [x.publicKey, x.certChain]), k);
    }
    assert.deepEqual(await logInfo(sb.url), { ...before, ...(await logInfo(sb.url)), treeSize: 3, rootHash: before.rootHash });
    for (const { id: entryId, e } of first) {
      const got = (await (await fetch(`${sb.url}/api/v1/log/entries/${entryId}`)).json()) as Record<string, EntryJson>;
      assert.equal(got[entryId].body, e.body);
      assert.equal(got[entryId].logIndex, e.logIndex);
      assert.equal(got[entryId].integratedTime, e.integratedTime);
    }
    // The search index is rebuilt: the old certificate's entries are still found by key and by hash.
    const search = async (q: unknown): Promise<string[]> => (await (await postJson(`${sb.url}/api/v1/index/retrieve`, q)).json()) as string[];
    assert.deepEqual(await search({ publicKey: { format: 'x509', content: Buffer.from(id.leafPem).toString('base64') } }), first.map((f) => f.id));
    assert.deepEqual(await search({ email: 'sandbox-user@example.com' }), first.map((f) => f.id));
    assert.deepEqual(await search({ hash: createHash('sha256').update('before restart 1').digest('hex') }), [first[1].id]);
    // The log continues at index 3.
    const next = await upload(sb.url, entryFor(id, Buffer.from('after restart')).entry);
    assert.equal(next.value.logIndex, 3);
    const proof = (await (await fetch(`${sb.url}/api/v1/log/proof?firstSize=3&lastSize=4`)).json()) as { rootHash: string; hashes: string[] };
    assert.ok(verifyConsistency(3, 4, Buffer.from(before.rootHash, 'hex'), Buffer.from(proof.rootHash, 'hex'), proof.hashes.map((h) => Buffer.from(h, 'hex'))));
  } finally {
    assert.equal(await sb.stop(), 0);
  }
});

test('crash safety: SIGKILL during 50 uploads loses no acknowledged entry; a torn tail is cut, damage refuses to start', async (t) => {
  const dir = newDir();
  let sb = await spawnSandbox(dir);
  const id: Identity = await certify(sb.url, token(dir), 'sandbox-user@example.com');
  const acknowledged = new Map<string, number>();
  let killed = false;
  const uploads = Array.from({ length: 50 }, (_, i) =>
    upload(sb.url, entryFor(id, Buffer.from(`burst ${i}`)).entry).then(
      (r) => {
        if (r.status === 201) acknowledged.set(r.id, r.value.logIndex);
        if (acknowledged.size >= 10 && !killed) {
          killed = true;
          sb.proc.kill('SIGKILL');
        }
      },
      () => undefined, // connections cut by the kill
    ),
  );
  await Promise.all(uploads);
  await sb.stop('SIGKILL');
  t.diagnostic(`${acknowledged.size} of 50 uploads acknowledged before SIGKILL`);
  assert.ok(acknowledged.size >= 10);

  sb = await spawnSandbox(dir);
  let size: number;
  try {
    const info = await logInfo(sb.url);
    size = info.treeSize;
    assert.ok(size >= acknowledged.size);
    for (const [entryId, index] of acknowledged) {
      const res = await fetch(`${sb.url}/api/v1/log/entries/${entryId}`);
      assert.equal(res.status, 200, `acknowledged entry ${entryId} lost`);
      const e = ((await res.json()) as Record<string, EntryJson>)[entryId];
      assert.equal(e.logIndex, index);
      const p = e.verification.inclusionProof;
      const root = rootFromInclusionProof(p.logIndex, p.treeSize, leafHashOf(Buffer.from(e.body, 'base64')), p.hashes.map((h) => Buffer.from(h, 'hex')));
      assert.equal(root.toString('hex'), info.rootHash);
    }
  } finally {
    assert.equal(await sb.stop(), 0);
  }

  // A half-written record at the end (a crash inside write()) was never acknowledged: cut it, keep the rest.
  const logFile = `${dir}/rekor-entries.log`;
  appendFileSync(logFile, '{"i":' + size + ',"t":1,"b":"eyJhc');
  sb = await spawnSandbox(dir);
  try {
    assert.match(sb.stderr(), /cut \d+ bytes of an unfinished last record/);
    assert.equal((await logInfo(sb.url)).treeSize, size);
    assert.equal((await upload(sb.url, entryFor(id, Buffer.from('after repair')).entry)).value.logIndex, size);
  } finally {
    assert.equal(await sb.stop(), 0);
  }

  // Damage before the last record means acknowledged entries are gone: refuse rather than serve another log.
  const lines = readFileSync(logFile, 'utf8').split('\n');
  lines[1] = lines[1].replace(/"t":\d/, '"t":0');
  writeFileSync(logFile, lines.join('\n'));
  const r = spawnSync(process.execPath, [BIN, 'sandbox', 'up', '--dir', dir, '--port', '0'], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /damaged at record 1/);
});
