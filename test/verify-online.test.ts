/**
 * The online path, as gitsign's default rekorMode=online: no log entry in the signature, so the
 * verifier searches Rekor by certificate and accepts the hashedrekord over sha256(<object SHA>).
 * Everything here is independent of our signing code: openssl makes the CA, the certificate and the
 * CMS signature; the test serves a one-entry Rekor on 127.0.0.1 with its own log key.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, createPrivateKey, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { json } from '@sigstore/core';
import { TempRepo } from './helpers/gitRepo';
import { BIN } from './helpers/paths';
import { closedPort } from './helpers/offlineMirror';

const ISSUER = 'https://issuer.example.test';
const EMAIL = 'test@example.com';
let work: string;
let repo: TempRepo;
let server: Server;
let rekorUrl: string;
let trustedRoot: string;
let signedSha: string;
const entries = new Map<string, unknown>();
const hidden = new Set<string>();
let realEntry = '';
let requests: string[] = [];
/** When set, Rekor's answers drop the SET and move integratedTime: what an interceptor would send. */
let answerWithoutSet = false;
/** Requests being answered now, the most at once, and how long each answer waits. */
let answering = 0;
let mostAtOnce = 0;
let answerDelayMs = 0;

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function hex(s: string): string {
  return Buffer.from(s).toString('hex');
}

/** A Fulcio-shaped CA and leaf, by openssl (the issuer extension holds the raw URL, as Fulcio's 1.1). */
function makeCertificates(dir: string): void {
  writeFileSync(join(dir, 'leaf.ext'), [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=codeSigning',
    `subjectAltName=critical,email:${EMAIL}`,
    `1.3.6.1.4.1.57264.1.1=DER:${hex(ISSUER)}`,
    'subjectKeyIdentifier=hash',
    'authorityKeyIdentifier=keyid',
  ].join('\n'));
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
  openssl(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/O=test/CN=test-root', '-days', '3650', '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'leaf.key'], dir);
  openssl(['req', '-new', '-key', 'leaf.key', '-subj', '/', '-out', 'leaf.csr'], dir);
  openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'leaf.ext', '-out', 'leaf.pem'], dir);
}

function pemBody(pem: string): string {
  return pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, '');
}

