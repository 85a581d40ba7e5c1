/**
 * Issue 13, "output people read every day", with real git against `gitsign sandbox`: who signed in
 * git's %GS (and %GT), the short block git shows, the summary line, --quiet and colour of `gitsign
 * verify`, and the consistency of verify-attestation, verify-bundle and attest (their JSON and text).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeAttestation } from '../src/attest/store';
import { terminalLine } from '../src/text/terminal';
import { parseJsonLines } from './helpers/corpus';
import { TempRepo } from './helpers/gitRepo';
import { BIN, CONFORMANCE } from './helpers/paths';
import { mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';

const sb = sandboxPerFile();
const EMAIL = 'test@example.com'; // TempRepo's committer
const WARNING = 'WARNING: git verify-commit does not verify cert claims. Prefer using `gitsign verify` instead.';
/** Terminal controls other than tab and newline. */
const RAW = /(?![\t\n])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
const ESC = '\u001b';
/** A failed object's line (its prefix is "Error: " or, after the error-style change, "gitsign: "). */
const notSigned = (sha: string): RegExp => new RegExp(`^(?:Error|gitsign): commit ${sha}: the commit is not signed$`);

/** A repository signing with gitsign-ts against the sandbox (one log entry, no timestamp) as `email`. */
function repoSigningAs(email = EMAIL, claims?: Record<string, unknown>): TempRepo {
  return signingRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(sb.dir, email, claims), GITSIGN_TIMESTAMP_SERVER_URL: '' });
}

function commit(repo: TempRepo, message: string, sign = true): string {
  repo.git('commit', '-q', '--allow-empty', ...(sign ? ['-S'] : []), '-m', message);
  return repo.git('rev-parse', 'HEAD').trim();
}

interface Report {
  object: string;
  verified: boolean;
  identities: string[];
  signingTime: string | null;
  timeSource: string | null;
  tlog: { source: string; kind: string | null; logIndex: number | null; integratedTime: number | null };
  identityCheck?: string;
  warnings: string[];
  error?: { code: string; message: string };
  name?: string;
}

const reports = (stdout: string): Report[] => parseJsonLines(stdout) as unknown as Report[];

describe('git shows who signed: %GS, %GT and a two-line block', () => {
  let repo: TempRepo;
  let sha: string;
  before(() => {
    repo = repoSigningAs();
    sha = commit(repo, 'signed');
  });
  after(() => repo?.remove());

  test('%GS is the certificate identity and %GT "fully" (git 2.39 aborted on %GT with an empty signer)', () => {
    const r = repo.gitResult(['log', '-1', '--format=%G?|%GS|%GT|']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `G|${EMAIL}|fully|`);
    // git reads the trust level: gpg.minTrustLevel works as with gpgsm.
    assert.equal(repo.gitResult(['-c', 'gpg.minTrustLevel=fully', 'verify-commit', sha]).status, 0);
    assert.equal(repo.gitResult(['-c', 'gpg.minTrustLevel=ultimate', 'verify-commit', sha]).status, 1);
  });

  test('git verify-commit and log --show-signature: one line with signer, issuer, Rekor time and index, then the warning', () => {
    const json = reports(repo.gitsign(['verify', '--json', sha]).stdout)[0];
    assert.equal(json.verified, true, json.error?.message);
    const when = new Date((json.tlog.integratedTime ?? 0) * 1000).toISOString().replace('T', ' ').replace('.000Z', ' UTC');
    const good = `gitsign: Good signature from ${EMAIL} (${sb.env.GITSIGN_OIDC_ISSUER}), logged in Rekor at ${when} (log index ${json.tlog.logIndex})`;
    const v = repo.gitResult(['verify-commit', sha]);
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stderr, `${good}\n${WARNING}\n`);
    const log = repo.git('log', '--show-signature', '-1', sha);
    assert.ok(log.startsWith(`commit ${sha}\n${good}\n${WARNING}\nAuthor: `), log);
  });

  test('a certificate identity with ESC, CR and LF stays one escaped line in %GS', () => {
    const hostile = `eve\u001b[2K\r\nG|ceo@example.com\u0007@example.com`;
    const eve = repoSigningAs('eve@example.com', { email: hostile, email_verified: true });
    try {
      commit(eve, 'signed by a hostile identity');
      const r = eve.gitResult(['log', '-1', '--format=%G?|%GS|%GT|']);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, RAW);
      assert.equal(r.stdout, `G|${terminalLine(hostile)}|fully|\n`);
    } finally {
      eve.remove();
    }
  });
});

