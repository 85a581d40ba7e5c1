/**
 * The policy the README recommends for a GitHub project is one `gitsign policy check` accepts once
 * GitHub's web-flow certificate is pasted where it says, and refuses (at the line) before.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT } from './helpers/paths';

const PLACEHOLDER = /( +)-----BEGIN PGP PUBLIC KEY BLOCK-----\n.*\n +-----END PGP PUBLIC KEY BLOCK-----\n/;

test("the README's policy for a GitHub project passes gitsign policy check with the certificate pasted, not before", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### A policy for a GitHub project'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the section has a yaml block');
  const dir = mkdtempSync(join(tmpdir(), 'gitsign-readme-policy-'));
  try {
    const check = (text: string) => {
      writeFileSync(join(dir, 'policy.yaml'), text);
      return spawnSync(BIN, ['policy', 'check', join(dir, 'policy.yaml')], { encoding: 'utf8', timeout: 60_000 });
    };
    const placeholder = check(block[1]);
    assert.equal(placeholder.status, 1);
    assert.match(placeholder.stderr, /policy\.yaml:\d+:1: the OpenPGP certificate given for 968479A1AFF927E37D1A566BB5690EEEBB952194 cannot be read/);
    const indent = PLACEHOLDER.exec(block[1])?.[1] ?? '';
    const certificate = readFileSync(join(ROOT, 'test', 'fixtures', 'github-web-flow.asc'), 'utf8').trimEnd().split('\n').map((l) => `${indent}${l}`).join('\n');
    const pasted = check(block[1].replace(PLACEHOLDER, () => `${certificate}\n`));
    assert.equal(pasted.status, 0, pasted.stdout + pasted.stderr);
    assert.match(pasted.stdout, /a valid policy \(version 1, serial 1\): 5 principals/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
