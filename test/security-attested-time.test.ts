/**
 * Finding 1 of issue 10: a time used to check a certificate comes only from a verified SET or a
 * verified RFC 3161 timestamp. A real embedded-entry signature, with its SET removed (the entry's
 * inclusion proof still verifies: it proves presence, not time), must not verify on any path; only
 * --insecure-ignore-tlog falls back to an unattested time, and then every output says so.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { octets } from '../src/asn1/writer';
import { buildSignedData } from '../src/cms/build';
import { OID } from '../src/cms/oids';
import { parseSignedData } from '../src/cms/signedData';
import { splitObject, type ObjectType } from '../src/git/rawobj';
import { decodeLogEntry, encodeLogEntry, type LogEntry } from '../src/rekor/tlogEntry';
import { TempRepo } from './helpers/gitRepo';
import { parseJsonLines, readCorpus, signatureDer, withSignature } from './helpers/corpus';
import { sharedMissing } from './helpers/paths';

const EMBEDDED_COMMIT = 'sigstore__gitsign/ac15fa730306fb4cc6839e6345cfd924e1517f7b.commit';
const EMBEDDED_TAG = 'sigstore__gitsign/f6a73d9c2b84ee0b46598600c14007f41fa7a6ac.tag';
const ONLINE_COMMIT = 'sigstore__fulcio/31e0d52a304ff1af782b4560f2b31e0ff9acce49.commit';
const ANY_IDENTITY = ['--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];

/** The object re-signed with its embedded log entry edited (the CMS rebuilt: lengths may change). */
function withEditedEntry(type: ObjectType, raw: Buffer, edit: (e: LogEntry) => void): Buffer {
  const { der } = signatureDer(type, raw);
  const sd = parseSignedData(der);
  const [si] = sd.signers;
  const rebuilt = buildSignedData({
    certDer: sd.certificates[0],
    signedAttrs: si.signedAttrsDer,
    signature: si.signature,
    unsignedAttrs: si.unsignedAttrs.map((a) => ({ oid: a.oid, values: a.values.map((v) => v.raw) })),
  });
  assert.ok(rebuilt.equals(der), 'the rebuilt signature is the original, byte for byte');
  const unsignedAttrs = si.unsignedAttrs.map((a) => {
    if (a.oid !== OID.rekorTransparencyLogEntry) return { oid: a.oid, values: a.values.map((v) => v.raw) };
    const entry = decodeLogEntry(a.values[0].content);
    edit(entry);
    return { oid: a.oid, values: [octets(encodeLogEntry(entry))] };
  });
  return withSignature(type, raw, buildSignedData({ certDer: sd.certificates[0], signedAttrs: si.signedAttrsDer, signature: si.signature, unsignedAttrs }));
}

const stripSet = (e: LogEntry): void => {
  e.inclusionPromise = undefined;
};

describe('finding 1: an unattested signing time is never accepted', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  const objects = new Map<string, { type: ObjectType; raw: Buffer; sha: string }>();

  before(() => {
    repo = new TempRepo();
    const add = (name: string, type: ObjectType, raw: Buffer) => objects.set(name, { type, raw, sha: repo.importBytes(raw, type) });
    const commit = readCorpus(EMBEDDED_COMMIT);
    const tag = readCorpus(EMBEDDED_TAG);
    add('commit', 'commit', commit);
    add('commit without SET', 'commit', withEditedEntry('commit', commit, stripSet));
    add('tag without SET', 'tag', withEditedEntry('tag', tag, stripSet));
    // The attacker's version: an expired key signs now, the SET is dropped and the time set back.
    add('commit without SET, time moved', 'commit', withEditedEntry('commit', commit, (e) => {
      stripSet(e);
      e.integratedTime = String(BigInt(e.integratedTime) - 86400n * 30n);
    }));
  });
  after(() => repo?.remove());

  test('finding 1: gitsign verify refuses an embedded entry stripped of its SET (UNATTESTED_TIME); the original verifies', () => {
    const names = [...objects.keys()];
    const r = repo.gitsign(['verify', '--stdin', '--json', '--offline', ...ANY_IDENTITY], names.map((n) => objects.get(n)!.sha).join('\n'));
    const lines = parseJsonLines(r.stdout);
    const got = Object.fromEntries(names.map((n, i) => [n, lines[i].verified ? 'VERIFIED' : lines[i].error!.code]));
    assert.deepEqual(got, {
      commit: 'VERIFIED',
      'commit without SET': 'UNATTESTED_TIME',
      'tag without SET': 'UNATTESTED_TIME',
      'commit without SET, time moved': 'UNATTESTED_TIME',
    });
    assert.match(lines[1].error!.message, /no signed entry timestamp \(SET\)/);
    assert.equal(r.status, 1);
  });

  test("finding 1: git's path (--status-fd=1 --verify) answers ERRSIG, never GOODSIG, for an entry without SET", () => {
    for (const name of ['commit without SET', 'commit without SET, time moved', 'tag without SET']) {
      const { type, raw } = objects.get(name)!;
      const { payload, signature } = splitObject(type, raw);
      const sigFile = join(repo.dir, 'sig');
      writeFileSync(sigFile, signature!);
      const r = repo.gitsign(['--status-fd=1', '--verify', sigFile, '-'], payload);
      assert.equal(r.status, 1, name);
      assert.doesNotMatch(r.stdout, /GOODSIG/, name);
      assert.match(r.stdout.split('\n')[1], /^\[GNUPG:\] ERRSIG /, name);
      assert.match(r.stderr, /no signed entry timestamp/, name);
    }
    assert.notEqual(repo.gitResult(['verify-commit', objects.get('commit without SET')!.sha]).status, 0);
  });

  test('finding 1: only --insecure-ignore-tlog falls back to an unattested time, and says so in text and --json', () => {
    // An embedded entry is still checked under the flag (ignoring the log means not looking it up).
    const stripped = repo.gitsign(['verify', '--json', '--offline', '--insecure-ignore-tlog', ...ANY_IDENTITY, objects.get('commit without SET')!.sha]);
    assert.equal(parseJsonLines(stripped.stdout)[0].error?.code, 'UNATTESTED_TIME');
    const sha = repo.importBytes(readCorpus(ONLINE_COMMIT), 'commit');
    const args = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', ...ANY_IDENTITY, sha];
    const [line] = parseJsonLines(repo.gitsign(['verify', '--json', ...args]).stdout);
    assert.equal(line.verified, true);
    const report = line as unknown as { timeSource: string; tlog: { source: string }; warnings: string[] };
    assert.equal(report.timeSource, 'unattested');
    assert.equal(report.tlog.source, 'none');
    assert.deepEqual(report.warnings.map((w) => w.replace(/ \d{4}-.*Z /, ' T ')), [
      'the transparency log was not checked (--insecure-ignore-tlog)',
      "the certificate's SCT was not checked (--insecure-ignore-sct)",
      'no log entry or timestamp attests the signing time; the certificate was checked at its notBefore T (--insecure-ignore-tlog)',
    ]);
    const text = repo.gitsign(['verify', ...args]);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout + text.stderr, /WARNING: the transparency log was not checked \(--insecure-ignore-tlog\)/);
    assert.match(text.stdout + text.stderr, /WARNING: no log entry or timestamp attests the signing time/);
    // Without the flag the same object is refused: nothing dates it.
    const strict = parseJsonLines(repo.gitsign(['verify', '--json', '--offline', '--insecure-ignore-sct', ...ANY_IDENTITY, sha]).stdout)[0];
    assert.equal(strict.verified, false);
  });
});
