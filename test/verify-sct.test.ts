/**
 * `gitsign verify --sct FILE`: a certificate without an embedded SCT, verified with the detached SCT
 * Fulcio handed out beside it (our sandbox acting as a Fulcio whose CA cannot embed SCTs, through its
 * real v2 and v1 APIs), and every way such a file can be wrong. Also the hidden cosign leftovers
 * --ca-roots and --ca-intermediates, which the Go gitsign accepts and ignores.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodePemAll, encodePem } from '../src/cms/pem';
import type { GitsignError } from '../src/errors';
import { joinSignature } from '../src/git/objectHash';
import { mintIdToken } from '../src/sandbox/oidc/token';
import { startSandbox, type RunningSandbox } from '../src/sandbox/server';
import { readMaterial } from '../src/sandbox/state/material';
import { CtLog } from '../src/sandbox/fulcio/ctlog';
import type { Credential } from '../src/sign/credential';
import { signPayload } from '../src/sign/signature';
import { loadTrust } from '../src/trust/trustMaterial';
import { parseDetachedSct } from '../src/verify/detachedSct';
import { verifySct } from '../src/verify/sct';
import { Certificate } from '../src/x509/certificate';
import { TempRepo } from './helpers/gitRepo';
import { closedAtEnd } from './helpers/processes';
import { TestPki } from './helpers/testPki';
import { removeDir, startInProcess, tempDir, type InProcess } from './sandbox/support';

const SUBJECT = 'test@example.com';
const HTTP_BOUND_MS = 15_000;

interface Issued {
  credential: Credential;
  /** The v2 answer's signedCertificateTimestamp, decoded: the add-chain JSON cosign's --sct reads. */
  sctJson?: string;
}

/**
 * fetch, asked again once when a kept-alive connection was reset as it was reused: the client's race with
 * the server's keep-alive timeout (seen under load), not an answer of the server.
 */
async function fetchReused(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
    if ((err as { cause?: { code?: string } }).cause?.code !== 'ECONNRESET') throw err;
    return fetch(url, init);
  }
}

/** A certificate for a fresh key from the sandbox's Fulcio v2 API, as any Fulcio client asks for one. */
async function fulcioV2(url: string, token: string): Promise<Issued & { answer: Record<string, unknown> }> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await fetchReused(`${url}/api/v2/signingCert`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: publicKey.export({ type: 'spki', format: 'pem' }) }, proofOfPossession: sign('sha256', Buffer.from(SUBJECT), privateKey).toString('base64') },
    }),
    signal: AbortSignal.timeout(HTTP_BOUND_MS),
  });
  assert.equal(res.status, 200);
  const answer = (await res.json()) as Record<string, unknown>;
  const signed = (answer.signedCertificateDetachedSct ?? answer.signedCertificateEmbeddedSct) as { chain: { certificates: string[] }; signedCertificateTimestamp?: string };
  const chain = signed.chain.certificates.flatMap((p) => decodePemAll(p, 'CERTIFICATE'));
  const credential = { privateKey, certificate: new Certificate(chain[0]), chain: chain.slice(1) };
  const sctJson = signed.signedCertificateTimestamp ? Buffer.from(signed.signedCertificateTimestamp, 'base64').toString('utf8') : undefined;
  return { credential, sctJson, answer };
}

/** One sandbox, its repository, and objects signed with its certificates (logged in its Rekor). */
class Signer {
  readonly repo = new TempRepo();
  constructor(
    readonly sb: RunningSandbox,
    readonly token: string,
  ) {}

  async commit(credential: Credential, message: string): Promise<string> {
    const unsigned = this.repo.git('commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', message).trim();
    const payload = execFileSync('git', ['cat-file', 'commit', unsigned], { cwd: this.repo.dir, env: this.repo.env });
    return this.repo.importBytes(joinSignature('commit', payload, await this.signature(payload, credential)), 'commit');
  }

  async tag(credential: Credential, name: string, target: string): Promise<void> {
    const payload = Buffer.from(`object ${target}\ntype commit\ntag ${name}\ntagger Test <${SUBJECT}> 1700000000 +0000\n\nrelease\n`);
    const sha = this.repo.importBytes(joinSignature('tag', payload, await this.signature(payload, credential)), 'tag');
    this.repo.git('update-ref', `refs/tags/${name}`, sha);
  }

