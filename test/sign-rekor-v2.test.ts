/**
 * gitsign.rekorVersion=2 end to end with real git against `gitsign sandbox`: commits and tags are
 * logged in the sandbox's Rekor v2 log as hashedrekord 0.0.2, the entry is embedded and verified with
 * the TSA's time; a tampered proof or checkpoint fails with TLOG; v2 without a TSA is a clear error.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodePem, encodePem } from '../src/cms/pem';
import { OID } from '../src/cms/oids';
import { findAttribute, parseSignedData } from '../src/cms/signedData';
import { splitCommit } from '../src/git/rawobj';
import { decodeLogEntry } from '../src/rekor/tlogEntry';
import { TempRepo } from './helpers/gitRepo';
import { signingRepo as configuredRepo, mintToken, sandboxPerFile } from './helpers/signingSandbox';
import { removeDir, tempDir } from './sandbox/support';


const sb = sandboxPerFile();

function signingRepo(extra: NodeJS.ProcessEnv = {}): TempRepo {
  return configuredRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir), GITSIGN_REKOR_VERSION: '2', GITSIGN_REKOR_MODE: 'offline', ...extra });
}

type VerifyJson = { verified: boolean; tlog: { source: string; kind: string | null; logIndex: number; integratedTime: number | null }; timeSource: string; error?: { code: string; message: string } };
const verifyJson = (repo: TempRepo, args: string[]): VerifyJson => JSON.parse(repo.gitsign(['verify', '--json', ...args]).stdout.trim().split('\n')[0]) as VerifyJson;

/** The commit's signature with one character of the embedded entry's bytes changed. */
function tamperedCommit(repo: TempRepo, sha: string, pick: (entryDer: Buffer, entry: ReturnType<typeof decodeLogEntry>) => number): string {
  const raw = execFileSync('git', ['cat-file', 'commit', sha], { cwd: repo.dir, env: repo.env });
  const { signature } = splitCommit(raw);
  const der = Buffer.from(decodePem(signature as Buffer).der);
  const [value] = findAttribute(parseSignedData(der).signers[0].unsignedAttrs, OID.rekorTransparencyLogEntry) ?? [];
  const at = der.indexOf(value.content) + pick(value.content, decodeLogEntry(value.content));
  der[at] ^= 0x01;
  const text = raw.toString('latin1');
  const oldPem = encodePem('SIGNED MESSAGE', decodePem(signature as Buffer).der).trimEnd().split('\n').join('\n ');
  const newPem = encodePem('SIGNED MESSAGE', der).trimEnd().split('\n').join('\n ');
  assert.ok(text.includes(oldPem), 'gpgsig header found');
  return execFileSync('git', ['hash-object', '-t', 'commit', '-w', '--stdin'], { cwd: repo.dir, env: repo.env, input: Buffer.from(text.replace(oldPem, newPem), 'latin1') }).toString().trim();
}

describe('git commit -S and git tag -s with rekorVersion=2 and a timestamp', () => {
  let repo: TempRepo;
  before(() => {
    repo = signingRepo();
    for (const n of [1, 2]) {
      writeFileSync(join(repo.dir, 'a.txt'), `hello ${n}\n`);
      repo.git('add', 'a.txt');
      repo.git('commit', '-S', '-q', '-m', `signed commit ${n}`);
    }
    repo.git('tag', '-s', 'v1', '-m', 'signed tag');
  });
  after(() => repo.remove());

  test('git verifies both', () => {
    assert.equal(repo.gitResult(['verify-commit', 'HEAD']).status, 0);
    assert.equal(repo.gitResult(['verify-tag', 'v1']).status, 0);
  });

  test('gitsign verify: embedded hashedrekord 0.0.2 entry, dated by the TSA', () => {
    for (const out of [verifyJson(repo, ['HEAD']), verifyJson(repo, ['HEAD~1']), JSON.parse(repo.gitsign(['verify-tag', '--json', 'v1']).stdout) as VerifyJson]) {
      assert.equal(out.verified, true, JSON.stringify(out));
      assert.equal(out.tlog.source, 'embedded');
      assert.equal(out.tlog.kind, 'hashedrekord/0.0.2');
      assert.equal(out.tlog.integratedTime, null);
      assert.equal(out.timeSource, 'tsa');
    }
    assert.equal(verifyJson(repo, ['HEAD']).tlog.logIndex, verifyJson(repo, ['HEAD~1']).tlog.logIndex + 1);
  });

  test('openssl cms -verify accepts the signature', () => {
    const raw = execFileSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repo.dir, env: repo.env });
    const { payload, signature } = splitCommit(raw);
    const dir = tempDir();
    try {
      writeFileSync(join(dir, 'payload'), payload);
      writeFileSync(join(dir, 'sig.pem'), (signature as Buffer).toString('latin1').replace(/SIGNED MESSAGE/g, 'CMS'));
      const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'PEM', '-in', 'sig.pem', '-content', 'payload', '-CAfile', sb.env.GITSIGN_FULCIO_ROOT, '-purpose', 'any', '-out', '/dev/null'], { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    } finally {
      removeDir(dir);
    }
  });

  test('a changed proof hash or checkpoint fails with TLOG', () => {
    const hash = tamperedCommit(repo, 'HEAD', (bytes, e) => bytes.indexOf(Buffer.from(e.inclusionProof?.hashes[0] ?? [])) + 3);
    const checkpoint = tamperedCommit(repo, 'HEAD', (bytes, e) => bytes.indexOf(Buffer.from(e.inclusionProof?.checkpoint?.envelope ?? '')) + 2);
    for (const sha of [hash, checkpoint]) {
      const out = verifyJson(repo, [sha]);
      assert.equal(out.verified, false);
      assert.equal(out.error?.code, 'TLOG', JSON.stringify(out));
    }
  });

  test("finding 9: an entry whose log index is not its inclusion proof's fails with TLOG (a v2 entry has no SET to sign its index)", () => {
    const moved = tamperedCommit(repo, 'HEAD', (bytes) => {
      assert.equal(bytes[0], 0x08, 'field 1 (logIndex) comes first');
      return 1; // its varint's low bit: the index moves by one, the proof does not
    });
    const out = verifyJson(repo, [moved]);
    assert.equal(out.verified, false);
    assert.equal(out.error?.code, 'TLOG', JSON.stringify(out));
    assert.match(out.error!.message, /inclusion proof is for log index \d+, the entry is at \d+/);
  });
});

describe('rekorVersion=2 misconfigured', () => {
  test('without a timestamp server: one clear line, no commit', () => {
    const repo = signingRepo({ GITSIGN_TIMESTAMP_SERVER_URL: '' });
    try {
      assert.notEqual(repo.gitResult(['commit', '--allow-empty', '-S', '-q', '-m', 'x']).status, 0);
      assert.notEqual(repo.gitResult(['rev-parse', '--verify', '-q', 'HEAD']).status, 0);
      const r = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n');
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^gitsign: error signing: rekorVersion=2 needs a timestamp authority .*timestampServerURL$/m);
      assert.equal(r.stdout, '');
    } finally {
      repo.remove();
    }
  });

  test('with enableSigstoreGo=false', () => {
    const repo = signingRepo({ GITSIGN_ENABLE_SIGSTORE_GO: 'false' });
    try {
      const r = repo.gitsign(['--status-fd=2', '-bsau', 'x'], 'tree x\n\nmsg\n');
      assert.equal(r.status, 2, 'a configuration gitsign cannot load exits 2, as Go');
      assert.match(r.stderr, /rekorVersion=2 requires enableSigstoreGo=true/);
    } finally {
      repo.remove();
    }
  });
});
