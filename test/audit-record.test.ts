/**
 * The record of an audit (src/audit/record.ts): a re-run judges only the commits added since, and says
 * exactly what a run that judges every commit says: after a line of new commits, a merge of a side
 * branch, a policy change (judged whole again: revocations are retroactive), new tags, a branch moved
 * back, a record changed by a byte, and a new approval ref. Histories signed by the sandbox; the
 * signatures asked for are counted through the engine API; the CLI's output is compared with
 * --no-cache's.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CacheStore, macKey } from '../src/audit/cacheStore';
import { type AuditReport, runAudit, type VerifierFactory } from '../src/audit/engine';
import { verifierFor } from '../src/cli/auditVerifier';
import { loadConfig } from '../src/config/config';
import { type VerifySettings, verifySettings } from '../src/verify/settings';
import { policyHead, SignedHistory } from './helpers/auditHistory';
import { sandboxPerFile } from './helpers/signingSandbox';
import { removeDir } from './sandbox/support';

const sb = sandboxPerFile();
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MALLORY = 'mallory@example.com';
const CONTEXT = 'c'.repeat(32);

function policyText(h: SignedHistory, serial: number, revokeBob: boolean): string {
  return [
    ...policyHead(h.issuer, serial, { alice: ALICE, bob: BOB }),
    'rules:',
    '  - paths: ["**"]',
    '    signers: [alice, bob]',
    'tags:',
    '  - names: ["v*"]',
    '    signers: [alice]',
    'policy:',
    '  signers: [alice]',
    'merges: endorse',
    ...(revokeBob ? ['revoked:', `  - issuer: ${JSON.stringify(h.issuer)}`, `    subject: ${BOB}`, '    after: 2000-01-01T00:00:00Z', '    reason: left the project'] : []),
  ].join('\n');
}

describe('the record of an audit', () => {
  let h: SignedHistory;
  let settings: VerifySettings;
  let checks: VerifierFactory;
  let keyDir: string;
  const c: Record<string, string> = {};

  before(async () => {
    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'policy', { '.gitsign/policy.yaml': policyText(h, 1, false) });
    c.one = h.commit(ALICE, 'one', { 'a.txt': '1' });
    c.two = h.commit(BOB, 'two', { 'b.txt': '1' });
    h.tag(ALICE, 'v1');
    c.three = h.commit(null, 'unsigned', { 'c.txt': '1' });
    const cfg = loadConfig(h.repo.env, h.repo.dir);
    const flags = { offline: false, ignoreTlog: false, ignoreSct: false };
    settings = await verifySettings(cfg, flags, h.repo.env);
    checks = verifierFor(cfg, flags, settings);
    keyDir = mkdtempSync(join(tmpdir(), 'gitsign-audit-record-key-'));
  });
  after(() => {
    h?.remove();
    if (keyDir) removeDir(keyDir);
  });

  const recordDir = (): string => join(h.repo.dir, '.git', 'gitsign', 'audit-cache', CONTEXT);
  /** Every record file under the repository's caches, with its bytes. */
  const recordFiles = (): Record<string, string> => {
    const root = join(h.repo.dir, '.git', 'gitsign', 'audit-cache');
    const out: Record<string, string> = {};
    for (const d of readdirSync(root).filter((n) => /^[0-9a-f]{32}$/.test(n))) {
      for (const n of readdirSync(join(root, d)).filter((x) => x.startsWith('record-'))) out[`${d}/${n}`] = readFileSync(join(root, d, n), 'latin1');
    }
    return out;
  };

  /** An audit of base..main; with records: through this suite's store, counting the objects the verifier is given. */
  async function audit(records: boolean): Promise<{ report: AuditReport; asked: string[] }> {
    const asked: string[] = [];
    const store = records ? CacheStore.open(join(h.repo.dir, '.git'), CONTEXT, macKey(keyDir)) : null;
    if (records) assert.ok(store, 'the store opens');
    const report = await runAudit({
      range: `${c.base}..main`,
      keepGoing: false,
      verifier: (count, names) => {
        asked.push(...(names ?? []));
        return checks(count, names);
      },
      approvals: { trust: settings.trust.material, rekorUrl: settings.rekorUrl, ignoreSct: false, offline: false },
      cwd: h.repo.dir,
      ...(store ? { records: { read: (name: string) => store.readRecord(name), write: (name: string, body: string) => store.writeRecord(name, body) } } : {}),
    });
    return { report, asked };
  }

  /** What a report says, as --json prints it, with its summary. */
  const said = (r: AuditReport): string[] => [...r.lines, JSON.stringify({ tip: r.tip, counts: r.counts, adopted: r.adopted, versions: r.versions.map((v) => v.origin), commits: r.commits })];

  /** An audit through the record says what one that judges every commit says; returns the objects it checked. */
  async function sameAsWhole(): Promise<string[]> {
    const resumed = await audit(true);
    const whole = await audit(false);
    assert.deepEqual(said(resumed.report), said(whole.report));
    assert.deepEqual(resumed.report.entries, whole.report.entries);
    return resumed.asked;
  }

  const tagObject = (): string => h.rev('refs/tags/v1');

  test('a re-run judges only what was added since the record, and says what a whole run says', async () => {
    const first = await audit(true);
    assert.deepEqual([...first.asked].sort(), [c.one, c.two, c.three, tagObject()].sort(), 'no record: everything');
    assert.equal(first.report.entries.find((e) => e.object === c.three)?.status, 'unsigned');
    assert.equal(readdirSync(recordDir()).filter((n) => n.startsWith('record-')).length, 1, 'a record is written');

    assert.deepEqual(await sameAsWhole(), [tagObject()], 'nothing new: only the tags, which are judged each time');

    c.four = h.commit(BOB, 'four', { 'd.txt': '1' });
    c.five = h.commit(ALICE, 'five', { 'e.txt': '1' });
    assert.deepEqual(await sameAsWhole(), [c.four, c.five, tagObject()], 'a line of new commits');

    // A side branch from an old commit, with a commit nobody may sign, merged by alice: endorsed.
    h.checkout(['-q', '-b', 'side', c.one]);
    c.side = h.commit(MALLORY, 'side', { 'f.txt': '1' });
    h.checkout(['-q', 'main']);
    c.merge = h.merge(ALICE, 'side');
    const asked = await sameAsWhole();
    assert.deepEqual([...asked].sort(), [c.side, c.merge, tagObject()].sort(), 'a merge: the side commit and the merge');
    const resumed = (await audit(true)).report;
    assert.equal(resumed.entries.find((e) => e.object === c.side)?.status, 'endorsed');

    c.v2 = h.tag(ALICE, 'v2');
    assert.deepEqual([...(await sameAsWhole())].sort(), [tagObject(), c.v2].sort(), 'a new tag');
  });

  test('a policy change is judged with the whole history again (its revocations are retroactive); the next re-run resumes from its record', async () => {
    c.policy = h.commit(ALICE, 'revoke bob', { '.gitsign/policy.yaml': policyText(h, 2, true) });
    const asked = await sameAsWhole();
    assert.ok(asked.includes(c.one) && asked.includes(c.policy), 'every commit again');
    const report = (await audit(true)).report;
    assert.equal(report.entries.find((e) => e.object === c.two)?.status, 'revoked', 'bob, revoked from before his commit');
    assert.deepEqual(report.adopted.map((a) => a.serial), [2]);

    c.bobLater = h.commit(BOB, 'bob again', { 'g.txt': '1' });
    const since = await sameAsWhole();
    assert.deepEqual(since.filter((s) => s === c.bobLater || s === c.one), [c.bobLater], 'only the new commit');
    assert.equal((await audit(true)).report.entries.find((e) => e.object === c.bobLater)?.status, 'revoked', 'by the recorded revocation');
  });

  test('a branch moved back, a record changed by a byte, a new approval ref: every commit judged again, the same verdicts', async () => {
    const tip = h.rev('main');
    h.repo.git('update-ref', 'refs/heads/main', c.five);
    assert.ok((await sameAsWhole()).includes(c.one), 'moved back: the recorded tip is not in the history');
    h.repo.git('update-ref', 'refs/heads/main', tip);
    await audit(true);

    for (const name of readdirSync(recordDir()).filter((n) => n.startsWith('record-'))) {
      const path = join(recordDir(), name);
      const bytes = readFileSync(path);
      bytes[bytes.length - 10] ^= 1;
      writeFileSync(path, bytes);
    }
    assert.ok((await sameAsWhole()).includes(c.one), 'a record whose MAC fails is not read');
    assert.deepEqual((await sameAsWhole()).filter((s) => s === c.one), [], 'and is written again');

    h.repo.git('update-ref', 'refs/attestations/commits', c.one);
    assert.ok((await sameAsWhole()).includes(c.one), 'another approval state is another record');
  });

  test('a record under another record\'s name, a FIFO or a link in its place: not read, every commit judged, no hang', async () => {
    await audit(true);
    const byAge = readdirSync(recordDir())
      .filter((n) => n.startsWith('record-'))
      .map((n) => ({ n, t: statSync(join(recordDir(), n)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    assert.ok(byAge.length >= 2, 'two audit states left two records');
    const [active, other] = [join(recordDir(), byAge[0].n), join(recordDir(), byAge[1].n)];
    // Its MAC holds for its own name only: what it says of another approval state cannot stand for
    // this one, even with the name in its header changed to this one's.
    const text = readFileSync(other, 'utf8');
    const nl = text.indexOf('\n');
    const header = JSON.parse(text.slice(0, nl)) as { record: string };
    writeFileSync(active, `${JSON.stringify({ ...header, record: byAge[0].n })}${text.slice(nl)}`);
    assert.ok((await sameAsWhole()).includes(c.one), 'a record copied under another name');
    rmSync(active);
    execFileSync('mkfifo', [active]);
    assert.ok((await sameAsWhole()).includes(c.one), 'a FIFO');
    rmSync(active);
    symlinkSync(other, active);
    assert.ok((await sameAsWhole()).includes(c.one), 'a link');
    rmSync(active);
  });

  test('grafts give commits other parents under the same IDs: no record is used or written', async () => {
    writeFileSync(join(h.repo.dir, '.git', 'info', 'grafts'), `${c.five} ${c.base}\n`);
    const before = recordFiles();
    const first = await audit(true);
    const again = await audit(true);
    assert.ok(again.asked.includes(c.five), 'judged whole');
    assert.deepEqual(first.report.lines, again.report.lines);
    assert.deepEqual(recordFiles(), before, 'none written');
    rmSync(join(h.repo.dir, '.git', 'info', 'grafts'));
  });

  test('gitsign audit: a re-run prints what --no-cache prints; --no-cache writes no record', () => {
    const run = (args: string[]): string => {
      const r = h.gitsign(['audit', '--json', `${c.base}..main`, ...args]);
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
      return r.stdout;
    };
    h.repo.git('update-ref', '-d', 'refs/attestations/commits');
    run([]);
    c.cli = h.commit(ALICE, 'cli', { 'h.txt': '1' });
    const resumed = run([]);
    const kept = recordFiles();
    assert.equal(resumed, run(['--no-cache']));
    assert.deepEqual(recordFiles(), kept, '--no-cache wrote none');
  });
});
