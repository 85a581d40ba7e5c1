/**
 * The policy file format (gitsign-policy(5)) read by src/policy: a full policy and what it means once
 * read (groups expanded, patterns compiled, identities matched), JSON accepted, and every refusal with
 * its line and column: unknown and duplicate keys, wrong types, unknown names and claims, bad patterns
 * and times, anchors, aliases, tags, directives, several documents, and hostile sizes and shapes.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileGlob, globProblem } from '../src/policy/glob';
import { identityMatches, principalsOf, revocationOf, type Signer } from '../src/policy/identity';
import { PolicyError, parsePolicy } from '../src/policy/parse';
import { MAX_POLICY_BYTES } from '../src/policy/yamlTree';

const FULL = `# a comment
version: 1
serial: 7
principals:
  alice:
    - issuer: https://accounts.example.com
      subject: alice@example.com
    - issuer: https://github.com/login/oauth
      subject: alice@users.noreply.github.com
  release:
    - issuer: https://token.actions.githubusercontent.com
      subjectPattern: 'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*'
      claims:
        sourceRepositoryIdentifier: "123456"
        buildTrigger: push
  bob:
    - issuer: https://accounts.example.com
      subject: bob@example.com
groups:
  maintainers: [alice, bob]
rules:
  - paths: ["**"]
    signers: [maintainers]
  - refs: ["refs/heads/release/*"]
    paths: ["CHANGELOG.md", "docs/**"]
    signers: [release, alice]
tags:
  - names: ["v*"]
    signers: [release]
    branch: main
policy:
  signers: [maintainers]
  threshold: 2
revoked:
  - issuer: https://accounts.example.com
    subject: mallory@example.com
    after: 2024-05-01T00:00:00Z
    reason: laptop stolen
allow:
  - commit: ${'a'.repeat(40)}
    note: signed before the policy existed
merges: endorse
`;

function signer(identities: string[], issuer: string, claims: Record<string, string> = {}): Signer {
  return { identities, issuer, claim: (name) => claims[name] };
}

/** The problems of a refused policy, as "line:col message". */
function problems(text: string | Buffer): string[] {
  try {
    parsePolicy(Buffer.isBuffer(text) ? text : Buffer.from(text), 'p.yaml');
  } catch (err) {
    assert.ok(err instanceof PolicyError, String(err));
    assert.equal(err.code, 'POLICY');
    return err.issues.map((i) => `${i.line}:${i.col} ${i.message}`);
  }
  assert.fail('the policy was accepted');
}

const MINIMAL = (extra = ''): string => `version: 1\nserial: 1\nprincipals:\n  a:\n    - issuer: i\n      subject: s\nrules: []\npolicy:\n  signers: [a]\n${extra}`;

