/**
 * Signing end to end with real git against `gitsign sandbox` (a separate process speaking Fulcio's,
 * Rekor's and a TSA's HTTP APIs on 127.0.0.1): commits and tags in both Rekor modes, with and without
 * a timestamp, verified by our verifier, by git, and by openssl; faults leave the repository as it was.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Der } from '../src/asn1/reader';
import { decodePem } from '../src/cms/pem';
import { parseSignedData } from '../src/cms/signedData';
import { splitCommit, splitTag } from '../src/git/rawobj';
import { seededPublicGoodRoot } from '../src/trust/publicGood';
import type { TempRepo } from './helpers/gitRepo';
import { signingRepo as configuredRepo, mintToken as mintSandboxToken, sandboxPerFile } from './helpers/signingSandbox';
import { BIN, CORPUS, sharedMissing } from './helpers/paths';
import { removeDir, tempDir } from './sandbox/support';
import { closedPort } from './helpers/offlineMirror';

const EMAIL = 'test@example.com'; // TempRepo's committer

function mintToken(subject = EMAIL): string {
  return mintSandboxToken(sb.dir, subject);
}

/** A repository configured per repository to sign with gitsign-ts against the sb.sandbox. */
function signingRepo(extra: NodeJS.ProcessEnv = {}): TempRepo {
  return configuredRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(), ...extra });
}

/** The public-good trusted root (seeded in @sigstore/tuf) as a file: a trust root without the sb.sandbox. */
function publicGoodRootFile(): string {
  const file = join(sb.dir, 'public-good-trusted-root.json');
  writeFileSync(file, JSON.stringify(seededPublicGoodRoot()));
  return file;
}

const sb = sandboxPerFile();

function verifyJson(repo: TempRepo, args: string[]): { verified: boolean; tlog: { source: string; logIndex: number }; timeSource: string; error?: { code: string } } {
  const r = repo.gitsign(['verify', '--json', ...args]);
  return JSON.parse(r.stdout.trim().split('\n')[0]);
}

function unsignedAttrOids(signature: Buffer): string[] {
  return parseSignedData(decodePem(signature).der).signers[0].unsignedAttrs.map((a) => a.oid);
}

function opensslVerify(payload: Buffer, signature: Buffer): { status: number | null; stderr: string } {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'payload'), payload);
    writeFileSync(join(dir, 'sig.pem'), signature.toString('latin1').replace(/SIGNED MESSAGE/g, 'CMS'));
    // The sandbox's Fulcio chain (intermediate and root) as the trusted CAs.
    const r = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'PEM', '-in', 'sig.pem', '-content', 'payload', '-CAfile', sb.env.GITSIGN_FULCIO_ROOT, '-purpose', 'any', '-out', '/dev/null'], { cwd: dir, encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  } finally {
    removeDir(dir);
  }
}

for (const mode of ['offline', 'online'] as const) {
  for (const tsa of [true, false]) {
    describe(`git commit -S and git tag -s, rekorMode=${mode}, ${tsa ? 'with' : 'without'} a timestamp`, () => {
      let repo: TempRepo;
      before(() => {
        repo = signingRepo({ GITSIGN_REKOR_MODE: mode, ...(tsa ? {} : { GITSIGN_TIMESTAMP_SERVER_URL: '' }) });
        writeFileSync(join(repo.dir, 'a.txt'), 'hello\n');
        repo.git('add', 'a.txt');
        repo.git('commit', '-S', '-q', '-m', 'signed commit');
        repo.git('tag', '-s', 'v1', '-m', 'signed tag');
      });
      after(() => repo.remove());

      test('git verifies both (verify-commit, verify-tag, %G? = G)', () => {
        assert.equal(repo.gitResult(['verify-commit', 'HEAD']).status, 0);
        assert.equal(repo.gitResult(['verify-tag', 'v1']).status, 0);
        assert.equal(repo.git('log', '-1', '--format=%G?').trim(), 'G');
      });

      test('gitsign verify finds the log entry where the mode put it', () => {
        for (const out of [verifyJson(repo, ['HEAD']), JSON.parse(repo.gitsign(['verify-tag', '--json', 'v1']).stdout)]) {
          assert.equal(out.verified, true, JSON.stringify(out));
          assert.equal(out.tlog.source, mode === 'offline' ? 'embedded' : 'online');
          assert.equal(out.timeSource, 'tlog');
        }
      });

      test('the signature carries exactly the unsigned attributes of the mode', () => {
        const { signature } = splitCommit(Buffer.from(repo.git('cat-file', 'commit', 'HEAD'), 'latin1'));
        const expected = [...(mode === 'offline' ? ['1.3.6.1.4.1.57264.3.1'] : []), ...(tsa ? ['1.2.840.113549.1.9.16.2.14'] : [])];
        assert.deepEqual(unsignedAttrOids(signature!).sort(), expected.sort());
      });

      test('openssl cms -verify accepts commit and tag signatures with the sandbox chain', () => {
        const commit = splitCommit(execFileSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repo.dir, env: repo.env }));
        const tag = splitTag(execFileSync('git', ['cat-file', 'tag', 'v1'], { cwd: repo.dir, env: repo.env }));
        for (const { payload, signature } of [commit, tag]) {
          const r = opensslVerify(payload, signature!);
          assert.equal(r.status, 0, r.stderr);
        }
        const bad = opensslVerify(Buffer.concat([commit.payload, Buffer.from('x')]), commit.signature!);
        assert.notEqual(bad.status, 0);
      });
    });
  }
}

