/**
 * Who may sign what, on histories the sandbox signs: a GitHub workflow identity pinned by its
 * repository's ID (a repository re-created under the same name is another one); path rules, the last
 * match deciding, scoped to refs; a path no rule covers; a history judged by a policy from outside
 * (--policy FILE); where the trust root may come from, and what stops an audit (exit 2).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { person, SignedHistory } from './helpers/auditHistory';
import { BIN } from './helpers/paths';
import { sandboxPerFile } from './helpers/signingSandbox';

const sb = sandboxPerFile();

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

/** A GitHub Actions token of acme/app's release workflow, for the repository with this ID. */
function workflow(repositoryId: string): { subject: string; claims: Record<string, unknown> } {
  return {
    subject: 'https://github.com/acme/app',
    claims: {
      sub: 'repo:acme/app:ref:refs/heads/main',
      job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main',
      repository: 'acme/app',
      repository_id: repositoryId,
      repository_owner: 'acme',
      repository_owner_id: '77',
      event_name: 'push',
      ref: 'refs/heads/main',
      runner_environment: 'github-hosted',
    },
  };
}

describe('workflow identities and path rules', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};

  before(() => {
    h = new SignedHistory(sb);
    const policy = [
      'version: 1',
      'serial: 1',
      'principals:',
      `  alice: ${person(h.issuer, ALICE)}`,
      `  bob: ${person(h.issuer, BOB)}`,
      '  release:',
      `    - issuer: ${JSON.stringify(h.issuer)}`,
      "      subjectPattern: 'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/heads/.*'",
      '      claims:',
      '        sourceRepositoryIdentifier: "4242"',
      '        runnerEnvironment: github-hosted',
      'rules:',
      '  - paths: ["**"]',
      '    signers: [alice]',
      '  - paths: ["docs/**", "*.md"]',
      '    signers: [alice, bob]',
      '  - refs: ["refs/heads/release/*"]',
      '    paths: ["CHANGELOG.md", "version.txt"]',
      '    signers: [release]',
      '  - paths: ["docs/secret/**"]',
      '    signers: [alice]',
      'policy:',
      '  signers: [alice]',
    ].join('\n');
    c.base = h.commit(ALICE, 'policy', { '.gitsign/policy.yaml': policy });
    c.bobDocs = h.commit(BOB, 'bob: docs', { 'docs/guide.md': 'g', 'README.md': 'r' });
    c.bobSecret = h.commit(BOB, 'bob: a path the last rule gives to alice', { 'docs/secret/key.md': 'k' });
    c.bobCode = h.commit(BOB, 'bob: code', { 'src/main.ts': 'x' });
    c.aliceCode = h.commit(ALICE, 'alice: code', { 'src/util.ts': 'u' });
    h.checkout(['-b', 'release/1.0']);
    c.release = h.commit(workflow('4242'), 'release: version', { 'version.txt': '1.0', 'CHANGELOG.md': 'c' });
    c.impostor = h.commit(workflow('9999'), 'release: the same workflow name in a re-created repository', { 'version.txt': '1.1' });
    c.releaseCode = h.commit(workflow('4242'), 'release: code, which no release rule covers', { 'src/main.ts': 'y' });
  });
  after(() => h?.remove());

  test('the last rule matching a path decides; a commit is refused for its first path no rule gives its signer', () => {
    const run = h.audit([`${c.base}..main`]);
    assert.equal(run.status, 1);
    const docs = run.of(c.bobDocs);
    assert.equal(`${docs.status} ${docs.reason} ${docs.rule}`, 'ok AUTHORIZED rules[1] (line 15)');
    assert.equal(docs.message, '2 paths allowed');
    const secret = run.of(c.bobSecret);
    assert.equal(`${secret.status} ${secret.reason} ${secret.rule}`, 'violation PATH_DENIED rules[3] (line 20)');
    assert.equal(secret.message, 'rules[3] (line 20) does not allow bob to change "docs/secret/key.md"');
    assert.equal(`${run.of(c.bobCode).status} ${run.of(c.bobCode).reason}`, 'violation PATH_DENIED');
  });

  test('a workflow is pinned by its repository ID: the same workflow path from another repository is no principal', () => {
    const run = h.audit([`${c.base}..release/1.0`]);
    assert.equal(run.summary?.ref, 'refs/heads/release/1.0');
    const release = run.of(c.release);
    assert.equal(`${release.status} ${release.reason} ${release.rule}`, 'ok AUTHORIZED rules[2] (line 17)', release.message);
    assert.deepEqual(release.principals, ['release']);
    assert.deepEqual(release.signer?.identities, ['https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main']);
    const impostor = run.of(c.impostor);
    assert.equal(`${impostor.status} ${impostor.reason}`, 'violation UNKNOWN_SIGNER');
    assert.deepEqual(impostor.signer?.identities, release.signer?.identities, 'same SAN, another repository');
  });

  test('rules scoped to refs apply only to the ref audited (the tip\'s, or --ref)', () => {
    const code = h.audit([`${c.base}..release/1.0`]).of(c.releaseCode);
    assert.equal(`${code.status} ${code.reason}`, 'violation PATH_DENIED', 'src/ is alice\'s on every ref');
    const asMain = h.audit([`${c.base}..release/1.0`, '--ref', 'refs/heads/main']).of(c.release);
    assert.equal(`${asMain.status} ${asMain.reason} ${asMain.rule}`, 'violation PATH_DENIED rules[1] (line 15)', 'on main the release rule does not apply');
    const unknownRef = h.audit([`${c.base}..${c.release}`]);
    assert.equal(unknownRef.summary?.ref, null);
    assert.equal(unknownRef.of(c.release).status, 'violation');
  });

  test('a path no rule covers is denied', () => {
    const narrow = join(h.repo.dir, '..', `narrow-${process.pid}.yaml`);
    writeFileSync(narrow, ['version: 1', 'serial: 1', 'principals:', `  alice: ${person(h.issuer, ALICE)}`, 'rules:', '  - paths: ["docs/**"]', '    signers: [alice]', 'policy:', '  signers: [alice]'].join('\n'));
    const run = h.audit([`${c.base}..main`, '--policy', narrow]);
    assert.equal(run.of(c.aliceCode).status, 'violation');
    assert.equal(run.of(c.aliceCode).reason, 'PATH_UNCOVERED');
    assert.equal(run.of(c.aliceCode).message, 'no rule for refs/heads/main covers "src/util.ts"');
    assert.equal(h.audit([`${c.base}..main`]).of(c.aliceCode).status, 'ok', 'the repository\'s own policy gives src/ to alice');
  });
});

