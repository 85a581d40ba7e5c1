/** The policy the README recommends for a GitHub project is one `gitsign policy check` accepts, as the README says. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT } from './helpers/paths';

test("the README's policy for a GitHub project passes gitsign policy check", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### A policy for a GitHub project'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section);
  assert.ok(block, 'the section has a yaml block');
  const dir = mkdtempSync(join(tmpdir(), 'gitsign-readme-policy-'));
  try {
    writeFileSync(join(dir, 'policy.yaml'), block[1]);
    const r = spawnSync(BIN, ['policy', 'check', join(dir, 'policy.yaml')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /a valid policy \(version 1, serial 1\): 5 principals/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
