/**
 * attest signs with the commit-signing identity, credential cache included: after a signed commit,
 * attesting it needs no second login and carries the same certificate.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_SUBJECT } from '../src/sandbox/oidc/token';
import { startDaemon } from './helpers/cacheDaemon';
import { countingOpener, gitAsync, loginRepo, signingSandboxPerFile } from './helpers/signingSandbox';

const ctx = signingSandboxPerFile();

test('a signed commit, then attestations of it: one login, one certificate', async () => {
  const socket = join(ctx.work, 'cache', 'cache.sock');
  const daemon = await startDaemon(['--socket', socket]);
  mkdirSync(join(ctx.work, 'opener'));
  const opener = countingOpener(join(ctx.work, 'opener'));
  const repo = loginRepo(ctx.sb, { GITSIGN_TOKEN_PROVIDER: 'interactive', GITSIGN_URL_OPENER: opener.urlOpener, GITSIGN_CREDENTIAL_CACHE: socket });
  try {
    repo.git('config', '--global', 'user.name', 'Cached Attester');
    repo.git('config', '--global', 'user.email', 'cached@example.com');
    const c = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'signed']);
    assert.equal(c.status, 0, c.stderr);
    writeFileSync(join(repo.dir, 'provenance.json'), '{"builder":"test"}');
    const a = repo.gitsign(['attest', '-f', 'provenance.json']);
    assert.equal(a.status, 0, a.stderr);
    const t = repo.gitsign(['attest', '--objtype', 'tree', '-f', 'provenance.json']);
    assert.equal(t.status, 0, t.stderr);
    assert.equal(opener.count(), 1, 'one login for the commit and both attestations');
    // The sandbox signs in its own user, not the repository's committer.
    const identity = ['--certificate-identity', DEFAULT_SUBJECT, '--certificate-oidc-issuer', ctx.sb.env.GITSIGN_OIDC_ISSUER];
    const commit = JSON.parse(repo.gitsign(['verify', '--json', ...identity]).stdout) as { verified: boolean; certificateFingerprint: string };
    assert.ok(commit.verified);
    const attestations = repo
      .gitsign(['verify-attestation', '--json', ...identity])
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { verified: boolean; certificateFingerprint: string });
    assert.equal(attestations.length, 2);
    for (const x of attestations) {
      assert.ok(x.verified);
      assert.equal(x.certificateFingerprint, commit.certificateFingerprint);
    }
  } finally {
    repo.remove();
    await daemon.stop();
  }
});