describe('gitsign verify over many objects: summary, --quiet, colour', () => {
  let repo: TempRepo;
  let shas: string[];
  before(() => {
    repo = repoSigningAs();
    shas = [commit(repo, 'one'), commit(repo, 'two'), commit(repo, 'unsigned', false)];
  });
  after(() => repo?.remove());

  test('many objects end with one summary line on stderr; one object, and --json, print none', () => {
    const many = repo.gitsign(['verify', '--stdin'], `${shas.join('\n')}\n`);
    assert.equal(many.status, 1);
    assert.equal(many.stdout.match(/^gitsign: Good signature from /gm)?.length, 2);
    const [failure, count, ...rest] = many.stderr.split('\n');
    assert.deepEqual([count, ...rest], ['2 verified, 1 failed', ''], many.stderr);
    assert.match(failure, notSigned(shas[2]));
    const range = repo.gitsign(['verify', `${shas[0]}..${shas[1]}`]);
    assert.equal(range.status, 0, range.stderr);
    assert.equal(range.stderr, '1 verified, 0 failed\n');
    const one = repo.gitsign(['verify', shas[0]]);
    assert.equal(one.status, 0, one.stderr);
    assert.equal(one.stderr, '');
    const json = repo.gitsign(['verify', '--json', '--stdin'], `${shas.join('\n')}\n`);
    assert.equal(json.status, 1);
    assert.equal(json.stderr, '');
    assert.equal(reports(json.stdout).length, 3);
  });

  test('--quiet (-q) prints only what failed; the exit status says the rest', () => {
    const bad = repo.gitsign(['verify', '--quiet', '--stdin'], `${shas.join('\n')}\n`);
    assert.equal(bad.status, 1);
    assert.equal(bad.stdout, '');
    const [failure, ...rest] = bad.stderr.split('\n');
    assert.match(failure, notSigned(shas[2]));
    assert.deepEqual(rest, ['']);
    const good = repo.gitsign(['verify', '-q', shas[0], shas[1]]);
    assert.deepEqual([good.status, good.stdout, good.stderr], [0, '', '']);
    const json = repo.gitsign(['verify', '-q', '--json', ...shas]);
    assert.equal(json.status, 1);
    assert.deepEqual(reports(json.stdout).map((r) => [r.object, r.verified]), [[shas[2], false]]);
  });

  const script = spawnSync('script', ['--version'], { encoding: 'utf8' });
  const noScript = script.status === 0 ? false : 'util-linux script(1) is not installed: no pseudo-terminal to test colour on';

  test('colour only on a terminal (green verified, red failed), never with NO_COLOR or when piped', { skip: noScript }, () => {
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} verify ${shas.join(' ')}`;
    const onTerminal = (extra: NodeJS.ProcessEnv): string => {
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: repo.dir, env: { ...repo.env, TERM: 'xterm', ...extra }, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, r.stdout + r.stderr);
      return r.stdout;
    };
    const coloured = onTerminal({});
    assert.equal(coloured.match(new RegExp(`${ESC}\\[32mgitsign: Good signature from \\[${EMAIL}\\]`, 'g'))?.length, 2, coloured);
    assert.match(coloured, new RegExp(`\u001b\\[31m(?:Error|gitsign): commit ${shas[2]}: the commit is not signed\u001b\\[0m`));
    assert.ok(coloured.includes(`${ESC}[31m2 verified, 1 failed${ESC}[0m`), coloured);
    assert.ok(!onTerminal({ NO_COLOR: '1' }).includes(ESC));
    const piped = repo.gitsign(['verify', ...shas]);
    assert.ok(!(piped.stdout + piped.stderr).includes(ESC));
  });

  test('a tag: identityCheck and the identity error name the tagger, not the committer', () => {
    repo.git('tag', '-s', '-m', 'release', 'v1', shas[0]);
    const ok = reports(repo.gitsign(['verify-tag', '--json', 'v1']).stdout)[0];
    assert.equal(ok.verified, true, ok.error?.message);
    assert.equal(ok.identityCheck, `certificate email equals tagger email ${EMAIL}`);
    const other = { ...repo.env, GIT_COMMITTER_EMAIL: 'tagger@example.com' };
    assert.equal(spawnSync('git', ['tag', '-s', '-m', 'by another tagger', 'v2', shas[0]], { cwd: repo.dir, env: other }).status, 0);
    const bad = reports(repo.gitsign(['verify-tag', '--json', 'v2']).stdout)[0];
    assert.equal(bad.error?.code, 'IDENTITY');
    assert.match(bad.error?.message ?? '', /does not match the tagger email tagger@example\.com/);
    assert.equal(bad.identityCheck, 'certificate email equals tagger email tagger@example.com');
  });

  test('identityCheck is in --json only when the check ran', () => {
    const [unsigned] = reports(repo.gitsign(['verify', '--json', shas[2]]).stdout);
    assert.equal(unsigned.error?.code, 'NOT_SIGNED');
    assert.ok(!('identityCheck' in unsigned), JSON.stringify(unsigned));
    const [wrong] = reports(repo.gitsign(['verify', '--json', '--certificate-identity', 'x@example.com', '--certificate-oidc-issuer', 'https://x', shas[0]]).stdout);
    assert.equal(wrong.error?.code, 'IDENTITY');
    assert.equal(wrong.identityCheck, 'certificate flags');
  });
});

describe('attestations: --offline, --insecure-ignore-tlog, JSON and text agree', () => {
  let repo: TempRepo;
  let head: string;
  let index: string;
  before(() => {
    repo = repoSigningAs();
    repo.git('config', '--global', 'user.name', 'Alice Attester');
    repo.git('config', '--global', 'user.email', 'alice@example.com');
    head = commit(repo, 'attested', false);
    writeFileSync(join(repo.dir, 'p.json'), '{"p":1}');
    const r = repo.gitsign(['attest', '-f', 'p.json']);
    assert.equal(r.status, 0, r.stderr);
    index = /^tlog entry [0-9a-f]{64,80} at log index (\d+) \(intoto\/0\.0\.1\)$/m.exec(r.stdout)?.[1] ?? 'missing';
  });
  after(() => repo?.remove());

  test('text says "Rekor intoto/0.0.1" and --json tlog.kind the same, with the index attest printed', () => {
    const text = repo.gitsign(['verify-attestation']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^refs/attestations/commits ${head}/p.json: \\(no predicate type\\) \\(Rekor intoto/0\\.0\\.1\\)$`, 'm'));
    const [json] = reports(repo.gitsign(['verify-attestation', '--json']).stdout);
    assert.deepEqual([json.verified, json.tlog.source, json.tlog.kind, String(json.tlog.logIndex)], [true, 'online', 'intoto/0.0.1', index]);
    assert.equal(json.identityCheck, `certificate email equals committer email ${EMAIL}`);
    const quiet = repo.gitsign(['verify-attestation', '-q']);
    assert.deepEqual([quiet.status, quiet.stdout, quiet.stderr], [0, '', '']);
  });

  test('--offline (or gitsign.offline) is refused in one sentence: the certificate is only in the log', () => {
    const cases = [
      [['--offline'], {}, '--offline'],
      [['--offline', '--insecure-ignore-tlog'], {}, '--offline'],
      [[], { GITSIGN_OFFLINE: 'true' }, 'gitsign.offline or GITSIGN_OFFLINE is set'],
    ] as const;
    for (const [args, env, why] of cases) {
      const r = repo.gitsign(['verify-attestation', ...args], undefined, env);
      assert.notEqual(r.status, 0);
      assert.equal(r.stdout, '');
      const sentence = `attestations cannot be verified offline (${why}): their envelopes hold no certificate, which only their Rekor entries have; verify them with network access to Rekor`;
      assert.equal(r.stderr, `gitsign: ${sentence}\n`);
    }
  });

  test('--insecure-ignore-tlog takes the certificate from the log unverified, attests no time, and says so everywhere', () => {
    const r = repo.gitsign(['verify-attestation', '--json', '--insecure-ignore-tlog']);
    assert.equal(r.status, 0, r.stderr);
    const [json] = reports(r.stdout);
    assert.equal(json.verified, true, json.error?.message);
    assert.deepEqual([json.tlog.source, json.tlog.kind, json.tlog.logIndex, json.timeSource], ['none', null, null, 'unattested']);
    assert.ok(json.warnings.some((w) => /transparency log was not checked/.test(w)), json.warnings.join('; '));
    const text = repo.gitsign(['verify-attestation', '--insecure-ignore-tlog']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /p\.json: \(no predicate type\) \(transparency log not checked\)\n/);
    assert.match(text.stdout, /^Validated Rekor entry: false$/m);
    assert.match(text.stdout, /^WARNING: no log entry or timestamp attests the signing time/m);
  });

  test('identityCheck only when the check ran: not for an envelope no log records, yes for a wrong subject', async () => {
    const envelope = repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/p.json.sig`);
    const file = repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/p.json`);
    const store = async (name: string, env: string): Promise<string> => {
      const sha = commit(repo, name, false);
      const author = { name: 'M', email: 'm@example.com' };
      await storeAttestation({ kind: 'commit', sha, name, file: Buffer.from(file), envelope: Buffer.from(env), author, now: new Date() }, { cwd: repo.dir, env: repo.env });
      return sha;
    };
    const signed = JSON.parse(envelope) as { payload: string };
    const statement = Buffer.from(signed.payload, 'base64').toString().replace('"p":1', '"p":2');
    const unlogged = await store('unlogged.json', JSON.stringify({ ...signed, payload: Buffer.from(statement).toString('base64') }));
    const [a] = reports(repo.gitsign(['verify-attestation', '--json', unlogged]).stdout);
    assert.equal(a.error?.code, 'TLOG_MISSING');
    assert.ok(!('identityCheck' in a), JSON.stringify(a));
    const copied = await store('copied.json', envelope);
    const [b] = reports(repo.gitsign(['verify-attestation', '--json', copied]).stdout);
    assert.equal(b.error?.code, 'CONTENT_MISMATCH');
    assert.equal(b.identityCheck, `certificate email equals committer email ${EMAIL}`);
  });
});

describe('verify-bundle: --json and the -regexp identity flags', () => {
  const HAPPY = join(CONFORMANCE, 'happy-path-v0.3');
  const env = { SIGSTORE_NO_CACHE: '1' };
  const run = (args: string[]) =>
    spawnSync(process.execPath, [BIN, 'verify-bundle', '--bundle', join(HAPPY, 'bundle.sigstore.json'), ...args, join(CONFORMANCE, 'a.txt')], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const byPattern = ['--certificate-identity-regexp', '^https://github\\.com/sigstore-conformance/', '--certificate-oidc-issuer-regexp', 'githubusercontent'];

  test('patterns verify; --json has the fields of gitsign verify --json', { skip: sharedOrSkip() }, () => {
    const text = run(byPattern);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^Verified OK: /);
    const json = run([...byPattern, '--json']);
    assert.equal(json.status, 0, json.stderr);
    const [r] = reports(json.stdout);
    assert.equal(r.verified, true);
    assert.match(r.identities[0], /^https:\/\/github\.com\/sigstore-conformance\//);
    assert.deepEqual([r.tlog.source, r.tlog.kind, r.timeSource, r.identityCheck], ['embedded', 'hashedrekord/0.0.1', 'tlog', 'certificate flags']);
    assert.equal(typeof r.tlog.logIndex, 'number');
    assert.equal(r.warnings.length, 0);
  });

  test('a pattern that does not match: exit 1, the JSON names the error and the check that ran', { skip: sharedOrSkip() }, () => {
    const r = run(['--certificate-identity-regexp', '^mailto:', '--certificate-oidc-issuer-regexp', '.', '--json']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, '');
    const [report] = reports(r.stdout);
    assert.deepEqual([report.verified, report.error?.code, report.identityCheck], [false, 'IDENTITY', 'certificate flags']);
    const bad = spawnSync(process.execPath, [BIN, 'verify-bundle', '--bundle', '/nonexistent.json', ...byPattern, '--json', join(CONFORMANCE, 'a.txt')], { encoding: 'utf8' });
    assert.equal(bad.status, 1);
    const [unread] = reports(bad.stdout);
    assert.equal(unread.error?.code, 'USAGE');
    assert.ok(!('identityCheck' in unread));
  });
});

function sharedOrSkip(): string | false {
  return existsSync(CONFORMANCE) ? false : `../shared/conformance/bundle-verify is absent (expected at ${CONFORMANCE})`;
}