describe('policy file: what a valid one means', () => {
  test('a full policy: serial, principals with identities, groups expanded, rules, tags, policy section, revocations, re-admissions, merges', () => {
    const p = parsePolicy(Buffer.from(FULL), 'policy.yaml');
    assert.equal(p.version, 1);
    assert.equal(p.serial, 7);
    assert.deepEqual([...p.principals.keys()], ['alice', 'release', 'bob']);
    assert.deepEqual([...p.rules[0].signers], ['alice', 'bob'], 'a group is expanded to its principals');
    assert.equal(p.rules[0].refs, null, 'a rule without refs is for every ref');
    assert.equal(p.rules[1].label, 'rules[1] (line 24)');
    assert.equal(p.tags[0].branch, 'refs/heads/main', 'a short branch name is a branch');
    assert.deepEqual([...p.policy.signers], ['alice', 'bob']);
    assert.equal(p.policy.threshold, 2);
    assert.equal(p.revoked[0].after.toISOString(), '2024-05-01T00:00:00.000Z');
    assert.equal(p.allow.get('a'.repeat(40)), 'signed before the policy existed');
    assert.equal(p.merges, 'endorse');
  });

  test('the same policy as JSON is the same policy (same canonical key), whatever the key order and layout', () => {
    const yaml = parsePolicy(Buffer.from(FULL), 'policy.yaml');
    const json = JSON.stringify({
      merges: 'endorse',
      version: 1,
      serial: 7,
      principals: {
        alice: [
          { subject: 'alice@example.com', issuer: 'https://accounts.example.com' },
          { issuer: 'https://github.com/login/oauth', subject: 'alice@users.noreply.github.com' },
        ],
        release: [
          {
            issuer: 'https://token.actions.githubusercontent.com',
            subjectPattern: 'https://github\\.com/acme/app/\\.github/workflows/release\\.yml@refs/tags/v.*',
            claims: { buildTrigger: 'push', sourceRepositoryIdentifier: '123456' },
          },
        ],
        bob: [{ issuer: 'https://accounts.example.com', subject: 'bob@example.com' }],
      },
      groups: { maintainers: ['alice', 'bob'] },
      rules: [
        { paths: ['**'], signers: ['maintainers'] },
        { refs: ['refs/heads/release/*'], paths: ['CHANGELOG.md', 'docs/**'], signers: ['release', 'alice'] },
      ],
      tags: [{ names: ['v*'], signers: ['release'], branch: 'main' }],
      policy: { signers: ['maintainers'], threshold: 2 },
      revoked: [{ issuer: 'https://accounts.example.com', subject: 'mallory@example.com', after: '2024-05-01T00:00:00Z', reason: 'laptop stolen' }],
      allow: [{ commit: 'a'.repeat(40), note: 'signed before the policy existed' }],
    });
    const fromJson = parsePolicy(Buffer.from(json), 'policy.json');
    assert.equal(fromJson.key, yaml.key);
    assert.notEqual(parsePolicy(Buffer.from(FULL.replace('serial: 7', 'serial: 8')), 'p').key, yaml.key);
  });

  test('identities: issuer exact, subject exact or subjectPattern over the whole SAN, every pinned claim equal', () => {
    const p = parsePolicy(Buffer.from(FULL), 'policy.yaml');
    const wf = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0';
    const gh = 'https://token.actions.githubusercontent.com';
    assert.deepEqual(principalsOf(p, signer(['alice@example.com'], 'https://accounts.example.com')), ['alice']);
    assert.deepEqual(principalsOf(p, signer(['alice@example.com'], 'https://accounts.example.com/')), [], 'issuer is exact');
    assert.deepEqual(principalsOf(p, signer(['xalice@example.com'], 'https://accounts.example.com')), [], 'subject is exact');
    assert.deepEqual(principalsOf(p, signer([wf], gh, { sourceRepositoryIdentifier: '123456', buildTrigger: 'push' })), ['release']);
    assert.deepEqual(principalsOf(p, signer([wf], gh, { sourceRepositoryIdentifier: '999', buildTrigger: 'push' })), [], 'another repository ID (a renamed or re-created repository) is not the principal');
    assert.deepEqual(principalsOf(p, signer([wf], gh, { sourceRepositoryIdentifier: '123456' })), [], 'a missing claim does not match');
    assert.deepEqual(principalsOf(p, signer([`${wf}x/../evil`], gh, { sourceRepositoryIdentifier: '123456', buildTrigger: 'push' })), ['release'], 'v.* covers the rest of the SAN');
    assert.deepEqual(principalsOf(p, signer([`evil${wf}`], gh, { sourceRepositoryIdentifier: '123456', buildTrigger: 'push' })), [], 'the pattern is anchored at the start');
    const id = p.principals.get('release')?.[0];
    assert.ok(id);
    assert.equal(identityMatches(id, signer(['https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main'], gh, { sourceRepositoryIdentifier: '123456', buildTrigger: 'push' })), false, 'the pattern is anchored at the end');
  });

  test('revocations: from their time on (inclusive), and always for a time nobody attests', () => {
    const p = parsePolicy(Buffer.from(FULL), 'policy.yaml');
    const m = signer(['mallory@example.com'], 'https://accounts.example.com');
    assert.equal(revocationOf(p.revoked, m, new Date('2024-04-30T23:59:59Z')), undefined);
    assert.equal(revocationOf(p.revoked, m, new Date('2024-05-01T00:00:00Z'))?.reason, 'laptop stolen');
    assert.equal(revocationOf(p.revoked, m, null)?.reason, 'laptop stolen');
    assert.equal(revocationOf(p.revoked, signer(['alice@example.com'], 'https://accounts.example.com'), null), undefined);
  });

  test('defaults: merges strict, threshold 1, no tags, revocations or re-admissions', () => {
    const p = parsePolicy(Buffer.from(MINIMAL()), 'p');
    assert.equal(p.merges, 'strict');
    assert.equal(p.policy.threshold, 1);
    assert.deepEqual([p.tags.length, p.revoked.length, p.allow.size, p.rules.length], [0, 0, 0, 0]);
  });
});