/** The skeleton of a CMS: every element's tag down to the signer info, values left out. */
function shape(d: Der, depth = 0): string {
  if (depth > 6 || !d.children.length) return `${d.tagClass}:${d.tagNumber}`;
  return `${d.tagClass}:${d.tagNumber}(${d.children.map((c) => shape(c, depth + 1)).join(',')})`;
}

test('the CMS has the ASN.1 shape of a real gitsign offline-mode signature, field by field', { skip: sharedMissing() }, () => {
  const repo = signingRepo({ GITSIGN_TIMESTAMP_SERVER_URL: '' });
  try {
    repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'shape');
    const ours = decodePem(splitCommit(execFileSync('git', ['cat-file', 'commit', 'HEAD'], { cwd: repo.dir, env: repo.env })).signature!).der;
    const real = decodePem(splitCommit(readFileSync(join(CORPUS, 'sigstore__gitsign', 'fe1e62346d3c346a343d089e8b4c3fb57716bc94.commit'))).signature!).der;
    const skeleton = (der: Buffer): string => {
      const sd = Der.parse(der, 'cms').child(1, 'c').child(0, 'sd');
      const [version, digests, encap, , signerInfos] = sd.children;
      const si = signerInfos.child(0, 'si');
      const [siVersion, sid, digestAlg, signedAttrs, sigAlg, sig, unsigned] = si.children;
      return JSON.stringify({
        version: version.content.toString('hex'),
        digests: digests.raw.toString('hex'),
        encap: encap.raw.toString('hex'),
        certificates: sd.children[3].children.length,
        siVersion: siVersion.content.toString('hex'),
        sid: shape(sid, 5),
        digestAlg: digestAlg.raw.toString('hex'),
        signedAttrs: signedAttrs.children.map((a) => `${a.child(0, 'oid').oid}=${shape(a.child(1, 'v'))}`),
        signedAttrsLength: signedAttrs.raw.length,
        sigAlg: sigAlg.raw.toString('hex'),
        sig: shape(sig),
        unsigned: unsigned.children.map((a) => `${a.child(0, 'oid').oid}=${shape(a.child(1, 'v'))}`),
      });
    };
    assert.equal(skeleton(ours), skeleton(real));
  } finally {
    repo.remove();
  }
});

test('git -bsau protocol: BEGIN_SIGNING, then SIG_CREATED D 19 9 00 <time> <sha1 of the leaf>, signature alone on stdout', () => {
  const repo = signingRepo();
  try {
    const payload = 'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <test@example.com> 1 +0000\ncommitter A <test@example.com> 1 +0000\n\nmsg\n';
    const before = Math.floor(Date.now() / 1000);
    const r = spawnSync(process.execPath, [BIN, '--status-fd=2', '-bsau', 'A <test@example.com>'], { cwd: repo.dir, env: repo.env, input: payload });
    assert.equal(r.status, 0, r.stderr.toString());
    const stdout = r.stdout.toString('latin1');
    assert.match(stdout, /^-----BEGIN SIGNED MESSAGE-----\n([A-Za-z0-9+/=]{64}\n)*[A-Za-z0-9+/=]{1,64}\n-----END SIGNED MESSAGE-----\n$/);
    const leaf = parseSignedData(decodePem(r.stdout).der).certificates[0];
    const fpr = createHash('sha1').update(leaf).digest('hex');
    const status = r.stderr.toString().split('\n').filter((l) => l.startsWith('[GNUPG:] '));
    assert.equal(status.length, 2, r.stderr.toString());
    assert.equal(status[0], '[GNUPG:] BEGIN_SIGNING');
    const m = /^\[GNUPG:\] SIG_CREATED D 19 9 00 (\d+) ([0-9a-f]{40})$/.exec(status[1]);
    assert.ok(m, status[1]);
    assert.ok(Number(m[1]) >= before && Number(m[1]) <= before + 60);
    assert.equal(m[2], fpr);
  } finally {
    repo.remove();
  }
});