describe('a policy from outside (--policy FILE), trust roots, and audits that cannot run', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};
  let file = '';

  before(() => {
    h = new SignedHistory(sb);
    c.first = h.commit(ALICE, 'a history that never adopted a policy', { 'a.txt': '1' });
    c.second = h.commit(BOB, 'bob', { 'b.txt': '1' });
    file = join(h.repo.dir, '..', `outside-${process.pid}.yaml`);
    writeFileSync(file, ['version: 1', 'serial: 1', 'principals:', `  alice: ${person(h.issuer, ALICE)}`, 'rules:', '  - paths: ["**"]', '    signers: [alice]', 'policy:', '  signers: [alice]'].join('\n'));
  });
  after(() => h?.remove());

  test('--policy FILE judges every commit, the first included, by that one policy, and says so', () => {
    const run = h.audit(['main', '--policy', file]);
    assert.equal(run.status, 1);
    assert.equal(`${run.of(c.first).status} ${run.of(c.first).policies.join()}`, `ok ${file}`);
    assert.equal(`${run.of(c.second).status} ${run.of(c.second).reason}`, 'violation UNKNOWN_SIGNER');
    assert.equal(run.summary?.mode, 'file');
    const human = h.gitsign(['audit', 'main', '--policy', file]);
    assert.match(human.stdout, new RegExp(`^audit: every commit was judged by the policy ${file.replace(/[.]/g, '\\.')} \\(serial 1\\), given with --policy; the repository's own policy files were not used$`, 'm'));
  });

  test('allow re-admits a commit by its ID, with its note', () => {
    const allowing = join(h.repo.dir, '..', `allow-${process.pid}.yaml`);
    writeFileSync(allowing, `${readFileSync(file, 'utf8')}\nallow:\n  - commit: ${c.second}\n    note: bob's fix, reviewed on the list\n`);
    const run = h.audit([`${c.first}..${c.second}`, '--policy', allowing]);
    assert.equal(run.status, 0, run.stdout);
    const e = run.of(c.second);
    assert.equal(`${e.status} ${e.reason} ${e.rule}`, 'ok ALLOWED allow');
    assert.equal(e.message, "re-admitted by the policy: bob's fix, reviewed on the list");
  });

  test('on a terminal a progress line goes to stderr (objects, objects/s, time left), and is erased at the end', () => {
    const cmd = [process.execPath, BIN, 'audit', `${c.first}..${c.second}`, '--policy', file].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const r = spawnSync('script', ['-qec', `${cmd} >/dev/null`, '/dev/null'], { cwd: h.repo.dir, env: h.repo.env, encoding: 'utf8', timeout: 60_000 });
    assert.match(r.stdout, /\rgitsign audit: 1\/1 objects, \d+\/s, 0 s left\u001b\[K/);
    assert.match(r.stdout, /\r\u001b\[K/);
  });

  test('no base and no trust root: exit 2 saying where one may come from; the configured trust root is used', () => {
    const r = h.gitsign(['audit', 'main']);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^gitsign: audit: could not run: "main" has no base, so nothing outside it can say which policy to trust: audit BASE\.\.TIP, or give --trust-root REV \(or git config gitsign\.audit\.trustRoot\), or judge by a policy from outside with --policy FILE\n$/);
    const policy = (serial: number, signers: string): string =>
      ['version: 1', `serial: ${serial}`, 'principals:', `  alice: ${person(h.issuer, ALICE)}`, `  bob: ${person(h.issuer, BOB)}`, 'rules:', '  - paths: ["**"]', `    signers: [${signers}]`, 'policy:', '  signers: [alice]'].join('\n');
    const policyCommit = h.commit(ALICE, 'policy: alice', { '.gitsign/policy.yaml': policy(1, 'alice') });
    const bobCommit = h.commit(BOB, 'bob after the policy', { 'b.txt': '2' });
    // A trusted policy kept outside the audited history, on a branch of its own.
    h.checkout(['-b', 'trusted', policyCommit]);
    const trusted = h.commit(ALICE, 'policy: alice and bob', { '.gitsign/policy.yaml': policy(2, 'alice, bob') });
    h.checkout(['main']);
    assert.equal(h.audit([`${policyCommit}..main`]).of(bobCommit).status, 'violation', 'by the base\'s policy');
    h.repo.git('config', 'gitsign.audit.trustRoot', trusted);
    const configured = h.audit([`${policyCommit}..main`]);
    assert.equal(configured.status, 0, configured.stderr);
    assert.equal(`${configured.of(bobCommit).status} serial=${configured.of(bobCommit).policySerial}`, 'ok serial=2');
    assert.equal(configured.summary?.trustRoot.origin, trusted);
    assert.equal(h.audit([`${policyCommit}..main`, '--trust-root', policyCommit]).of(bobCommit).status, 'violation', '--trust-root wins over the configuration');
    h.repo.git('config', '--unset', 'gitsign.audit.trustRoot');
  });

  test('a trust root inside the audited range, or without a policy, or with an invalid one: exit 2', () => {
    const inside = h.gitsign(['audit', 'main', '--trust-root', c.second]);
    assert.equal(inside.status, 2);
    assert.match(inside.stderr, /is inside the audited range: its policy would come from the content being audited/);
    const none = h.gitsign(['audit', `${c.first}..main`]);
    assert.equal(none.status, 2);
    assert.match(none.stderr, new RegExp(`^gitsign: audit: could not run: the trust root: there is no \\.gitsign/policy\\.yaml at ${c.first}\\n$`));
    const bad = h.commit(ALICE, 'a broken policy', { '.gitsign/policy.yaml': 'version: 1\nserial: 1\nprincipals: {}\nrules: []\npolicy: {signers: [nobody]}\n' });
    const r = h.gitsign(['audit', `${bad}..main`]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, new RegExp(`^gitsign: audit: could not run: the trust root: ${bad}:\\.gitsign/policy\\.yaml:5:20: policy\\.signers\\[0\\]: "nobody" is neither a principal nor a group\\n$`));
    assert.equal(h.gitsign(['audit', '--policy', file, '--trust-root', c.first, 'main']).status, 2, '--policy and --trust-root exclude each other');
  });

  test('an object that cannot be checked (the log does not answer) stops the audit, unless --keep-going reports it as error', () => {
    // Signed in online mode: the log entry is not embedded, so checking it needs Rekor.
    const online = h.commit(ALICE, 'signed in online mode', { 'o.txt': '1' }, { GITSIGN_REKOR_MODE: 'online' });
    const deadLog = { GITSIGN_REKOR_URL: 'http://127.0.0.1:9' };
    const stopped = h.audit([`${c.first}..${online}`, '--policy', file], deadLog);
    assert.equal(stopped.status, 2);
    assert.equal(stopped.stdout, '');
    assert.match(stopped.stderr, new RegExp(`^gitsign: audit: could not run: could not check ${online}: NETWORK: .*\\(--keep-going reports it as an error and judges the rest\\)\\n$`));
    const going = h.audit([`${c.first}..${online}`, '--policy', file, '--keep-going'], deadLog);
    assert.equal(going.status, 1);
    assert.equal(`${going.of(online).status} ${going.of(online).reason}`, 'error NETWORK');
    assert.equal(going.of(c.second).status, 'violation', 'the rest is judged');
    assert.equal(h.audit([`${c.first}..${online}`, '--policy', file]).of(online).status, 'ok', 'with the log answering');
  });

  test('several tips cannot be one history', () => {
    const r = h.gitsign(['audit', `${c.first}...${c.second}`, '--policy', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /has 2 tips; an audit follows one history \(write BASE\.\.TIP\)/);
  });
});