describe('policy file: refusals, each with its line and column', () => {
  test('unknown keys, at every level, and missing required ones', () => {
    assert.deepEqual(problems(MINIMAL('mergez: strict\n')), ['10:1 unknown key "mergez" in the policy (known: version, serial, principals, rules, policy, groups, tags, revoked, allow, merges, pushes)']);
    assert.deepEqual(problems(MINIMAL().replace('      subject: s', '      subject: s\n      email: s')), ['7:7 unknown key "email" in principals.a[0] (known: issuer, subject, subjectPattern, claims)']);
    assert.deepEqual(problems('version: 1\nserial: 1\nprincipals: {}\npolicy: {signers: []}\n'), ['1:1 the policy has no rules', '4:19 policy.signers is empty']);
  });

  test('duplicate keys, in YAML and in JSON, pointing at the second one', () => {
    assert.deepEqual(problems(MINIMAL('serial: 2\n')), ['10:1 duplicate key "serial" (first at line 2)']);
    assert.deepEqual(problems('{"version": 1, "serial": 1, "serial": 2, "principals": {}, "rules": [], "policy": {"signers": []}}'), [
      '1:29 duplicate key "serial" (first at line 1)',
      '1:95 policy.signers is empty',
    ]);
  });

  test('anchors, aliases, explicit tags, %TAG and %YAML 1.1 directives, several documents', () => {
    assert.deepEqual(problems(MINIMAL('merges: &m strict\n')), ['10:12 anchors (&name) are not allowed in a policy']);
    assert.deepEqual(problems(MINIMAL().replace('rules: []', 'rules: &r []\nx: *r')), [
      '7:11 anchors (&name) are not allowed in a policy',
      '8:1 unknown key "x" in the policy (known: version, serial, principals, rules, policy, groups, tags, revoked, allow, merges, pushes)',
      '8:4 aliases (*name) are not allowed in a policy: write the value out',
    ]);
    assert.deepEqual(problems(MINIMAL().replace('serial: 1', 'serial: !!int 1')), ['2:15 tags (!!int) are not allowed in a policy']);
    assert.deepEqual(problems(MINIMAL().replace('subject: s', 'subject: !custom s')), ['6:24 tags (!custom) are not allowed in a policy']);
    assert.ok(problems(`%TAG !x! tag:example.com,2000:\n---\n${MINIMAL()}`).includes('1:1 %TAG directives are not allowed in a policy'));
    assert.ok(problems(`%YAML 1.1\n---\n${MINIMAL()}`).includes('1:1 a policy is YAML 1.2, not 1.1'));
    assert.deepEqual(problems(`${MINIMAL()}---\n${MINIMAL()}`), ['10:1 a policy is one YAML document (no ---)']);
  });

  test('types: a number where text is meant, a string where a number is, keys that are not names', () => {
    assert.deepEqual(problems(MINIMAL().replace('subject: s', 'subject: 12345')), ['6:16 principals.a[0].subject must be a string (quote it: "12345")']);
    assert.deepEqual(problems(MINIMAL().replace('serial: 1', 'serial: "1"')), ['2:9 serial must be a whole number, at least 0']);
    assert.deepEqual(problems(MINIMAL().replace('serial: 1', 'serial: 1.5')), ['2:9 serial must be a whole number, at least 0']);
    assert.ok(problems(MINIMAL().replace('  a:\n', '  123:\n')).includes('4:3 a key must be a plain name (quote it: "123")'));
    assert.deepEqual(problems(MINIMAL('version: 2\n').replace('version: 1\n', '')), ['9:10 unsupported policy version 2: this gitsign-ts reads version 1']);
  });

  test('names: unknown principals and groups, groups of groups, a name used twice, unknown claims', () => {
    assert.deepEqual(problems(MINIMAL().replace('signers: [a]', 'signers: [a, b]')), ['9:16 policy.signers[1]: "b" is neither a principal nor a group']);
    assert.deepEqual(problems(MINIMAL('groups:\n  g: [a]\n  h: [g]\n')), ['12:7 groups.h[0]: "g" is not a principal (groups list principals, not groups)']);
    assert.deepEqual(problems(MINIMAL('groups:\n  a: [a]\n')), ['11:3 "a" is both a principal and a group']);
    assert.match(problems(MINIMAL().replace('subject: s', 'subject: s\n      claims: {repositoryId: "1"}')).join('\n'), /^7:16 unknown claim "repositoryId" in principals\.a\[0\]\.claims \(known: githubWorkflowTrigger, .*sourceRepositoryIdentifier/);
    assert.deepEqual(problems(MINIMAL().replace('      subject: s\n', '')), ['5:7 principals.a[0] needs exactly one of subject (exact) and subjectPattern (RE2, whole string)']);
  });

  test('patterns: RE2 syntax (no lookaround, no fragment that only parses once wrapped), globs without classes or partial **', () => {
    assert.match(problems(MINIMAL().replace('subject: s', "subjectPattern: '(?=x)'")).join(), /^6:23 principals\.a\[0\]\.subjectPattern: invalid subjectPattern "\(\?=x\)": not a Go regular expression/);
    assert.match(problems(MINIMAL().replace('subject: s', "subjectPattern: 'a)|(b'")).join(), /^6:23 .*not a Go regular expression/);
    assert.deepEqual(problems(MINIMAL().replace('rules: []', 'rules:\n  - paths: ["src/[ab]"]\n    signers: [a]')), ['8:13 rules[0].paths[0] "src/[ab]": character classes ([...]), braces ({...}) and backslashes are not supported in patterns']);
    assert.deepEqual(problems(MINIMAL().replace('rules: []', 'rules:\n  - paths: ["/src"]\n    signers: [a]')), ['8:13 rules[0].paths[0] "/src": a pattern has no empty segments (no leading, trailing or doubled /)']);
    assert.deepEqual(problems(MINIMAL().replace('rules: []', 'rules:\n  - paths: []\n    signers: [a]')), ['8:12 rules[0].paths is empty']);
  });

  test('times, commit IDs, thresholds and merge modes', () => {
    const revoked = (after: string): string => MINIMAL(`revoked:\n  - issuer: i\n    subject: s\n    after: ${after}\n    reason: r\n`);
    assert.deepEqual(problems(revoked('2024-05-01')), ['13:12 revoked[0].after must be an RFC 3339 time with a zone, such as 2024-05-01T00:00:00Z']);
    assert.deepEqual(problems(revoked('2024-13-01T00:00:00Z')), ['13:12 revoked[0].after must be an RFC 3339 time with a zone, such as 2024-05-01T00:00:00Z']);
    assert.equal(parsePolicy(Buffer.from(revoked('2024-05-01T02:00:00+02:00')), 'p').revoked[0].after.toISOString(), '2024-05-01T00:00:00.000Z');
    assert.deepEqual(problems(MINIMAL(`allow:\n  - commit: ${'A'.repeat(40)}\n    note: n\n`)), ['11:13 allow[0].commit must be a full commit ID (40 or 64 lowercase hex digits)']);
    assert.deepEqual(problems(MINIMAL().replace('signers: [a]', 'signers: [a]\n  threshold: 2')), ['10:14 policy.threshold 2 is more than the 1 principal policy.signers names: no change could ever be made']);
    assert.deepEqual(problems(MINIMAL('merges: sometimes\n')), ['10:9 merges must be endorse or strict, not "sometimes"']);
  });

  test('several problems are all reported, in line order', () => {
    const text = MINIMAL('merges: x\nfoo: 1\n').replace('serial: 1', 'serial: -1');
    assert.deepEqual(problems(text), ['2:9 serial must be a whole number, at least 0', '10:9 merges must be endorse or strict, not "x"', '11:1 unknown key "foo" in the policy (known: version, serial, principals, rules, policy, groups, tags, revoked, allow, merges, pushes)']);
  });
});

describe('policy file: hostile input costs little and fails with a sentence', () => {
  test('too large, not UTF-8, empty, a syntax error', () => {
    assert.deepEqual(problems(Buffer.alloc(MAX_POLICY_BYTES + 1, 0x20)), [`1:1 the file is ${MAX_POLICY_BYTES + 1} bytes; a policy is at most ${MAX_POLICY_BYTES}`]);
    assert.deepEqual(problems(Buffer.from([0x76, 0x3a, 0xff, 0xfe])), ['1:1 the file is not UTF-8 text']);
    assert.deepEqual(problems(''), ['1:1 the policy is empty']);
    assert.deepEqual(problems('# only a comment\n'), ['1:1 the policy is empty']);
    const syntax = problems('version: 1\nprincipals: [a\n');
    assert.ok(syntax.length >= 1 && /^\d+:\d+ /.test(syntax[0]), syntax.join('\n'));
  });

  test('deep nesting (a parser stack overflow is an error of the file) and values nested past the schema', () => {
    const deep = problems(`a: ${'['.repeat(100_000)}`);
    assert.ok(deep.length >= 1, 'refused');
    assert.ok(deep.every((p) => /^\d+:\d+ /.test(p) && !/RangeError|at Object\./.test(p)), deep.slice(0, 3).join('\n'));
    assert.match(problems(`a: ${'['.repeat(20)}${']'.repeat(20)}`).join('\n'), /values nest deeper than 8 levels/);
  });

  test('many keys are checked for duplicates in linear time (the yaml package compares every pair)', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  k${i}: 1`).join('\n');
    const found = problems(`version: 1\nserial: 1\nrules: []\npolicy: {signers: []}\ngroups:\n${keys}\n  k5: 2\n`).filter((p) => p.includes('duplicate'));
    assert.deepEqual(found, ['20006:3 duplicate key "k5" (first at line 11)'], 'reported once, by our check (the package\'s own is off: it compares every pair of keys)');
  });

  test('more values than any policy holds: refused with one sentence', () => {
    const items = Array.from({ length: 120_000 }, () => 'a').join(',');
    assert.deepEqual(problems(`a: [${items}]`).filter((p) => p.includes('values')), ['1:200001 more than 100000 values: not a policy']);
  });
});

describe('globs', () => {
  const m = (pattern: string, path: string): boolean => compileGlob(pattern).matches(path);
  test('* within a segment, ? one character, ** any number of segments (none included), literal otherwise', () => {
    assert.ok(m('*.md', 'README.md'));
    assert.ok(!m('*.md', 'docs/README.md'));
    assert.ok(m('**/*.md', 'docs/a/README.md'));
    assert.ok(m('**/*.md', 'README.md'));
    assert.ok(m('docs/**', 'docs/a/b.txt'));
    assert.ok(!m('docs/**', 'docsx/a'));
    assert.ok(m('src/?.ts', 'src/a.ts'));
    assert.ok(!m('src/?.ts', 'src/ab.ts'));
    assert.ok(m('refs/heads/release/*', 'refs/heads/release/1.0'));
    assert.ok(!m('refs/heads/release/*', 'refs/heads/release/1.0/x'));
    assert.ok(m('a/**/b/**/c', 'a/x/b/y/z/c'));
    assert.ok(m('.gitsign/policy.yaml', '.gitsign/policy.yaml'));
    assert.ok(!m('.gitsign/policy.yaml', '.gitsign/policy_yaml'));
    // A literal directory and all under it, the directory included (matched by prefix).
    assert.ok(m('**', 'any/path/at/all'));
    assert.ok(m('docs/**', 'docs'));
    assert.ok(!m('docs/**', 'doc'));
    assert.ok(m('a/b/**', 'a/b/c/d'));
    assert.ok(!m('a/b/**', 'a/bc'));
    assert.ok(!m('a/b/**', 'x/a/b/c'));
  });

  test('hostile names and patterns: many ** and stars against long names (a table over segments, no backtracking)', () => {
    const pattern = Array.from({ length: 30 }, () => '**').join('/') + '/x';
    assert.equal(globProblem(pattern), null);
    const path = Array.from({ length: 2000 }, () => 'a').join('/');
    assert.equal(m(pattern, path), false);
    assert.equal(m('*a*a*a*a*a*a*a*a*b', 'a'.repeat(4000)), false);
  });
});