describe('faults: one clear line, exit 1, nothing on stdout, nothing lost', () => {
  async function faults(): Promise<[string, NodeJS.ProcessEnv, RegExp][]> {
    const port = await closedPort();
    return [
      // Without any token gitsign logs in (test/login-browser.test.ts covers its failures); the envvar
      // provider named alone has no login to fall back on.
      ['no token', { SIGSTORE_ID_TOKEN: undefined, GITSIGN_TOKEN_PROVIDER: 'envvar' }, /token provider envvar is not available here/],
      ['a token that is not a JWT', { SIGSTORE_ID_TOKEN: 'not-a-token' }, /not a JWT/],
      ['a token Fulcio rejects', { SIGSTORE_ID_TOKEN: `${mintToken().slice(0, -8)}AAAAAAAA` }, /Fulcio answered 40\d/],
      ['Fulcio unreachable', { GITSIGN_FULCIO_URL: `http://127.0.0.1:${port}` }, /cannot reach Fulcio at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
      ['Rekor unreachable', { GITSIGN_REKOR_URL: `http://127.0.0.1:${port}` }, /cannot reach Rekor at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/],
      ['a trust root that does not hold the sandbox CA', { GITSIGN_TRUSTED_ROOT: publicGoodRootFile() }, /certificate from Fulcio does not verify/],
    ];
  }

  test('each fault fails git commit -S with the repository untouched', async () => {
    for (const [name, env, message] of await faults()) {
      const repo = signingRepo(env);
      try {
        writeFileSync(join(repo.dir, 'file.txt'), 'work in progress\n');
        repo.git('add', 'file.txt');
        writeFileSync(join(repo.dir, 'unstaged.txt'), 'keep me\n');
        const statusBefore = repo.git('status', '--porcelain');
        const r = repo.gitResult(['commit', '-S', '-m', 'must not be made']);
        // git 2.39 keeps a failing signer's stderr to itself; the message goes to the terminal (checked below).
        assert.notEqual(r.status, 0, `${name}: the commit was made`);
        assert.match(r.stderr, /failed to sign/, `${name}: ${r.stderr}`);
        assert.equal(repo.gitResult(['rev-parse', '--verify', '-q', 'HEAD']).status, 1, `${name}: HEAD moved`);
        assert.equal(repo.git('status', '--porcelain'), statusBefore, `${name}: index or worktree changed`);
        assert.equal(repo.read('file.txt'), 'work in progress\n');
        // And directly: nothing on stdout, one error line.
        const direct = spawnSync(process.execPath, [BIN, '--status-fd=2', '-bsau', 'x'], { cwd: repo.dir, env: { ...repo.env }, input: 'tree x\n\nmsg\n' });
        assert.equal(direct.status, 1, name);
        assert.equal(direct.stdout.length, 0, `${name}: something on stdout`);
        const lines = direct.stderr.toString().trim().split('\n').filter((l) => !l.startsWith('[GNUPG:]') && !l.startsWith('Generating'));
        assert.equal(lines.length, 1, `${name}: ${direct.stderr}`);
        assert.match(lines[0], /^gitsign: error signing: /);
        assert.match(lines[0], message, name);
      } finally {
        repo.remove();
      }
    }
  });
});

test('trust from gitsign\'s per-service settings (Fulcio roots, Rekor and CT keys, TSA chain) instead of a trusted_root.json', () => {
  const repo = signingRepo({ GITSIGN_TRUSTED_ROOT: undefined });
  try {
    for (const v of ['GITSIGN_FULCIO_ROOT', 'SIGSTORE_REKOR_PUBLIC_KEY', 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE', 'GITSIGN_TIMESTAMP_CERT_CHAIN']) assert.ok(repo.env[v], v);
    repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'legacy trust settings');
    const out = verifyJson(repo, ['HEAD']);
    assert.equal(out.verified, true, JSON.stringify(out));
    assert.equal(repo.gitResult(['verify-commit', 'HEAD']).status, 0);
    // Without the Rekor key the log cannot be trusted: the public-good key is not the sandbox's.
    const r = repo.gitsign(['verify', '--json', 'HEAD'], undefined, { SIGSTORE_REKOR_PUBLIC_KEY: '' });
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'TLOG');
  } finally {
    repo.remove();
  }
});

test('SHA-256 repository: gpgsig-sha256 headers; an online-mode entry is found by git and by gitsign verify', () => {
  const repo = signingRepo({ GITSIGN_REKOR_MODE: 'online', GITSIGN_TIMESTAMP_SERVER_URL: '' });
  try {
    execFileSync('rm', ['-rf', join(repo.dir, '.git')]);
    repo.git('init', '-q', '--object-format=sha256', '-b', 'main', '.');
    repo.git('config', 'gpg.format', 'x509');
    repo.git('config', 'gpg.x509.program', BIN);
    repo.git('commit', '--allow-empty', '-S', '-q', '-m', 'sha256 online');
    assert.match(repo.git('cat-file', 'commit', 'HEAD'), /\ngpgsig-sha256 -----BEGIN SIGNED MESSAGE-----\n/);
    assert.equal(repo.git('log', '-1', '--format=%G?').trim(), 'G');
    const out = verifyJson(repo, ['HEAD']);
    assert.equal(out.verified, true, JSON.stringify(out));
    assert.equal(out.tlog.source, 'online');
  } finally {
    repo.remove();
  }
});