  private async signature(payload: Buffer, credential: Credential): Promise<Buffer> {
    const trust = await loadTrust({ trustedRootPath: this.sb.paths.trustedRoot, offline: true });
    const { armored } = await signPayload(payload, credential, { rekorUrl: this.sb.url, rekorMode: 'offline', trust: trust.material, detached: true, say: () => undefined });
    return Buffer.from(armored);
  }

  file(name: string, text: string | Buffer): string {
    const path = join(this.repo.dir, name);
    writeFileSync(path, text);
    return path;
  }

  /** `gitsign verify --json` (offline, against the sandbox's trusted root) and its first report. */
  verify(args: string[], opts: { trustedRoot?: string; input?: string; command?: string } = {}): { status: number | null; report: { verified: boolean; sctChecked: boolean; error?: { code: string; message: string } }; stdout: string; stderr: string } {
    const identity = ['--certificate-identity', SUBJECT, '--certificate-oidc-issuer', this.sb.issuer];
    const r = this.repo.gitsign([opts.command ?? 'verify', '--json', '--offline', '--trusted-root', opts.trustedRoot ?? this.sb.paths.trustedRoot, ...identity, ...args], opts.input);
    const line = r.stdout.split('\n')[0];
    return { status: r.status, report: line ? JSON.parse(line) : { verified: false, sctChecked: false }, stdout: r.stdout, stderr: r.stderr };
  }
}

/** The add-chain JSON with `change` applied. */
function edited(json: string, change: (o: Record<string, unknown>) => void): string {
  const o = JSON.parse(json) as Record<string, unknown>;
  change(o);
  return JSON.stringify(o);
}

let dir: string;
let detached: Signer;
let embedded: InProcess;
let embeddedSigner: Signer;
/** A commit whose certificate has no embedded SCT, and the SCT Fulcio gave out for it. */
let issued: Issued;
let sha: string;

before(async () => {
  dir = tempDir();
  const sb = await startSandbox({ dir, port: 0, fulcioSct: 'detached' });
  sb.close = closedAtEnd(sb.close.bind(sb));
  const material = readMaterial(sb.paths.keys)!;
  detached = new Signer(sb, mintIdToken({ issuer: sb.issuer, subject: SUBJECT }, material.oidc.key, material.oidc.kid));
  issued = await fulcioV2(sb.url, detached.token);
  sha = await detached.commit(issued.credential, 'signed with a detached-SCT certificate');
  embedded = await startInProcess();
  embeddedSigner = new Signer(embedded.sb, embedded.token(SUBJECT));
});

after(async () => {
  await detached?.sb.close();
  await embedded?.sb.close();
  detached?.repo.remove();
  embeddedSigner?.repo.remove();
  removeDir(dir);
  if (embedded) removeDir(embedded.dir);
});

