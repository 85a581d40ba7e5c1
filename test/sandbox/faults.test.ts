/**
 * The sandbox's hostile mode (`gitsign sandbox up --fault KIND`): for every kind, signing through real
 * git refuses (git gets nothing, HEAD and index unchanged, nothing on gitsign's stdout, one clear line on
 * its stderr) and verifying refuses (BADSIG/ERRSIG on git's status path, `gitsign verify --json` gives
 * verified: false with the kind's error code).
 *
 * One sandbox state and one repository serve all kinds: two commits are signed while the sandbox is
 * healthy (online and offline Rekor mode, no timestamp, so the SET is the only time source), then the
 * same state is restarted with each fault. Rekor faults are verified through the faulty search answers
 * (the online commit) and as embedded entries (the offline commit's signature re-embedding the faulty
 * answer); Fulcio and TSA faults through a signature built with the faulty certificate or token. The
 * sandbox runs in this process, so every command that reaches it runs asynchronously.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Der } from '../../src/asn1/reader';
import { algorithm, bool, int, octets, seq } from '../../src/asn1/writer';
import { buildSignedData, signedAttributes, type UnsignedAttribute } from '../../src/cms/build';
import { OID } from '../../src/cms/oids';
import { decodePem, encodePem } from '../../src/cms/pem';
import { parseSignedData } from '../../src/cms/signedData';
import { requestCertificate } from '../../src/fulcio/client';
import { joinSignature } from '../../src/git/objectHash';
import { splitCommit } from '../../src/git/rawobj';
import { createEntry, getEntry, toLogEntry } from '../../src/rekor/client';
import { canonicalBody, entryUuid, hashedRekord } from '../../src/rekor/hashedrekord';
import { encodeLogEntry, type LogEntry } from '../../src/rekor/tlogEntry';
import type { GitsignError } from '../../src/errors';
import { KINDS, parseFaults, type FaultKind } from '../../src/sandbox/faults/kinds';
import { mintIdToken } from '../../src/sandbox/oidc/token';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';
import { readMaterial } from '../../src/sandbox/state/material';
import type { TempRepo } from '../helpers/gitRepo';
import { BIN } from '../helpers/paths';
import { readSandboxEnv, signingRepo } from '../helpers/signingSandbox';
import { removeDir, spawnSandbox, tempDir } from './support';

const EMAIL = 'test@example.com'; // TempRepo's committer
/** Any one command; a hang fails the test instead of holding it. */
const BOUND_MS = 45_000;
/** slow-drip waits for the client's own deadline: longer than that is no deadline a user waits for. */
const SLOW_DRIP_BOUND_MS = 60_000;

interface Ran {
  status: number | null;
  stdout: Buffer;
  stderr: string;
  timedOut: boolean;
}

/** A command in its own process group, killed whole (with the gitsign git started) past its bound. */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; boundMs?: number }): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, opts.boundMs ?? BOUND_MS);
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), timedOut });
    });
  });
}

/**
 * A sandbox state directory, its in-process sandbox (restarted on the same port with other faults),
 * a repository signing with it (no timestamp unless asked) and gitsign behind a wrapper that records
 * what gitsign writes to git.
 */
class Lab {
  readonly dir = tempDir();
  sb!: RunningSandbox;
  repo!: TempRepo;
  token!: string;
  private readonly capture = join(this.dir, 'capture');
  readonly wrapper = join(this.dir, 'gitsign-recorded');

  async start(faults?: string): Promise<void> {
    const port = this.sb?.port ?? 0;
    await this.sb?.close();
    this.sb = await startSandbox({ dir: this.dir, port, faults: parseFaults(faults) });
  }

  static async open(): Promise<Lab> {
    const lab = new Lab();
    await lab.start();
    const material = readMaterial(lab.sb.paths.keys)!;
    lab.token = mintIdToken({ issuer: lab.sb.issuer, subject: EMAIL }, material.oidc.key, material.oidc.kid);
    lab.repo = signingRepo({ ...readSandboxEnv(lab.dir), SIGSTORE_ID_TOKEN: lab.token, GITSIGN_TIMESTAMP_SERVER_URL: '' });
    mkdirSync(lab.capture);
    writeFileSync(
      lab.wrapper,
      `#!/bin/sh\n"${process.execPath}" "${BIN}" "$@" >"${lab.capture}/out" 2>"${lab.capture}/err"\nrc=$?\ncat "${lab.capture}/out"\ncat "${lab.capture}/err" >&2\nexit $rc\n`,
    );
    chmodSync(lab.wrapper, 0o755);
    return lab;
  }

