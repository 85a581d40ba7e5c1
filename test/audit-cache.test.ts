/**
 * The audit's result cache (issue 14): a re-run checks only objects it has not checked under the same
 * context (trust material, verify options, gitsign-ts version); a segment changed by a byte, made with
 * another key or from another context is ignored and a line that is no result is a miss, never a result; --no-cache neither reads nor
 * writes it; audits at once and many runs leave a store that still answers. Signatures are counted
 * through the engine API (a verifier that records what it is asked), histories signed by the sandbox.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cachedVerifier, cacheContext } from '../src/audit/cachedVerifier';
import { CacheStore, macKey } from '../src/audit/cacheStore';
import { pathCache, pathsContext } from '../src/audit/pathCache';
import { type AuditReport, runAudit, type VerifierFactory } from '../src/audit/engine';
import { verifierFor } from '../src/cli/auditVerifier';
import { loadConfig } from '../src/config/config';
import { type VerifySettings, verifySettings } from '../src/verify/settings';
import { person, SignedHistory } from './helpers/auditHistory';
import { BIN } from './helpers/paths';
import { sandboxPerFile } from './helpers/signingSandbox';
import { removeDir } from './sandbox/support';

const sb = sandboxPerFile();
const ALICE = 'alice@example.com';

/** A verifier factory that records every object it is asked to check. */
function counting(inner: VerifierFactory): { asked: string[]; factory: VerifierFactory } {
  const asked: string[] = [];
  return {
    asked,
    factory: (count, names) => {
      const v = inner(count, names);
      return {
        verify: (obj) => {
          asked.push(obj.sha);
          return v.verify(obj);
        },
        close: () => v.close(),
      };
    },
  };
}

/** What an audit says of each object, for comparing runs. */
const outcome = (r: AuditReport): string[] => r.entries.map((e) => `${e.object} ${e.status} ${e.reason} ${e.signer?.identities.join(',') ?? '-'} ${e.attestedTime ?? '-'} ${e.principals.join(',')}`);

/**
 * A signed history made by `build` before the suite's tests, with its verify settings, the uncached
 * verifier and a MAC key directory of its own; removed after them.
 */
interface CacheFixture {
  h: SignedHistory;
  settings: VerifySettings;
  checks: VerifierFactory;
  keyDir: string;
}

function cacheFixture(build: (h: SignedHistory) => void): CacheFixture {
  const f = { keyDir: '' } as CacheFixture;
  before(async () => {
    f.h = new SignedHistory(sb);
    build(f.h);
    const cfg = loadConfig(f.h.repo.env, f.h.repo.dir);
    const flags = { offline: false, ignoreTlog: false, ignoreSct: false };
    f.settings = await verifySettings(cfg, flags, f.h.repo.env);
    f.checks = verifierFor(cfg, flags, f.settings);
    f.keyDir = mkdtempSync(join(tmpdir(), 'gitsign-audit-key-'));
  });
  after(() => {
    f.h?.remove();
    if (f.keyDir) removeDir(f.keyDir);
  });
  return f;
}

