/**
 * gitsign-policy(5): valid roff that renders with man -l, and complete against the code: every key of
 * the file, every claim name, every reason code the audit reports, the approval predicate type, and
 * every option of `gitsign audit` and `gitsign policy init`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { APPROVAL_PREDICATE } from '../src/audit/approvals';
import { CLAIM_NAMES } from '../src/policy/claims';
import { parsePolicy } from '../src/policy/parse';
import { BIN, ROOT } from './helpers/paths';

const PAGE = join(ROOT, 'man', 'gitsign-policy.5');

function rendered(): string {
  const r = spawnSync('man', ['-l', PAGE], { env: { ...process.env, MANWIDTH: '2000', MAN_KEEP_FORMATTING: '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/‐\n\s*/g, '').replace(/[ \t]+/g, ' ').replace(/\u2010/g, '-');
}

test('gitsign-policy(5) is valid roff and has its sections', () => {
  const g = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', PAGE], { encoding: 'utf8' });
  assert.equal(g.stderr, '');
  const text = rendered();
  for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'FILE FORMAT', 'SEMANTICS', 'EXAMPLE', 'EXIT STATUS', 'SEE ALSO']) assert.match(text, new RegExp(`^${section}`, 'm'), section);
});

test('it names every key, claim and reason code, and the approval predicate type', () => {
  const text = rendered();
  const parse = readFileSync(join(ROOT, 'src', 'policy', 'parse.ts'), 'utf8');
  const keys = [...parse.matchAll(/(?:required|optional): \[([^\]]*)\]/g)].flatMap((m) => [...m[1].matchAll(/'(\w+)'/g)].map((k) => k[1]));
  assert.ok(keys.includes('subjectPattern') && keys.includes('merges') && keys.includes('branch'), keys.join());
  for (const k of new Set(keys)) assert.match(text, new RegExp(`\\b${k}\\b`), `key ${k}`);
  for (const c of CLAIM_NAMES) assert.ok(text.includes(c), `claim ${c}`);
  const sources = ['judge.ts', 'tags.ts', 'engine.ts'].map((f) => readFileSync(join(ROOT, 'src', 'audit', f), 'utf8')).join('\n');
  const codes = new Set([...sources.matchAll(/'([A-Z][A-Z_]{4,})'/g)].map((m) => m[1]).filter((c) => c !== 'POLICY'));
  assert.ok(codes.size >= 15, [...codes].join());
  for (const c of codes) assert.ok(text.includes(c), `reason ${c}`);
  assert.ok(text.includes(APPROVAL_PREDICATE));
});

test('it names every option of gitsign audit and gitsign policy init', () => {
  const text = rendered();
  for (const args of [['audit', '--help'], ['policy', 'init', '--help']]) {
    const help = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' }).stdout;
    const options = [...new Set([...help.matchAll(/^\s+(?:-[a-z], )?(--[a-z][a-z-]+)/gm)].map((m) => m[1]))].filter((o) => o !== '--help');
    assert.ok(options.length >= 4, help);
    for (const o of options) assert.ok(text.includes(o), `${args[0]} ${o}`);
  }
});

test('the example policy of the page is a valid policy', () => {
  const source = readFileSync(PAGE, 'utf8');
  const example = /\.SH EXAMPLE\n\.RS\n\.nf\n([\s\S]*?)\n\.fi/.exec(source)?.[1];
  assert.ok(example);
  const text = example.replace(/\\-/g, '-').replace(/\\\(aq/g, "'").replace(/\\e/g, '\\');
  const p = parsePolicy(Buffer.from(text), 'gitsign-policy.5 EXAMPLE');
  assert.deepEqual([...p.principals.keys()], ['alice', 'bob', 'release']);
  assert.equal(p.policy.threshold, 2);
});