  get url(): string {
    return this.sb.url;
  }

  get tsaEnv(): NodeJS.ProcessEnv {
    return { GITSIGN_TIMESTAMP_SERVER_URL: `${this.url}/api/v1/timestamp` };
  }

  async close(): Promise<void> {
    await this.sb?.close();
    this.repo?.remove();
    removeDir(this.dir);
  }

  async signedCommit(mode: 'online' | 'offline'): Promise<string> {
    const r = await run('git', ['commit', '--allow-empty', '-S', '-q', '-m', `signed while healthy, ${mode}`], { cwd: this.repo.dir, env: { ...this.repo.env, GITSIGN_REKOR_MODE: mode } });
    assert.equal(r.status, 0, r.stderr);
    return this.repo.git('rev-parse', 'HEAD').trim();
  }

  /** `git commit -S` fails, leaves the repository as it was, and gitsign wrote nothing to stdout and one line to stderr. */
  async signingRefuses(expected: RegExp, env: NodeJS.ProcessEnv = {}, boundMs = BOUND_MS): Promise<void> {
    const repo = this.repo;
    writeFileSync(join(repo.dir, 'work.txt'), `${Date.now()} ${Math.random()}\n`);
    repo.git('add', 'work.txt');
    const head = repo.git('rev-parse', 'HEAD');
    const status = repo.git('status', '--porcelain');
    rmSync(join(this.capture, 'out'), { force: true });
    rmSync(join(this.capture, 'err'), { force: true });
    const r = await run('git', ['-c', `gpg.x509.program=${this.wrapper}`, 'commit', '-S', '-q', '-m', 'must not be made'], {
      cwd: repo.dir,
      env: { ...repo.env, GITSIGN_REKOR_MODE: 'offline', ...env },
      boundMs,
    });
    assert.equal(r.timedOut, false, `git commit -S still running after ${boundMs} ms`);
    assert.notEqual(r.status, 0, 'the commit was made');
    assert.match(r.stderr, /failed to sign/, r.stderr);
    assert.equal(repo.git('rev-parse', 'HEAD'), head, 'HEAD moved');
    assert.equal(repo.git('status', '--porcelain'), status, 'index or worktree changed');
    const stdout = readFileSync(join(this.capture, 'out'));
    const stderr = readFileSync(join(this.capture, 'err'), 'utf8');
    assert.equal(stdout.length, 0, `gitsign wrote to stdout: ${stdout.toString('latin1').slice(0, 200)}`);
    const lines = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('[GNUPG:]') && !l.startsWith('Generating'));
    assert.equal(lines.length, 1, `gitsign's stderr:\n${stderr.slice(0, 2000)}`);
    assert.match(lines[0], /^gitsign: error signing: /);
    assert.match(lines[0], expected);
  }

  /** For each commit, git's status path says BADSIG or ERRSIG (never GOODSIG), and `gitsign verify --json` gives verified: false with `code`. */
  async verifyingRefuses(shas: string[], code: string | RegExp, status: 'BADSIG' | 'ERRSIG', boundMs = BOUND_MS): Promise<void> {
    const opts = { cwd: this.repo.dir, env: this.repo.env, boundMs };
    const [json, ...gits] = await Promise.all([
      run(process.execPath, [BIN, 'verify', '--json', ...shas], opts),
      ...shas.map((sha) => run('git', ['verify-commit', '--raw', sha], opts)),
    ]);
    assert.equal(json.timedOut, false, `gitsign verify still running after ${boundMs} ms`);
    const lines = json.stdout.toString().split('\n').filter(Boolean);
    assert.equal(lines.length, shas.length, `gitsign verify --json: one report per commit expected (exit ${json.status}): ${json.stdout.toString().slice(0, 500)} ${json.stderr.slice(0, 2000)}`);
    assert.notEqual(json.status, 0);
    shas.forEach((sha, i) => {
      const report = JSON.parse(lines[i]) as { verified: boolean; error?: { code: string; message: string } };
      assert.equal(report.verified, false, lines[i]);
      assert.match(report.error?.code ?? '', typeof code === 'string' ? new RegExp(`^${code}$`) : code, lines[i]);
      const git = gits[i];
      assert.equal(git.timedOut, false, `git verify-commit ${sha} still running after ${boundMs} ms`);
      assert.notEqual(git.status, 0, git.stderr);
      assert.match(git.stderr, new RegExp(`^\\[GNUPG:\\] ${status} `, 'm'), git.stderr);
      assert.doesNotMatch(git.stderr, /^\[GNUPG:\] (GOODSIG|VALIDSIG)/m);
    });
  }

  /** A commit object with the given payload and a signature built from its parts. */
  commitWith(payload: Buffer, parts: { certDer: Buffer; signedAttrs: Buffer; signature: Buffer; unsignedAttrs: UnsignedAttribute[] }): string {
    const armored = encodePem('SIGNED MESSAGE', buildSignedData(parts));
    return this.repo.importBytes(joinSignature('commit', payload, Buffer.from(armored)), 'commit');
  }

  /** The offline commit's signature, its embedded entry replaced by the (faulty) sandbox's answer for it. */
  async withEntryFromSandbox(sha: string): Promise<string> {
    const { payload, signature } = splitCommit(execFileSync('git', ['cat-file', 'commit', sha], { cwd: this.repo.dir, env: this.repo.env }));
    const sd = parseSignedData(decodePem(signature!).der);
    const [si] = sd.signers;
    const certDer = sd.certificates[0];
    const uuid = entryUuid(canonicalBody(hashedRekord(si.signedAttrsDer, si.signature, certDer)));
    const answer = await getEntry(this.url, uuid);
    const entry = toLogEntry(answer.uuid, answer.entry);
    return this.commitWith(payload, { certDer, signedAttrs: si.signedAttrsDer, signature: si.signature, unsignedAttrs: [entryAttribute(entry)] });
  }

  /**
   * A commit signed as gitsign signs, with what the (faulty) sandbox gives: its certificate for a fresh
   * key, its timestamp token, its Rekor entry; nothing it gives is checked.
   */
  async signedWithSandboxAnswers(opts: { timestamp: boolean; logged: boolean }): Promise<string> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { chain } = await requestCertificate(this.url, this.token, EMAIL, privateKey, publicKey);
    const unsignedSha = this.repo.git('commit-tree', 'HEAD^{tree}', '-p', 'HEAD', '-m', 'signed with a faulty sandbox').trim();
    const payload = execFileSync('git', ['cat-file', 'commit', unsignedSha], { cwd: this.repo.dir, env: this.repo.env });
    const signedAttrs = signedAttributes(payload, new Date());
    const signature = sign('sha256', signedAttrs, privateKey);
    const unsignedAttrs: UnsignedAttribute[] = [];
    if (opts.timestamp) unsignedAttrs.push({ oid: OID.timeStampToken, values: [await timestampToken(this.url, signature)] });
    if (opts.logged) {
      const { uuid, entry } = await createEntry(this.url, hashedRekord(signedAttrs, signature, chain[0]));
      unsignedAttrs.push(entryAttribute(toLogEntry(uuid, entry)));
    }
    return this.commitWith(payload, { certDer: chain[0], signedAttrs, signature, unsignedAttrs });
  }
}