before(() => {
  work = mkdtempSync(join(tmpdir(), 'gitsign-online-'));
  makeCertificates(work);
  repo = new TempRepo();
  repo.git('commit', '--allow-empty', '-q', '-m', 'signed online');
  const payload = execFileSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repo.dir, env: repo.env });
  writeFileSync(join(work, 'payload'), payload);
  openssl(['cms', '-sign', '-binary', '-nosmimecap', '-md', 'sha256', '-in', 'payload', '-signer', 'leaf.pem', '-inkey', 'leaf.key', '-outform', 'PEM', '-out', 'sig.pem'], work);
  const sig = readFileSync(join(work, 'sig.pem'), 'utf8').replace(/-----(BEGIN|END) CMS-----/g, '-----$1 SIGNED MESSAGE-----').trim();
  const header = `gpgsig ${sig.split('\n').join('\n ')}\n`;
  const text = payload.toString('latin1');
  const at = text.indexOf('\n\n') + 1;
  signedSha = repo.importBytes(Buffer.from(text.slice(0, at) + header + text.slice(at), 'latin1'), 'commit');

  // The log: its key, and one hashedrekord entry over sha256("<sha>") signed by the leaf key.
  const logKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = logKey.publicKey.export({ type: 'spki', format: 'der' });
  const logId = createHash('sha256').update(spki).digest();
  const leafPem = readFileSync(join(work, 'leaf.pem'), 'utf8');
  const leafKey = createPrivateKey(readFileSync(join(work, 'leaf.key')));
  const makeEntry = (message: string): string => {
    const body = Buffer.from(json.canonicalize({
      apiVersion: '0.0.1',
      kind: 'hashedrekord',
      spec: {
        data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(message).digest('hex') } },
        signature: {
          content: sign('sha256', Buffer.from(message), leafKey).toString('base64'),
          publicKey: { content: Buffer.from(`-----BEGIN CERTIFICATE-----\n${pemBody(leafPem).match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`).toString('base64') },
        },
      },
    }));
    const uuid = createHash('sha256').update(Buffer.from([0])).update(body).digest('hex');
    const integratedTime = Math.floor(Date.now() / 1000);
    const set = sign('sha256', Buffer.from(json.canonicalize({ body: body.toString('base64'), integratedTime, logID: logId.toString('hex'), logIndex: 0 })), logKey.privateKey);
    const note = `127.0.0.1 - 1\n1\n${Buffer.from(uuid, 'hex').toString('base64')}\n`;
    const noteSig = Buffer.concat([logId.subarray(0, 4), sign('sha256', Buffer.from(note), logKey.privateKey)]);
    entries.set(uuid, {
      body: body.toString('base64'),
      integratedTime,
      logID: logId.toString('hex'),
      logIndex: 0,
      verification: {
        signedEntryTimestamp: set.toString('base64'),
        inclusionProof: { checkpoint: `${note}\n\u2014 127.0.0.1 ${noteSig.toString('base64')}\n`, hashes: [], logIndex: 0, rootHash: uuid, treeSize: 1 },
      },
    });
    return uuid;
  };
  realEntry = makeEntry(signedSha);
  makeEntry('0'.repeat(40)); // the same certificate signed another object too
  trustedRoot = join(work, 'trusted_root.json');
  return new Promise<void>((resolve) => {
    server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      mostAtOnce = Math.max(mostAtOnce, ++answering);
      res.on('close', () => answering--);
      let data = '';
      req.on('data', (c) => (data += c));
      req.on('end', () => setTimeout(() => {
        res.setHeader('Content-Type', 'application/json');
        if (req.method === 'POST' && req.url === '/api/v1/index/retrieve') {
          const want = (JSON.parse(data) as { publicKey: { content: string } }).publicKey.content;
          const hits = [...entries].filter(([u, e]) => {
            if (hidden.has(u)) return false;
            const b = JSON.parse(Buffer.from((e as { body: string }).body, 'base64').toString()) as { spec: { signature: { publicKey: { content: string } } } };
            return b.spec.signature.publicKey.content === want;
          });
          res.end(JSON.stringify(hits.map(([u]) => `24296fb24b8ad77a${u}`)));
          return;
        }
        const m = /^\/api\/v1\/log\/entries\/(?:[0-9a-f]{16})?([0-9a-f]{64})$/.exec(req.url ?? '');
        if (req.method === 'GET' && m && entries.has(m[1])) {
          const entry = structuredClone(entries.get(m[1])) as { integratedTime: number; verification: { signedEntryTimestamp?: string } };
          if (answerWithoutSet) {
            delete entry.verification.signedEntryTimestamp;
            entry.integratedTime -= 365 * 86400;
          }
          res.end(JSON.stringify({ [`24296fb24b8ad77a${m[1]}`]: entry }));
          return;
        }
        res.statusCode = 404;
        res.end(JSON.stringify({ code: 404, message: 'not found' }));
      }, answerDelayMs));
    });
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      rekorUrl = `http://127.0.0.1:${port}`;
      writeFileSync(trustedRoot, JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
        tlogs: [{ baseUrl: rekorUrl, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } }, logId: { keyId: logId.toString('base64') } }],
        certificateAuthorities: [{ subject: { organization: 'test', commonName: 'test-root' }, uri: 'https://ca.example.test', certChain: { certificates: [{ rawBytes: pemBody(readFileSync(join(work, 'ca.pem'), 'utf8')) }] }, validFor: { start: '2020-01-01T00:00:00Z' } }],
        ctlogs: [],
        timestampAuthorities: [],
      }));
      resolve();
    });
  });
});

after(() => {
  server?.close();
  repo?.remove();
  rmSync(work, { recursive: true, force: true });
});