describe('the audit result cache', () => {
  const c: Record<string, string> = {};

  const f = cacheFixture((h) => {
    const policy = ['version: 1', 'serial: 1', 'principals:', `  alice: ${person(h.issuer, ALICE)}`, 'rules:', '  - paths: ["**"]', '    signers: [alice]', 'policy:', '  signers: [alice]'].join('\n');
    c.base = h.commit(ALICE, 'policy', { '.gitsign/policy.yaml': policy });
    c.one = h.commit(ALICE, 'one', { 'a.txt': '1' });
    c.two = h.commit(ALICE, 'two', { 'b.txt': '1' });
    c.unsigned = h.commit(null, 'unsigned', { 'c.txt': '1' });
  });

  const gitDir = (): string => join(f.h.repo.dir, '.git');
  const key = (): Buffer => macKey(f.keyDir) as Buffer;
  const contextDir = (context: string): string => join(gitDir(), 'gitsign', 'audit-cache', context);

  /** One audit of base..main through the cache of this context, counting the signatures checked. */
  async function audit(version = 'test-1', s: VerifySettings = f.settings): Promise<{ report: AuditReport; asked: string[] }> {
    const store = CacheStore.open(gitDir(), cacheContext(s, version), key());
    assert.ok(store, 'the cache opens');
    const count = counting(f.checks);
    const report = await runAudit({
      range: `${c.base}..main`,
      keepGoing: false,
      verifier: cachedVerifier(count.factory, store),
      approvals: { trust: s.trust.material, rekorUrl: s.rekorUrl, ignoreSct: false, offline: false },
      cwd: f.h.repo.dir,
    });
    return { report, asked: count.asked };
  }

  test('a warm re-run checks no signature again and says the same; after one new commit only that commit is checked', async () => {
    const cold = await audit();
    assert.deepEqual([...cold.asked].sort(), [c.one, c.two, c.unsigned].sort());
    assert.equal(cold.report.entries.find((e) => e.object === c.one)?.status, 'ok');
    assert.equal(cold.report.entries.find((e) => e.object === c.unsigned)?.status, 'unsigned');
    const warm = await audit();
    assert.deepEqual(warm.asked, []);
    assert.deepEqual(outcome(warm.report), outcome(cold.report));
    c.three = f.h.commit(ALICE, 'three', { 'd.txt': '1' });
    const next = await audit();
    assert.deepEqual(next.asked, [c.three]);
    assert.equal(next.report.entries.find((e) => e.object === c.three)?.status, 'ok');
    assert.deepEqual(outcome(next.report).slice(0, 3), outcome(cold.report));
  });

  test('another gitsign-ts version, verify option or trust root is another context: every object is checked again', async () => {
    await audit();
    const context = cacheContext(f.settings, 'test-1');
    assert.notEqual(cacheContext(f.settings, 'test-2'), context, 'version');
    assert.notEqual(cacheContext({ ...f.settings, offline: true }, 'test-1'), context, '--offline');
    assert.notEqual(cacheContext({ ...f.settings, ignoreTlog: true }, 'test-1'), context, '--insecure-ignore-tlog');
    assert.notEqual(cacheContext({ ...f.settings, ignoreSct: true }, 'test-1'), context, '--insecure-ignore-sct');
    assert.notEqual(cacheContext({ ...f.settings, rekorUrl: 'https://rekor.example' }, 'test-1'), context, 'the Rekor an online-mode signature is searched at');
    const material = f.settings.trust.material;
    const fewerLogs = { ...f.settings.trust, material: { ...material, tlogs: material.tlogs.slice(1) } };
    assert.notEqual(cacheContext({ ...f.settings, trust: fewerLogs }, 'test-1'), context, 'the trust material');
    const otherCa = { ...f.settings.trust, material: { ...material, certificateAuthorities: material.certificateAuthorities.map((ca) => ({ ...ca, validFor: { start: new Date(1), end: ca.validFor.end } })) } };
    assert.notEqual(cacheContext({ ...f.settings, trust: otherCa }, 'test-1'), context, 'a CA\'s validity');
    assert.equal(cacheContext({ ...f.settings }, 'test-1'), context, 'the same settings are the same context');
    const other = await audit('test-2');
    assert.equal(other.asked.length, other.report.entries.length, 'a new version checks everything again');
  });

  test('a segment changed by a byte, MACed with another key or copied from another context is ignored; a line that is no result is a miss', async () => {
    const version = 'test-corrupt';
    await audit(version);
    const context = cacheContext(f.settings, version);
    const dir = contextDir(context);
    const segments = readdirSync(dir).filter((n) => n.startsWith('seg-'));
    assert.equal(segments.length, 1);
    const file = join(dir, segments[0]);
    const text = readFileSync(file, 'utf8');
    const head = text.slice(0, text.indexOf('\n'));
    const body = text.slice(text.indexOf('\n') + 1);
    assert.match(body, new RegExp(`^${c.one} \\{"s":"v"`, 'm'));
    const segment = (k: Buffer, ctx: string, b: string): string => `${JSON.stringify({ gitsignAuditCache: 1, context: ctx, mac: createHmac('sha256', k).update(`${ctx}\n`).update(b).digest('hex') })}\n${b}`;
    const status = (r: AuditReport, sha: string): string => r.entries.find((e) => e.object === sha)?.status ?? '';
    const everything = [c.one, c.two, c.three, c.unsigned].sort();

    // The unsigned commit given c.one's verified result, the header (and its MAC) unchanged.
    const lineOf = (sha: string): string => body.split('\n').find((l) => l.startsWith(`${sha} `)) as string;
    const swapped = body.replace(lineOf(c.unsigned), `${c.unsigned} ${lineOf(c.one).slice(41)}`);
    writeFileSync(file, `${head}\n${swapped}`);
    let run = await audit(version);
    assert.deepEqual([...run.asked].sort(), everything, 'a changed byte: the whole segment is ignored');
    assert.equal(status(run.report, c.unsigned), 'unsigned');

    // The same change, MACed with a key that is not this user's.
    for (const name of readdirSync(dir)) writeFileSync(join(dir, name), segment(Buffer.alloc(32, 7), context, swapped));
    run = await audit(version);
    assert.deepEqual([...run.asked].sort(), everything, 'another key');
    assert.equal(status(run.report, c.unsigned), 'unsigned');

    // A segment of another context (another trust root or version), MACed with this key, copied here.
    for (const name of readdirSync(dir)) writeFileSync(join(dir, name), segment(key(), cacheContext(f.settings, 'test-other'), swapped));
    run = await audit(version);
    assert.deepEqual([...run.asked].sort(), everything, 'another context');
    assert.equal(status(run.report, c.unsigned), 'unsigned');

    // With this key and context, lines that are not results (wrong fields, bad JSON, an object that is no ID) are misses; the rest hit.
    const bad = body.replace(lineOf(c.one), `${c.one} {"s":"v","id":"x"}`).replace(lineOf(c.two), `${c.two} {"s":"v",`) + 'not-an-object {"s":"u"}\n';
    for (const name of readdirSync(dir)) writeFileSync(join(dir, name), segment(key(), context, bad));
    run = await audit(version);
    assert.deepEqual([...run.asked].sort(), [c.one, c.two].sort());
    assert.equal(status(run.report, c.one), 'ok');
    assert.deepEqual(run.report.entries.find((e) => e.object === c.two)?.signer?.identities, [ALICE]);
    assert.deepEqual((await audit(version)).asked, [], 'the results checked again were kept');
  });

  test('many runs merge their segments: the store stays small and answers every object', () => {
    const context = 'f'.repeat(32);
    const objects = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(40, '0'));
    for (const [i, sha] of objects.entries()) {
      const store = CacheStore.open(gitDir(), context, key()) as CacheStore;
      for (const old of objects.slice(0, i)) assert.equal(store.get(old), '{"s":"u"}', `run ${i} reads ${old}`);
      store.put(sha, '{"s":"u"}');
      store.flush();
    }
    assert.ok(readdirSync(contextDir(context)).length <= 8, 'merged');
  });

  test('gitsign audit keeps its results under the git directory (0700, read back), --no-cache neither reads nor writes them; two audits at once', async () => {
    const range = `${c.base}..main`;
    const first = f.h.audit([range]);
    assert.equal(first.status, 1, first.stderr);
    const root = join(gitDir(), 'gitsign', 'audit-cache');
    assert.equal(statSync(join(gitDir(), 'gitsign')).mode & 0o777, 0o700);
    const contexts = readdirSync(root).filter((n) => /^[0-9a-f]{32}$/.test(n));
    // The CLI's context is the one whose segment holds c.one under the CLI's key.
    const cliKey = readFileSync(join(f.h.repo.env.XDG_CACHE_HOME as string, 'sigstore', 'gitsign-ts', 'audit-cache.key'));
    assert.equal(statSync(join(f.h.repo.env.XDG_CACHE_HOME as string, 'sigstore', 'gitsign-ts', 'audit-cache.key')).mode & 0o777, 0o600);
    const planted = '{"s":"e","c":"SIGNATURE_INVALID","m":"planted by the test","id":[],"iss":null}';
    let plantedIn = '';
    for (const context of contexts) {
      const dir = contextDir(context);
      for (const seg of readdirSync(dir)) {
        const text = readFileSync(join(dir, seg), 'utf8');
        const nl = text.indexOf('\n');
        const mac = (b: string): string => createHmac('sha256', cliKey).update(`${context}\n`).update(b).digest('hex');
        if ((JSON.parse(text.slice(0, nl)) as { mac: string }).mac !== mac(text.slice(nl + 1))) continue;
        // A newer segment (names sort by time), MACed with the CLI's key: its line is the one read
        // (once the record of the first audit is gone: it would answer for every commit it holds).
        for (const name of readdirSync(dir)) if (name.startsWith('record-')) rmSync(join(dir, name));
        const b = `${c.one} ${planted}\n`;
        writeFileSync(join(dir, 'seg-zzzzzzzzzz.jsonl'), `${JSON.stringify({ gitsignAuditCache: 1, context, mac: mac(b) })}\n${b}`);
        plantedIn = dir;
      }
    }
    const cached = f.h.audit([range]);
    assert.equal(cached.of(c.one).status, 'error', 'the newest segment\'s line is what the audit reports: it was read');
    assert.equal(cached.of(c.one).message, 'planted by the test');
    const before = readdirSync(plantedIn).sort();
    const fresh = f.h.audit([range, '--no-cache']);
    assert.equal(fresh.of(c.one).status, 'ok', '--no-cache read nothing');
    assert.deepEqual(readdirSync(plantedIn).sort(), before, '--no-cache wrote nothing');
    const init = f.h.gitsign(['policy', 'init', range, '-o', '-', '--no-cache']);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /alice@example\.com/);

    // Two audits at once of a history with a new commit: both answer, and a third finds both's work.
    c.four = f.h.commit(ALICE, 'four', { 'e.txt': '1' });
    const runAsync = (): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const p = spawn(process.execPath, [BIN, 'audit', '--json', range], { cwd: f.h.repo.dir, env: f.h.repo.env });
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        const timer = setTimeout(() => p.kill(), 120_000);
        p.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, out });
        });
      });
    const both = await Promise.all([runAsync(), runAsync()]);
    for (const r of both) {
      assert.equal(r.code, 1);
      assert.match(r.out, new RegExp(`"object":"${c.four}","status":"ok"`));
    }
    const third = f.h.audit([range]);
    assert.equal(third.of(c.four).status, 'ok');
  });
});