const entryAttribute = (entry: LogEntry): UnsignedAttribute => ({ oid: OID.rekorTransparencyLogEntry, values: [octets(encodeLogEntry(entry))] });

/** The TSA's token for a signature, as gitsign requests it, unchecked. */
async function timestampToken(url: string, signature: Buffer): Promise<Buffer> {
  const imprint = createHash('sha256').update(signature).digest();
  const request = seq(int(1n), seq(algorithm(OID.sha256), octets(imprint)), bool(true));
  const res = await fetch(`${url}/api/v1/timestamp`, { method: 'POST', headers: { 'Content-Type': 'application/timestamp-query' }, body: request });
  assert.equal(res.status, 200);
  return Der.parse(Buffer.from(await res.arrayBuffer()), 'timestamp reply').child(1, 'timeStampToken').raw;
}

/**
 * Rekor entry faults: what signing says, and the verification code (online search and embedded entry
 * alike); v2: the fault also applies to Rekor v2 answers (signing with rekorVersion=2 refuses too).
 */
const REKOR_ENTRY_FAULTS: { kind: FaultKind; signing: RegExp; code: string; v2?: boolean }[] = [
  // The SET is the only time source here (no timestamp): without it nothing attests the time.
  { kind: 'set-dropped', signing: /SET|signed entry timestamp|attest/i, code: 'UNATTESTED_TIME' },
  { kind: 'integrated-time-moved', signing: /SET/, code: 'TLOG' },
  { kind: 'inclusion-proof-altered', signing: /inclusion proof/, code: 'TLOG', v2: true },
  { kind: 'checkpoint-altered', signing: /checkpoint/, code: 'TLOG', v2: true },
  { kind: 'entry-for-another-signature', signing: /another entry/, code: 'TLOG', v2: true },
];