/** gitsign run asynchronously: the Rekor above lives in this process and must keep answering. */
function gitsign(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: repo.dir, env: { ...repo.env, ...env } }, (err, stdout, stderr) => {
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

const IDENTITY = ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', ISSUER, '--insecure-ignore-sct'];

test('online: the entry is found through the search API and verified (SET, proof, checkpoint, signature over the SHA)', async () => {
  requests = [];
  const r = await gitsign(['verify', '--json', '--trusted-root', trustedRoot, ...IDENTITY, signedSha], { GITSIGN_REKOR_URL: rekorUrl });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const out = JSON.parse(r.stdout) as { verified: boolean; tlog: { source: string; logIndex: number } };
  assert.equal(out.verified, true);
  assert.equal(out.tlog.source, 'online');
  assert.equal(out.tlog.logIndex, 0);
  // One search by certificate, then entries fetched by UUID until the one over this object's SHA.
  const shapes = requests.map((q) => q.replace(/[0-9a-f]{64,}/, 'UUID'));
  assert.equal(shapes[0], 'POST /api/v1/index/retrieve');
  assert.ok(shapes.length >= 2 && shapes.slice(1).every((q) => q === 'GET /api/v1/log/entries/UUID'), shapes.join(', '));
});

test('online, many objects at once (--stdin): a few Rekor lookups at a time, every object verified', async () => {
  requests = [];
  mostAtOnce = 0;
  answerDelayMs = 30;
  try {
    const r = await gitsign(['verify', '--json', '--stdin', '--trusted-root', trustedRoot, ...IDENTITY], { GITSIGN_REKOR_URL: rekorUrl }, `${Array(24).fill(signedSha).join('\n')}\n`);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.equal(r.stdout.trim().split('\n').filter((l) => (JSON.parse(l) as { verified: boolean }).verified).length, 24);
  } finally {
    answerDelayMs = 0;
  }
  // verify keeps 64 objects in flight; Rekor sees at most MAX_LOOKUPS (4) searches and fetches at once.
  assert.ok(mostAtOnce >= 2 && mostAtOnce <= 4, `${mostAtOnce} requests at once`);
});

test('online: --offline makes no request and fails for want of a log entry', async () => {
  requests = [];
  const r = await gitsign(['verify', '--json', '--offline', '--trusted-root', trustedRoot, ...IDENTITY, signedSha], { GITSIGN_REKOR_URL: rekorUrl });
  assert.equal(r.status, 1);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'TLOG_MISSING');
  assert.deepEqual(requests, []);
});

test('online: a Rekor that has no entry for the object is TLOG_MISSING', async () => {
  hidden.add(realEntry);
  const r = await gitsign(['verify', '--json', '--trusted-root', trustedRoot, ...IDENTITY, signedSha], { GITSIGN_REKOR_URL: rekorUrl });
  hidden.delete(realEntry);
  assert.equal(r.status, 1);
  const out = JSON.parse(r.stdout) as { error: { code: string; message: string } };
  assert.equal(out.error.code, 'TLOG_MISSING');
});

test('online: an unreachable Rekor is a clear one-line network error', async () => {
  const port = await closedPort();
  const r = await gitsign(['verify', '--trusted-root', trustedRoot, ...IDENTITY, signedSha], { GITSIGN_REKOR_URL: `http://127.0.0.1:${port}` });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^gitsign: commit [0-9a-f]{40}: searching Rekor: cannot reach Rekor at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): nothing listens [^\n]*gitsign sandbox status[^\n]*\n$/);
});

test('online: without --insecure-ignore-sct an SCT-less certificate fails with an SCT error, after the log checked out', async () => {
  const r = await gitsign(['verify', '--json', '--trusted-root', trustedRoot, '--certificate-identity', EMAIL, '--certificate-oidc-issuer', ISSUER, signedSha], { GITSIGN_REKOR_URL: rekorUrl });
  assert.equal(r.status, 1);
  assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'SCT');
});

test('finding 1: online: an answer without SET (integratedTime chosen by whoever answered) is UNATTESTED_TIME, never verified', async () => {
  answerWithoutSet = true;
  const r = await gitsign(['verify', '--json', '--trusted-root', trustedRoot, ...IDENTITY, signedSha], { GITSIGN_REKOR_URL: rekorUrl });
  answerWithoutSet = false;
  assert.equal(r.status, 1, r.stdout);
  const out = JSON.parse(r.stdout) as { verified: boolean; error: { code: string; message: string } };
  assert.equal(out.verified, false);
  assert.equal(out.error.code, 'UNATTESTED_TIME');
});
