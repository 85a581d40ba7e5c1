/**
 * `gitsign policy check` (exit 0 with what the policy holds, 1 with every problem: file, line, column,
 * the source line and a caret) and `gitsign policy init` (a starting policy from the verified signers
 * of a history the sandbox signs, one principal per identity, a workflow pinned by its repository ID;
 * never overwriting without --force), then `gitsign audit` by the policy it wrote.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePolicy } from '../src/policy/parse';
import { SignedHistory } from './helpers/auditHistory';
import { TempRepo } from './helpers/gitRepo';
import { BIN } from './helpers/paths';
import { sandboxPerFile } from './helpers/signingSandbox';

const VALID = `version: 1
serial: 4
principals:
  alice: [{issuer: "https://issuer.example", subject: alice@example.com}]
groups:
  all: [alice]
rules:
  - paths: ["**"]
    signers: [all]
policy:
  signers: [alice]
merges: endorse
`;

describe('gitsign policy check', () => {
  let repo: TempRepo;
  before(() => {
    repo = new TempRepo();
    mkdirSync(join(repo.dir, '.gitsign'));
    mkdirSync(join(repo.dir, 'sub'));
  });
  after(() => repo.remove());

  test("a valid policy: exit 0 and one line saying what it holds; by default the repository's .gitsign/policy.yaml, from any directory", () => {
    writeFileSync(join(repo.dir, '.gitsign', 'policy.yaml'), VALID);
    const r = repo.gitsign(['policy', 'check']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${join(repo.dir, '.gitsign', 'policy.yaml')}: a valid policy (version 1, serial 4): 1 principal, 1 rule, 0 tag rules, policy changes by 1 of 1 principal, 0 revocations, 0 re-admitted objects, merges: endorse\n`,
    );
    assert.equal(r.stderr, '');
  });

  test('an invalid policy: exit 1, every problem as FILE:LINE:COL with its source line and a caret', () => {
    const file = join(repo.dir, 'bad.yaml');
    writeFileSync(file, VALID.replace('serial: 4', 'serial: four').replace('signers: [all]', 'signers: [all, bob]').replace('merges: endorse', 'merges: endorse\nmergez: strict'));
    const r = repo.gitsign(['policy', 'check', file]);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(
      r.stderr,
      [
        `${file}:2:9: serial must be a whole number, at least 0`,
        '     2 | serial: four',
        '       |         ^',
        `${file}:9:20: rules[0].signers[1]: "bob" is neither a principal nor a group`,
        '     9 |     signers: [all, bob]',
        '       |                    ^',
        `${file}:13:1: unknown key "mergez" in the policy (known: version, serial, principals, rules, policy, groups, tags, revoked, allow, merges, pushes)`,
        '    13 | mergez: strict',
        '       | ^',
        `gitsign: ${file}: not a valid policy (3 problems); see gitsign-policy(5)`,
        '',
      ].join('\n'),
    );
  });

  test('text from the file reaches the terminal escaped', () => {
    const file = join(repo.dir, 'escape.yaml');
    writeFileSync(file, VALID.replace('merges: endorse', 'merges: "\\e[31mred"'));
    const r = repo.gitsign(['policy', 'check', file]);
    assert.equal(r.status, 1);
    assert.ok(!r.stderr.includes('\u001b'), r.stderr);
    assert.match(r.stderr, /merges must be endorse or strict, not "\\u001b\[31mred"/);
  });

  test('a file that cannot be read is a usage error, not a stack trace', () => {
    const r = repo.gitsign(['policy', 'check', join(repo.dir, 'absent.yaml')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^gitsign: cannot read the policy file ".*absent\.yaml": no such file \(ENOENT\)\n$/);
    const dir = repo.gitsign(['policy', 'check', repo.dir]);
    assert.match(dir.stderr, /^gitsign: the policy file ".*" is not a regular file\n$/);
  });

  test('a FIFO with no writer or a character device as the policy file: policy check and audit refuse it at once, unread', () => {
    const fifo = join(repo.dir, 'policy.fifo');
    execFileSync('mkfifo', [fifo]);
    repo.git('commit', '-q', '--allow-empty', '-m', 'one');
    for (const file of [fifo, '/dev/zero']) {
      for (const args of [['policy', 'check', file], ['audit', 'HEAD', '--policy', file]]) {
        // Bounded: before the fix the FIFO's open (and /dev/zero's read) never ended.
        const r = spawnSync(process.execPath, [BIN, ...args], { cwd: repo.dir, env: repo.env, encoding: 'utf8', timeout: 30_000 });
        assert.equal(r.signal, null, `${args.join(' ')}: ended by itself`);
        const refusal = `the policy file "${file}" is not a regular file\n`;
        if (args[0] === 'audit') assert.deepEqual([r.status, r.stderr], [2, `gitsign: audit: could not run: ${refusal}`]);
        else assert.deepEqual([r.status, r.stderr], [1, `gitsign: ${refusal}`]);
      }
    }
  });
});

const sb = sandboxPerFile();

describe('gitsign policy init, then gitsign audit by what it wrote', () => {
  let h: SignedHistory;
  const c: Record<string, string> = {};
  const release = {
    subject: 'https://github.com/acme/app',
    claims: { job_workflow_ref: 'acme/app/.github/workflows/release.yml@refs/heads/main', repository: 'acme/app', repository_id: '4242', event_name: 'push' },
  };

  before(() => {
    h = new SignedHistory(sb);
    c.a1 = h.commit('alice@example.com', 'a', { 'a.txt': '1' });
    c.b1 = h.commit('bob@example.com', 'b', { 'b.txt': '1' });
    c.u = h.commit(null, 'unsigned', { 'u.txt': '1' });
    c.r = h.commit(release, 'release', { 'v.txt': '1' });
    c.a2 = h.commit('alice@example.com', 'a again', { 'a.txt': '2' });
    c.tag = h.tag('alice@example.com', 'v1');
  });
  after(() => h?.remove());

  test('one principal per identity (issuer exact), the workflow pinned by its repository ID; unsigned commits skipped', () => {
    const r = h.gitsign(['policy', 'init']);
    assert.equal(r.status, 0, r.stderr);
    const file = join(h.repo.dir, '.gitsign', 'policy.yaml');
    assert.match(r.stderr, /^gitsign: wrote .*\/\.gitsign\/policy\.yaml: 3 principals from 4 verified commits \(1 unsigned and 0 not verified were skipped\); review it, then commit it\n$/);
    const text = readFileSync(file, 'utf8');
    const p = parsePolicy(Buffer.from(text), file);
    assert.deepEqual([...p.principals.keys()], ['alice', 'bob', 'release']);
    assert.deepEqual(p.principals.get('alice'), [{ issuer: h.issuer, subject: 'alice@example.com', claims: [], line: 9 }]);
    assert.deepEqual(p.principals.get('release')?.[0].claims, [['sourceRepositoryIdentifier', '4242']]);
    assert.match(text, /^ {2}alice: {2}# 2 commits$/m);
    assert.equal(p.merges, 'endorse');
    assert.equal(p.serial, 1);
  });

  test('an existing file is kept unless --force; -o - prints the policy instead', () => {
    const again = h.gitsign(['policy', 'init']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /policy\.yaml exists; it is kept \(--force replaces it\)/);
    const forced = h.gitsign(['policy', 'init', `${c.a1}..${c.b1}`, '--force']);
    assert.equal(forced.status, 0, forced.stderr);
    assert.deepEqual([...parsePolicy(readFileSync(join(h.repo.dir, '.gitsign', 'policy.yaml')), 'p').principals.keys()], ['bob']);
    const printed = h.gitsign(['policy', 'init', 'HEAD', '-o', '-']);
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /^# Signing policy of this repository/);
    assert.deepEqual([...parsePolicy(Buffer.from(printed.stdout), 'stdout').principals.keys()], ['alice', 'bob', 'release']);
  });

  test('a range without a verified signature has nothing to start from', () => {
    const r = h.gitsign(['policy', 'init', `${c.b1}..${c.u}`, '-o', '-']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no verified signature in ".*" \(1 unsigned, 0 not verified\): nothing to start a policy from/);
  });

  test('audited by the policy it wrote, every signed commit and the tag are ok', () => {
    const file = join(h.repo.dir, '..', `init-${process.pid}.yaml`);
    const printed = h.gitsign(['policy', 'init', '-o', '-']);
    writeFileSync(file, printed.stdout);
    const run = h.audit(['HEAD', '--policy', file]);
    assert.equal(run.status, 1, 'the unsigned commit');
    for (const sha of [c.a1, c.b1, c.r, c.a2, c.tag]) assert.equal(run.of(sha).status, 'ok', run.stdout);
    assert.equal(run.of(c.u).status, 'unsigned');
    assert.equal(run.summary?.counts.ok, 5);
  });
});