/** Certificate and timestamp faults: what signing says, the verification code and git's status. */
const CONTENT_FAULTS: { kind: FaultKind; signing: RegExp; code: string; status: 'BADSIG' | 'ERRSIG'; timestamp?: boolean }[] = [
  // Our key signed, the certificate is for another: the signature does not match the certificate.
  { kind: 'certificate-for-another-key', signing: /for another key/, code: 'SIGNATURE_INVALID', status: 'BADSIG' },
  { kind: 'unknown-ca', signing: /certificate from Fulcio does not verify/, code: 'CERTIFICATE', status: 'ERRSIG' },
  { kind: 'sct-missing', signing: /no SCT/, code: 'SCT', status: 'ERRSIG' },
  { kind: 'sct-forged', signing: /SCT that does not verify/, code: 'SCT', status: 'ERRSIG' },
  { kind: 'tsa-other-digest', signing: /another imprint/, code: 'TIMESTAMP', status: 'ERRSIG', timestamp: true },
];

/** Transport faults: what signing says (service named), and the verification code. */
const TRANSPORT_FAULTS: { kind: FaultKind; signing: RegExp; code: RegExp }[] = [
  { kind: 'http-5xx', signing: /answered 503/, code: /^NETWORK$/ },
  { kind: 'connection-reset', signing: /ECONNRESET|EPIPE|reset/, code: /^NETWORK$/ },
  { kind: 'oversized', signing: /sent more than \d+ [KM]iB, too much for/, code: /^(NETWORK|SERVICE)$/ },
];
const SERVICE_NAMES = { fulcio: /Fulcio/, rekor: /Rekor/, tsa: /timestamp authority/ } as const;

test('every kind of fault is covered below', () => {
  const covered = [...REKOR_ENTRY_FAULTS, ...CONTENT_FAULTS, ...TRANSPORT_FAULTS].map((f) => f.kind).concat('slow-drip');
  assert.deepEqual(covered.sort(), Object.keys(KINDS).sort());
});

describe('hostile sandbox', { concurrency: true }, () => {
  // Four sandbox states side by side: slow-drip waits for the client's deadline, the others keep both cores busy.
  test('slow-drip: signing (Fulcio dripping) and verifying (Rekor dripping) give up with a network error', { timeout: SLOW_DRIP_BOUND_MS * 2 }, async () => {
    const lab = await Lab.open();
    try {
      const online = await lab.signedCommit('online');
      await lab.start('fulcio:slow-drip,rekor:slow-drip');
      await Promise.all([lab.signingRefuses(/Fulcio.*(timed out|time ?out|deadline|slow|within)/i, {}, SLOW_DRIP_BOUND_MS), lab.verifyingRefuses([online], 'NETWORK', 'ERRSIG', SLOW_DRIP_BOUND_MS)]);
    } finally {
      await lab.close();
    }
  });

  describe('Rekor entry faults', { concurrency: 1 }, () => {
    let lab: Lab;
    let online: string;
    let offline: string;
    before(async () => {
      lab = await Lab.open();
      online = await lab.signedCommit('online');
      offline = await lab.signedCommit('offline');
    });
    after(() => lab?.close());

    for (const { kind, signing, code, v2 } of REKOR_ENTRY_FAULTS) {
      test(`${kind}: signing refuses${v2 ? ' (Rekor v1 and v2)' : ''}; verifying refuses the online search answer and the embedded entry (${code})`, async () => {
        await lab.start(kind);
        await lab.signingRefuses(signing);
        if (v2) await lab.signingRefuses(signing, { ...lab.tsaEnv, GITSIGN_REKOR_VERSION: '2' });
        await lab.verifyingRefuses([online, await lab.withEntryFromSandbox(offline)], code, 'ERRSIG');
      });
    }

    test('the sandbox state is not harmed: restarted without faults, the commits verify again', async () => {
      await lab.start();
      const r = await run(process.execPath, [BIN, 'verify', '--json', online, offline], { cwd: lab.repo.dir, env: lab.repo.env });
      const reports = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { verified: boolean });
      assert.deepEqual(reports.map((x) => x.verified), [true, true], r.stdout.toString());
    });
  });

  describe('Fulcio and TSA faults', { concurrency: 1 }, () => {
    let lab: Lab;
    before(async () => {
      lab = await Lab.open();
      lab.repo.git('commit', '--allow-empty', '-q', '-m', 'unsigned base');
    });
    after(() => lab?.close());

    for (const { kind, signing, code, status, timestamp } of CONTENT_FAULTS) {
      test(`${kind}: signing refuses; a signature made with what the sandbox gave is refused (${code}, ${status})`, async () => {
        await lab.start(kind);
        await lab.signingRefuses(signing, timestamp ? lab.tsaEnv : {});
        // A complete signature (logged, so only the fault is wrong), except when the certificate is for
        // another key: Rekor refuses to log a signature its certificate's key did not make.
        const sha = await lab.signedWithSandboxAnswers({ timestamp: Boolean(timestamp), logged: kind !== 'certificate-for-another-key' });
        await lab.verifyingRefuses([sha], code, status);
      });
    }
  });

  describe('transport faults', { concurrency: 1 }, () => {
    let lab: Lab;
    let online: string;
    before(async () => {
      lab = await Lab.open();
      online = await lab.signedCommit('online');
    });
    after(() => lab?.close());

    for (const { kind, signing, code } of TRANSPORT_FAULTS) {
      test(`${kind}: signing refuses at Fulcio, the TSA and Rekor; verifying refuses when the Rekor search gets it`, async () => {
        for (const service of ['fulcio', 'tsa', 'rekor'] as const) {
          await lab.start(`${service}:${kind}`);
          await lab.signingRefuses(new RegExp(`${SERVICE_NAMES[service].source}.*(${signing.source})`, signing.flags), service === 'tsa' ? lab.tsaEnv : {});
        }
        await lab.verifyingRefuses([online], code, 'ERRSIG');
      });
    }
  });
});

