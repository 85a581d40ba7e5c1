/**
 * `gitsign audit` (and the server hook) exit 1 for violations only: a command line they cannot run is
 * 2 ("could not run"), so a CI job never reads a typo as "violations found" or the other way round.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { BIN } from './helpers/paths';

const run = (...args: string[]) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60_000 });

test('a usage error of gitsign audit or gitsign hook exits 2, with one sentence', () => {
  for (const args of [['audit', '--bogus'], ['audit', '--html'], ['hook']]) {
    const r = run(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^gitsign: .+\n$/);
  }
});

test("other commands keep Go gitsign's 1 for a usage error", () => {
  for (const args of [['verify', '--bogus'], ['policy', 'init', '--bogus']]) assert.equal(run(...args).status, 1, args.join(' '));
});
