import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TempRepo } from './helpers/gitRepo';
import { importFiles, parseJsonLines, readTsv, type Row } from './helpers/corpus';
import { CORPUS, sharedMissing } from './helpers/paths';

/**
 * corpus/other: real objects that are not gitsign signatures (PGP, SSH, unsigned, gitsign's --help text
 * in the gpgsig header, a DigiCert S/MIME signature). Each must be rejected, with a reason that says what
 * it is, even with every check that can be relaxed relaxed.
 */
const PERMISSIVE = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];

const EXPECTED: Record<string, { code: string; message: RegExp }> = {
  none: { code: 'NOT_SIGNED', message: /is not signed/ },
  pgp: { code: 'UNSUPPORTED_SIGNATURE', message: /unsupported signature type "PGP SIGNATURE"/ },
  ssh: { code: 'UNSUPPORTED_SIGNATURE', message: /unsupported signature type "SSH SIGNATURE"/ },
  other: { code: 'MALFORMED_SIGNATURE', message: /no PEM block/ },
  'x509-nonfulcio': { code: 'CERTIFICATE', message: /not trusted.*DigiCert/ },
};

describe('corpus/other: objects that are not gitsign signatures', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  let rows: Row[];

  before(() => {
    repo = new TempRepo();
    rows = readTsv(join(CORPUS, 'other', 'INDEX.tsv'));
    for (const kind of ['commit', 'tag'] as const) {
      const mine = rows.filter((r) => r.kind === kind);
      assert.deepEqual(importFiles(repo, mine.map((r) => join(CORPUS, r.file)), kind), mine.map((r) => r.sha));
    }
  });

  after(() => repo?.remove());

  test('the set covers every kind: 22 unsigned, 21 PGP, 22 SSH, 4 --help texts, 1 DigiCert', () => {
    const count = (t: string) => rows.filter((r) => r.sig_type === t).length;
    assert.deepEqual([count('none'), count('pgp'), count('ssh'), count('other'), count('x509-nonfulcio')], [22, 21, 22, 4, 1]);
    assert.equal(rows.length, 70);
    for (const r of rows) assert.ok(EXPECTED[r.sig_type], `unknown sig_type ${r.sig_type}`);
  });

  test('each one is rejected with the reason of its kind, with every relaxable check relaxed', () => {
    const r = repo.gitsign(['verify', '--stdin', '--json', ...PERMISSIVE], rows.map((x) => x.sha).join('\n'));
    assert.equal(r.status, 1);
    const lines = parseJsonLines(r.stdout);
    assert.deepEqual(lines.map((l) => l.object), rows.map((x) => x.sha));
    const wrong: string[] = [];
    rows.forEach((row, i) => {
      const l = lines[i];
      const want = EXPECTED[row.sig_type];
      assert.equal(l.verified, false, `${row.file} verified`);
      assert.equal(l.type, row.kind);
      if (l.error?.code !== want.code || !want.message.test(l.error.message)) {
        wrong.push(`${row.file} (${row.sig_type}): ${l.error?.code} ${l.error?.message}`);
      }
    });
    assert.deepEqual(wrong, []);
  });

  test('the DigiCert S/MIME signature is a sound CMS signature: only trust fails, and the report names its certificate', () => {
    const row = rows.find((r) => r.sig_type === 'x509-nonfulcio')!;
    const r = repo.gitsign(['verify', '--json', ...PERMISSIVE, row.sha]);
    const [l] = parseJsonLines(r.stdout);
    assert.equal(l.error?.code, 'CERTIFICATE');
    assert.deepEqual(l.identities, ['Arber.Salihi@thomsonreuters.com']);
    assert.match(l.certificateFingerprint ?? '', /^[0-9a-f]{40}$/);
  });

  test('without --json: one "gitsign:" line per object on stderr, nothing on stdout, exit 1', () => {
    const sample = ['none', 'pgp', 'ssh', 'other', 'x509-nonfulcio'].map((t) => rows.find((r) => r.sig_type === t)!);
    const r = repo.gitsign(['verify', '--stdin', ...PERMISSIVE], sample.map((x) => x.sha).join('\n'));
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    // One line per object (any other line, such as a closing count, is not an object's).
    const errors = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('gitsign: '));
    assert.equal(errors.length, sample.length, r.stderr);
    sample.forEach((row, i) => {
      assert.ok(errors[i].startsWith(`gitsign: ${row.kind} ${row.sha}: `), errors[i]);
      assert.match(errors[i], EXPECTED[row.sig_type].message);
    });
  });

  test('a single unsigned commit given by name: exit 1 with "is not signed"', () => {
    const row = rows.find((r) => r.sig_type === 'none' && r.kind === 'commit')!;
    const r = repo.gitsign(['verify', ...PERMISSIVE, row.sha]);
    assert.equal(r.status, 1);
    assert.ok(r.stderr.startsWith(`gitsign: commit ${row.sha}: `), r.stderr);
    assert.match(r.stderr, /is not signed\n$/);
  });
});