describe('gitsign sandbox up --fault', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach(removeDir));
  const newDir = (): string => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };

  test('the faults parse into services: unscoped transport kinds reach every service, content kinds their own', () => {
    assert.equal(parseFaults('http-5xx').toString(), 'oidc:http-5xx, fulcio:http-5xx, rekor:http-5xx, tsa:http-5xx');
    assert.equal(parseFaults(['set-dropped,rekor:set-dropped', ' sct-forged ']).toString(), 'fulcio:sct-forged, rekor:set-dropped');
    assert.equal(parseFaults(undefined).empty, true);
    for (const [fault, why] of [
      ['ctlog:sct-missing', /unknown service "ctlog"/],
      ['fulcio:set-dropped', /set-dropped is a fault of rekor, not of fulcio/],
      ['http-5xx,rekor:slow-drip', /rekor cannot have both http-5xx and slow-drip/],
      ['set-dropped,,sct-missing', /an empty item/],
    ] as const) {
      assert.throws(() => parseFaults(fault), (err: GitsignError) => err.code === 'USAGE' && why.test(err.message), fault);
    }
  });

  test('an unknown kind is a usage error: exit 1, one line listing every kind, the input escaped', () => {
    const r = spawnSync(process.execPath, [BIN, 'sandbox', 'up', '--dir', newDir(), '--port', '0', '--fault', 'set-dropped,\u001b[2Jset-droped'], { encoding: 'utf8', timeout: BOUND_MS });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /unknown fault "\\u001b\[2Jset-droped"/);
    assert.doesNotMatch(lines[0], /\u001b/);
    for (const kind of Object.keys(KINDS)) assert.ok(lines[0].includes(kind), `${kind} missing from: ${lines[0]}`);
    const token = spawnSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', newDir(), '--fault', 'set-dropped'], { encoding: 'utf8', timeout: BOUND_MS });
    assert.equal(token.status, 1, token.stderr);
    assert.match(token.stderr, /--fault is an option of `gitsign sandbox up`/);
  });

  test('up says it is hostile, faults only the services named, and stays up', async () => {
    const sb = await spawnSandbox(newDir(), ['--fault', 'rekor:connection-reset', '--fault', 'tsa-other-digest,fulcio:http-5xx']);
    try {
      assert.match(sb.stderr(), /HOSTILE MODE, wrong answers on purpose: fulcio:http-5xx, rekor:connection-reset, tsa:tsa-other-digest\n/);
      assert.equal((await fetch(`${sb.url}/api/v2/trustBundle`)).status, 503);
      await assert.rejects(fetch(`${sb.url}/api/v1/log`), (err: Error & { cause?: { code?: string } }) => err.cause?.code === 'ECONNRESET');
      assert.equal((await fetch(`${sb.url}/auth/.well-known/openid-configuration`)).status, 200);
      assert.equal((await fetch(`${sb.url}/api/v1/timestamp/certchain`)).status, 200);
      assert.equal(await (await fetch(`${sb.url}/ping`)).text(), 'pong');
    } finally {
      assert.equal(await sb.stop(), 0);
    }
  });
});
