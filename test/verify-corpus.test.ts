import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TempRepo } from './helpers/gitRepo';
import { corpusFile, importFiles, parseJsonLines, signedRows, type JsonLine, type Row } from './helpers/corpus';
import { sharedMissing } from './helpers/paths';

/**
 * The whole interoperability corpus (real signatures made by the Go gitsign) through `gitsign verify
 * --stdin --json`, one process per question, as a user checking a whole history would run it.
 */
const ANY_IDENTITY = ['--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];

describe('corpus: every gitsign-signed object', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  let rows: Row[];
  const bySha = new Map<string, Row>();

  before(() => {
    repo = new TempRepo();
    rows = signedRows();
    for (const kind of ['commit', 'tag'] as const) {
      const mine = rows.filter((r) => r.kind === kind);
      const shas = importFiles(repo, mine.map(corpusFile), kind);
      // hash-object gives back the name of each file: the corpus is byte-exact.
      assert.deepEqual(shas, mine.map((r) => r.sha));
    }
    for (const r of rows) bySha.set(r.sha, r);
  });

  after(() => repo?.remove());

  function verify(shas: string[], flags: string[]): { lines: JsonLine[]; status: number | null } {
    const r = repo.gitsign(['verify', '--stdin', '--json', ...flags], `${shas.join('\n')}\n`);
    assert.equal(r.stderr, '', 'no stray stderr output in --json mode');
    const lines = parseJsonLines(r.stdout);
    assert.deepEqual(lines.map((l) => l.object), shas, 'one JSON line per object, in input order');
    return { lines, status: r.status };
  }

  test('the corpus holds 1,850 objects: 1,779 commits and 71 tags', () => {
    assert.equal(rows.length, 1850);
    assert.equal(rows.filter((r) => r.kind === 'commit').length, 1779);
    assert.equal(rows.filter((r) => r.kind === 'tag').length, 71);
  });

  test('all 1,850 verify (signature, chain) offline with tlog and SCT ignored, in one process', () => {
    const { lines, status } = verify(rows.map((r) => r.sha), ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', ...ANY_IDENTITY]);
    const failed = lines.filter((l) => !l.verified);
    assert.deepEqual(failed.map((l) => `${l.object}: ${l.error?.code} ${l.error?.message}`), []);
    assert.equal(lines.filter((l) => l.verified).length, 1850);
    assert.equal(status, 0);
    for (const l of lines) {
      const row = bySha.get(l.object)!;
      assert.equal(l.type, row.kind, l.object);
      assert.ok(l.identities?.includes(row.signer_identity.replace(/^email:/, '')), `${l.object}: ${l.identities} lacks ${row.signer_identity}`);
      assert.equal(l.issuer, row.oidc_issuer, l.object);
      assert.match(l.certificateFingerprint ?? '', /^[0-9a-f]{40}$/);
      assert.equal(l.sctChecked, false);
      // Embedded entries are checked even when the log is "ignored" (ignoring means: do not look it up).
      assert.equal(l.tlog?.source, row.tlog_log_index === '-' ? 'none' : 'embedded', l.object);
      assert.equal(l.timeSource, row.tlog_log_index === '-' ? 'unattested' : 'tlog', l.object);
    }
  });

  test('the 22 objects with an embedded log entry verify with --offline alone (SET, proof, checkpoint, SCT)', () => {
    const embedded = rows.filter((r) => r.tlog_log_index !== '-');
    assert.equal(embedded.length, 22);
    assert.ok(embedded.some((r) => r.kind === 'tag'));
    const { lines, status } = verify(embedded.map((r) => r.sha), ['--offline']);
    assert.equal(status, 0);
    for (const l of lines) {
      const row = bySha.get(l.object)!;
      assert.equal(l.verified, true, `${l.object}: ${l.error?.code} ${l.error?.message}`);
      assert.equal(l.tlog?.source, 'embedded');
      assert.equal(String(l.tlog?.logIndex), row.tlog_log_index);
      assert.equal(String(l.tlog?.integratedTime), row.tlog_integrated_time);
      assert.equal(l.timeSource, 'tlog');
      assert.equal(l.sctChecked, true);
      // No identity flags: the certificate email must equal the committer's/tagger's.
      assert.match(l.identityCheck ?? '', row.kind === 'tag' ? /tagger email/ : /committer email/);
    }
  });

  test('the 52 leaves issued directly by the root carry no SCT and fail with SCT unless --insecure-ignore-sct', () => {
    const rootIssued = rows.filter((r) => r.chain === 'public-good-ca1.1');
    assert.equal(rootIssued.length, 52);
    const { lines, status } = verify(rootIssued.map((r) => r.sha), ['--offline', '--insecure-ignore-tlog', ...ANY_IDENTITY]);
    assert.equal(status, 1);
    for (const l of lines) {
      assert.equal(l.verified, false, l.object);
      assert.equal(l.error?.code, 'SCT', `${l.object}: ${l.error?.code} ${l.error?.message}`);
      assert.match(l.error?.message ?? '', /no embedded SCT/);
      // The failure still names the certificate it was about.
      assert.match(l.certificateFingerprint ?? '', /^[0-9a-f]{40}$/);
    }
  });

  test('the intermediate-issued leaves pass the SCT check (a sample of 100 plus every 2-certificate signature)', () => {
    const ca10 = rows.filter((r) => r.chain === 'public-good-ca1.0');
    const sample = [...ca10.filter((_, i) => i % Math.ceil(ca10.length / 100) === 0), ...ca10.filter((r) => r.n_certs_in_cms === '2')];
    const shas = [...new Set(sample.map((r) => r.sha))];
    const { lines, status } = verify(shas, ['--offline', '--insecure-ignore-tlog', ...ANY_IDENTITY]);
    assert.deepEqual(lines.filter((l) => !l.verified).map((l) => `${l.object}: ${l.error?.code} ${l.error?.message}`), []);
    assert.ok(lines.every((l) => l.sctChecked === true));
    assert.equal(status, 0);
  });

  test('online-mode objects, offline without --insecure-ignore-tlog, fail with TLOG_MISSING (never pass silently)', () => {
    const online = rows.filter((r) => r.tlog_log_index === '-' && r.chain === 'public-good-ca1.0').slice(0, 25);
    const { lines, status } = verify(online.map((r) => r.sha), ['--offline', ...ANY_IDENTITY]);
    assert.equal(status, 1);
    for (const l of lines) assert.equal(l.error?.code, 'TLOG_MISSING', `${l.object}: ${l.error?.message}`);
  });
});