describe('the sandbox Fulcio as a CA that cannot embed SCTs', () => {
  test('v2 answers signedCertificateDetachedSct: a certificate without an SCT list, and the add-chain JSON for it', async () => {
    const { answer, credential, sctJson } = await fulcioV2(detached.sb.url, detached.token);
    assert.deepEqual(Object.keys(answer), ['signedCertificateDetachedSct']);
    assert.equal(credential.certificate.extensions.scts.length, 0);
    assert.ok(!credential.certificate.extensions.list.some((e) => e.oid === '1.3.6.1.4.1.11129.2.4.2'));
    assert.deepEqual(Object.keys(JSON.parse(sctJson!)), ['sct_version', 'id', 'timestamp', 'extensions', 'signature']);
  });

  test('v1 answers the same SCT in its SCT header (base64 of the JSON), which verifies over the certificate', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const res = await fetchReused(`${detached.sb.url}/api/v1/signingCert`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${detached.token}` },
      body: JSON.stringify({ publicKey: { content: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), algorithm: 'ecdsa' }, signedEmailAddress: sign('sha256', Buffer.from(SUBJECT), privateKey).toString('base64') }),
      signal: AbortSignal.timeout(HTTP_BOUND_MS),
    });
    assert.equal(res.status, 201);
    const leaf = decodePemAll(await res.text(), 'CERTIFICATE')[0];
    const sct = parseDetachedSct(Buffer.from(res.headers.get('sct') ?? '', 'base64').toString('utf8'));
    const trust = await loadTrust({ trustedRootPath: detached.sb.paths.trustedRoot, offline: true });
    verifySct(sct, { type: 'x509', certificate: leaf }, trust.material.ctlogs, 'SCT');
    assert.throws(() => verifySct(sct, { type: 'x509', certificate: issued.credential.certificate.der }, trust.material.ctlogs, 'SCT'), { code: 'SCT' });
  });
});

describe('gitsign verify --sct', () => {
  test('without --sct, a certificate with no embedded SCT is refused (SCT)', () => {
    const r = detached.verify([sha]);
    assert.equal(r.status, 1);
    assert.equal(r.report.error?.code, 'SCT');
    assert.match(r.report.error!.message, /no embedded SCT.*--sct FILE/);
  });

  test('with the detached SCT Fulcio gave for the certificate, the commit verifies and the SCT counts as checked', () => {
    const r = detached.verify(['--sct', detached.file('good.sct', issued.sctJson!), sha]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.report.verified, true);
    assert.equal(r.report.sctChecked, true);
  });

  test('verify-tag takes --sct too', async () => {
    await detached.tag(issued.credential, 'v1', sha);
    const good = detached.verify(['--sct', detached.file('tag.sct', issued.sctJson!), 'v1'], { command: 'verify-tag' });
    assert.equal(good.status, 0, good.stderr);
    assert.equal(good.report.sctChecked, true);
    assert.equal(detached.verify(['v1'], { command: 'verify-tag' }).report.error?.code, 'SCT');
  });

  test('many objects at once (--stdin) are checked against the detached SCT too', () => {
    const r = detached.verify(['--sct', detached.file('stdin.sct', issued.sctJson!), '--stdin'], { input: `${sha}\n` });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.report.sctChecked, true);
  });

  test('an SCT signed by a CT log the trusted root does not list is refused (SCT)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rogue = new CtLog(privateKey, publicKey).signCertificate(issued.credential.certificate.der, Date.now());
    const r = detached.verify(['--sct', detached.file('rogue-log.sct', JSON.stringify(rogue)), sha]);
    assert.equal(r.status, 1);
    assert.equal(r.report.error?.code, 'SCT');
    assert.match(r.report.error!.message, /no CT log of the trusted root has its log ID/);
  });

  test("an SCT that names the trusted log but is signed by another key is refused (SCT)", () => {
    const material = readMaterial(detached.sb.paths.keys)!;
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = new CtLog(privateKey, material.ctlog.pub).signCertificate(issued.credential.certificate.der, Date.now());
    const r = detached.verify(['--sct', detached.file('forged.sct', JSON.stringify(forged)), sha]);
    assert.equal(r.report.error?.code, 'SCT');
    assert.match(r.report.error!.message, /SCT from --sct does not verify: its signature does not verify with the key of CT log/);
  });

  test('a tampered signature, or a changed timestamp, is refused (SCT)', () => {
    const tampered = edited(issued.sctJson!, (o) => {
      const sig = Buffer.from(o.signature as string, 'base64');
      sig[sig.length - 1] ^= 0x01;
      o.signature = sig.toString('base64');
    });
    const moved = edited(issued.sctJson!, (o) => (o.timestamp = (o.timestamp as number) + 1));
    for (const [name, text] of [['tampered.sct', tampered], ['moved.sct', moved]]) {
      const r = detached.verify(['--sct', detached.file(name, text), sha]);
      assert.equal(r.report.error?.code, 'SCT', name);
      assert.match(r.report.error!.message, /its signature does not verify/, name);
    }
  });

  test("another certificate's SCT is refused (SCT)", async () => {
    const other = await fulcioV2(detached.sb.url, detached.token);
    const r = detached.verify(['--sct', detached.file('other.sct', other.sctJson!), sha]);
    assert.equal(r.status, 1);
    assert.equal(r.report.error?.code, 'SCT');
  });

  test('an SCT from a time the CT log was not valid is refused (SCT)', () => {
    const root = JSON.parse(readFileSync(detached.sb.paths.trustedRoot, 'utf8')) as { ctlogs: { publicKey: { validFor: { start: string; end?: string } } }[] };
    for (const log of root.ctlogs) log.publicKey.validFor = { start: '2000-01-01T00:00:00Z', end: '2001-01-01T00:00:00Z' };
    const trustedRoot = detached.file('ct-expired-root.json', JSON.stringify(root));
    const r = detached.verify(['--sct', detached.file('expired.sct', issued.sctJson!), sha], { trustedRoot });
    assert.equal(r.report.error?.code, 'SCT');
    assert.match(r.report.error!.message, /was not valid at its time/);
  });

  test('a file that is not an add-chain response is refused before any object, with MALFORMED_SCT and one sentence', () => {
    const files: [string, string | Buffer, RegExp][] = [
      ['garbage.sct', 'not json at all', /it is not JSON/],
      ['binary.sct', Buffer.from([0x7b, 0xff, 0xfe, 0x00]), /it is not UTF-8 text/],
      ['array.sct', '[]', /it is not a JSON object/],
      ['empty.sct', '', /it is not JSON/],
    ];
    for (const [name, content, why] of files) {
      const r = detached.verify(['--sct', detached.file(name, content), sha]);
      assert.equal(r.status, 1, name);
      assert.equal(r.stdout, '', name);
      assert.match(r.stderr, /^gitsign: the --sct file is not an RFC 6962 add-chain response: [^\n]+\n$/, name);
      assert.match(r.stderr, why, name);
    }
  });

  test('a missing --sct file is a usage error naming it; an empty --sct is no file, as in Go', () => {
    const missing = detached.repo.gitsign(['verify', '--offline', '--trusted-root', detached.sb.paths.trustedRoot, '--sct', join(detached.repo.dir, 'absent.sct'), sha]);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /^gitsign: cannot read the --sct file ".*absent\.sct": ENOENT\n$/);
    assert.equal(detached.verify(['--sct', '', sha]).report.error?.code, 'SCT');
  });

  test('a file larger than any SCT is refused unread as MALFORMED_SCT', () => {
    const r = detached.verify(['--sct', detached.file('huge.sct', ' '.repeat(65 * 1024) + issued.sctJson!), sha]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--sct file is not an RFC 6962 add-chain response: it is larger than 65536 bytes/);
  });

  test('an embedded SCT stays what is checked: an unrelated detached SCT neither breaks nor replaces it', async () => {
    const own = await fulcioV2(embedded.sb.url, embeddedSigner.token);
    assert.ok(own.credential.certificate.extensions.scts.length > 0);
    const embeddedSha = await embeddedSigner.commit(own.credential, 'embedded SCT');
    const r = embeddedSigner.verify(['--sct', embeddedSigner.file('unrelated.sct', issued.sctJson!), embeddedSha]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.report.sctChecked, true);
  });

  test('--insecure-ignore-sct skips the SCT check even with --sct', () => {
    const r = detached.verify(['--insecure-ignore-sct', '--sct', detached.file('ignored.sct', issued.sctJson!), sha]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.report.sctChecked, false);
  });
});

describe('the add-chain JSON is read strictly', () => {
  const valid = (): Record<string, unknown> => JSON.parse(issued.sctJson!) as Record<string, unknown>;
  const cases: [string, (o: Record<string, unknown>) => unknown, RegExp][] = [
    ['a member missing', (o) => delete o.signature, /has no "signature"/],
    ['an unknown member', (o) => (o.sct = 1), /member "sct" that an add-chain response does not/],
    ['a __proto__ member', (o) => Object.defineProperty(o, '__proto__', { value: 1, enumerable: true }), /member "__proto__"/],
    ['sct_version 1 (SCT version 2)', (o) => (o.sct_version = 1), /"sct_version" is not 0/],
    ['the version as a string', (o) => (o.sct_version = '0'), /"sct_version" is not 0/],
    ['a negative timestamp', (o) => (o.timestamp = -1), /"timestamp" is not a whole number/],
    ['a fractional timestamp', (o) => (o.timestamp = 1.5), /"timestamp" is not a whole number/],
    ['a timestamp beyond 2^53', (o) => (o.timestamp = 2 ** 60), /"timestamp" is not a whole number/],
    ['a timestamp no date can hold', (o) => (o.timestamp = 9e15), /"timestamp": its timestamp is no possible time/],
    ['a 31-byte log ID', (o) => (o.id = Buffer.alloc(31).toString('base64')), /"id" has 31 bytes/],
    ['an ID in URL-safe base64', (o) => (o.id = Buffer.alloc(32, 0xfb).toString('base64url')), /"id" is not standard padded base64/],
    ['an ID as a number', (o) => (o.id = 5), /"id" is not a base64 string/],
    ['extensions that are not base64', (o) => (o.extensions = 'This is not Base64'), /"extensions" is not standard padded base64/],
    ['a signature with trailing bytes', (o) => (o.signature = Buffer.concat([Buffer.from(o.signature as string, 'base64'), Buffer.from([0])]).toString('base64')), /"signature" is not a TLS DigitallySigned: it has 1 bytes after its end/],
    ['a truncated signature', (o) => (o.signature = Buffer.from(o.signature as string, 'base64').subarray(0, 10).toString('base64')), /"signature" is not a TLS DigitallySigned: signature is truncated/],
    ['an empty signature', (o) => (o.signature = ''), /"signature" is not a TLS DigitallySigned: hash algorithm is truncated/],
  ];
  for (const [name, change, message] of cases) {
    test(`${name}: MALFORMED_SCT`, () => {
      const o = valid();
      change(o);
      assert.throws(() => parseDetachedSct(JSON.stringify(o)), (err: GitsignError) => {
        assert.equal(err.code, 'MALFORMED_SCT');
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /\n/);
        return true;
      });
    });
  }

  test('an unsupported hash or signature algorithm parses, and is refused by the check (SCT)', async () => {
    const trust = await loadTrust({ trustedRootPath: detached.sb.paths.trustedRoot, offline: true });
    const entry = { type: 'x509' as const, certificate: issued.credential.certificate.der };
    for (const [byte, value, message] of [[0, 2, /hash algorithm 2 is not SHA-256/], [1, 7, /signature algorithm 7 is not ECDSA or RSA/]] as const) {
      const o = valid();
      const sig = Buffer.from(o.signature as string, 'base64');
      sig[byte] = value;
      o.signature = sig.toString('base64');
      assert.throws(() => verifySct(parseDetachedSct(JSON.stringify(o)), entry, trust.material.ctlogs, 'SCT from --sct'), (err: GitsignError) => err.code === 'SCT' && message.test(err.message));
    }
  });
});

describe('--ca-roots and --ca-intermediates (hidden; accepted and ignored, as by the Go gitsign)', () => {
  test('they are accepted, change nothing, and one note per flag says they are ignored', () => {
    const pki = new TestPki();
    const bundle = detached.file('rogue-ca.pem', encodePem('CERTIFICATE', pki.root.der));
    const r = detached.verify(['--sct', detached.file('ca.sct', issued.sctJson!), '--ca-roots', bundle, '--ca-intermediates', join(detached.repo.dir, 'no-such.pem'), sha]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.report.verified, true);
    assert.match(r.stderr, /^gitsign: --ca-roots is ignored, as by gitsign: the Fulcio CAs come from the trusted root [^\n]+\ngitsign: --ca-intermediates is ignored[^\n]+\n$/);
  });

  test('a certificate whose CA is only in --ca-roots is still refused: the chain is checked against the trusted root', () => {
    const root = JSON.parse(readFileSync(detached.sb.paths.trustedRoot, 'utf8')) as { certificateAuthorities: { certChain: { certificates: { rawBytes: string }[] } }[] };
    const pki = new TestPki();
    for (const ca of root.certificateAuthorities) ca.certChain.certificates = [{ rawBytes: pki.root.der.toString('base64') }];
    const trustedRoot = detached.file('other-ca-root.json', JSON.stringify(root));
    const sandboxCas = readFileSync(detached.sb.paths.fulcioChain, 'utf8');
    const r = detached.verify(['--sct', detached.file('ca2.sct', issued.sctJson!), '--ca-roots', detached.file('sandbox-cas.pem', sandboxCas), sha], { trustedRoot });
    assert.equal(r.status, 1);
    assert.equal(r.report.error?.code, 'CERTIFICATE');
  });

  test('--sct, --ca-roots and --ca-intermediates are not in the help of verify and verify-tag, and verify-attestation refuses them', () => {
    for (const command of ['verify', 'verify-tag']) {
      const help = detached.repo.gitsign([command, '--help']).stdout;
      assert.match(help, /--insecure-ignore-sct/);
      assert.doesNotMatch(help, /--sct\b|--ca-roots|--ca-intermediates/, command);
    }
    const r = detached.repo.gitsign(['verify-attestation', '--sct', 'x.sct']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown option "--sct" for gitsign verify-attestation/);
  });
});