describe('results answered from the cache, objects unread', () => {
  let policy = '';
  const c: Record<string, string> = {};
  /** A GitHub Actions token of acme/app's release workflow, for the repository with this ID. */
  const workflow = (repositoryId: string): { subject: string; claims: Record<string, unknown> } => ({
    subject: 'https://github.com/acme/app',
    claims: { job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main', repository: 'acme/app', repository_id: repositoryId, runner_environment: 'github-hosted' },
  });

  const f = cacheFixture((h) => {
    c.base = h.commit(ALICE, 'base', { 'a.txt': '0' });
    c.release = h.commit(workflow('4242'), 'release', { 'version.txt': '1' });
    c.impostor = h.commit(workflow('9999'), 'the same workflow name in a re-created repository', { 'version.txt': '2' });
    const identity = [`{issuer: ${JSON.stringify(h.issuer)}, subjectPattern: 'https://github\\.com/acme/app/.*', claims: {sourceRepositoryIdentifier: "4242"}}`];
    policy = ['version: 1', 'serial: 1', 'principals:', `  release: [${identity.join(', ')}]`, 'rules:', '  - paths: ["**"]', '    signers: [release]', 'policy:', '  signers: [release]'].join('\n');
  });

  test('a warm re-run reads a pinned claim from the object itself: the workflow of repository 4242 is its principal, the same workflow of 9999 is not', async () => {
    const audit = async (): Promise<{ report: AuditReport; asked: string[] }> => {
      const store = CacheStore.open(join(f.h.repo.dir, '.git'), cacheContext(f.settings, 'test-1'), macKey(f.keyDir));
      assert.ok(store, 'the cache opens');
      const count = counting(f.checks);
      const report = await runAudit({
        range: `${c.base}..main`,
        policyFile: { name: 'outside.yaml', bytes: Buffer.from(policy) },
        keepGoing: false,
        verifier: cachedVerifier(count.factory, store),
        approvals: { trust: f.settings.trust.material, rekorUrl: f.settings.rekorUrl, ignoreSct: false, offline: false },
        cwd: f.h.repo.dir,
      });
      return { report, asked: count.asked };
    };
    const cold = await audit();
    assert.deepEqual([...cold.asked].sort(), [c.release, c.impostor].sort());
    const warm = await audit();
    assert.deepEqual(warm.asked, [], 'every result from the cache');
    const of = (sha: string): string => {
      const e = warm.report.entries.find((x) => x.object === sha);
      return `${e?.status} ${e?.reason} ${e?.principals.join(',')}`;
    };
    assert.equal(of(c.release), 'ok AUTHORIZED release');
    assert.equal(of(c.impostor), 'violation UNKNOWN_SIGNER ');
    assert.deepEqual(outcome(warm.report), outcome(cold.report));
  });
});

describe('the paths each commit changes, kept between audits', () => {
  const c: Record<string, string> = {};
  const BOB = 'bob@example.com';

  const f = cacheFixture((h) => {
    const policy = ['version: 1', 'serial: 1', 'principals:', `  alice: ${person(h.issuer, ALICE)}`, `  bob: ${person(h.issuer, BOB)}`, 'rules:', '  - paths: ["**"]', '    signers: [alice]', '  - paths: ["docs/**"]', '    signers: [alice, bob]', 'policy:', '  signers: [alice]'].join('\n');
    c.base = h.commit(ALICE, 'policy', { '.gitsign/policy.yaml': policy });
    c.docs = h.commit(BOB, 'bob: docs', { 'docs/guide.md': 'g' });
    c.code = h.commit(BOB, 'bob: code', { 'src/main.ts': 'x' });
  });

  const version = 'test-paths';
  const dir = (): string => join(f.h.repo.dir, '.git', 'gitsign', 'audit-paths', pathsContext(version));
  const audit = async (): Promise<AuditReport> => {
    const store = CacheStore.open(join(f.h.repo.dir, '.git'), pathsContext(version), macKey(f.keyDir), 'audit-paths');
    assert.ok(store, 'the path cache opens');
    return runAudit({
      range: `${c.base}..main`,
      keepGoing: false,
      verifier: f.checks,
      pathCache: pathCache(store),
      approvals: { trust: f.settings.trust.material, rekorUrl: f.settings.rekorUrl, ignoreSct: false, offline: false },
      cwd: f.h.repo.dir,
    });
  };
  const verdicts = (r: AuditReport): string[] => r.entries.map((e) => `${e.object} ${e.status} ${e.reason} ${e.message}`);
  const segment = (b: string): string => `${JSON.stringify({ gitsignAuditCache: 1, context: pathsContext(version), mac: createHmac('sha256', macKey(f.keyDir) as Buffer).update(`${pathsContext(version)}\n`).update(b).digest('hex') })}\n${b}`;
  const line = (sha: string, parent: string, paths: string[]): string => `${sha} ${JSON.stringify({ parent, paths })}\n`;

  test('a re-run judges by the kept lists and says the same; a list in a segment whose MAC fails, or computed against another first parent, is not used', async () => {
    const cold = await audit();
    assert.equal(cold.entries.find((e) => e.object === c.code)?.reason, 'PATH_DENIED');
    const files = readdirSync(dir()).filter((n) => n.startsWith('seg-'));
    assert.equal(files.length, 1);
    const text = readFileSync(join(dir(), files[0]), 'utf8');
    assert.ok(text.includes(line(c.code, c.docs, ['src/main.ts'])), 'bob\'s code commit is kept with its first parent');
    assert.deepEqual(verdicts(await audit()), verdicts(cold));

    // bob's code commit passed off as a docs change, the MAC left as it was: the segment is ignored.
    const forged = text.replace(line(c.code, c.docs, ['src/main.ts']), line(c.code, c.docs, ['docs/x.md']));
    assert.notEqual(forged, text);
    for (const name of readdirSync(dir())) rmSync(join(dir(), name));
    writeFileSync(join(dir(), files[0]), forged);
    assert.deepEqual(verdicts(await audit()), verdicts(cold), 'a segment whose MAC fails');

    // MACed with this user's key, but computed against another first parent (a shallow or grafted history): a miss.
    for (const name of readdirSync(dir())) rmSync(join(dir(), name));
    writeFileSync(join(dir(), files[0]), segment(line(c.code, c.base, ['docs/x.md'])));
    assert.deepEqual(verdicts(await audit()), verdicts(cold), 'another first parent');

    // The same line against the right parent is used: the list decides (what the MAC protects).
    for (const name of readdirSync(dir())) rmSync(join(dir(), name));
    writeFileSync(join(dir(), files[0]), segment(line(c.code, c.docs, ['docs/x.md'])));
    assert.equal((await audit()).entries.find((e) => e.object === c.code)?.status, 'ok', 'a line that verifies is what the audit judges by');
  });
});
