import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ALLOWED } from './fuzz/judge';
import { failureGroups } from './fuzz/report';
import { type FuzzResult, runFuzz } from './fuzz/runner';
import { ROOT, sharedMissing } from './helpers/paths';

/**
 * The mutation fuzzer (test/fuzz, `npm run fuzz`) as part of `npm test`: a few hundred mutants with a
 * fixed seed, and every case a larger run once found (test/fuzz/regressions/index.json), replayed by
 * seed and case number. Any invariant broken fails the test with the distinct failures and their
 * reproducers: a mutant of signed content accepted, an error without a stated code or with INTERNAL,
 * a JavaScript runtime message, a crash, a hang.
 */
const SEED = 20_251_010;
const CASES = 300;

function describeFailures(r: FuzzResult): string {
  return failureGroups(r.failures)
    .map((g) => `[${g.kind}] x${g.count} ${g.shape}\n  ${g.examples.map((e) => `npm run fuzz -- --seed ${r.seed} --case ${e.n}  (${e.cls}; ${e.op.slice(0, 100)}): ${e.why.slice(0, 200)}`).join('\n  ')}`)
    .join('\n');
}

describe('prove it at scale: the mutation fuzzer', { skip: sharedMissing() }, () => {
  test(`${CASES} mutants (seed ${SEED}) of corpus objects, sandbox-signed objects, bundles and server answers keep every invariant`, { timeout: 15 * 60_000 }, async () => {
    const r = await runFuzz({ seed: SEED, from: 0, to: CASES, workers: 1, deadlineMs: 20_000, watchdogMs: 60_000 });
    assert.equal(r.cases, CASES);
    assert.deepEqual(r.baseline, [], 'every unmutated subject gives its expected result');
    // Every family was exercised and mostly refused with stated codes (the fuzzer is not idle).
    const families = new Set(Object.keys(r.classes).map((c) => c.split('/')[0].replace(/^sandbox-.*/, 'sandbox')));
    for (const f of ['corpus-embedded', 'corpus-online', 'sandbox', 'bundle', 'server']) assert.ok(families.has(f), `no ${f} case ran`);
    for (const c of Object.values(r.classes)) for (const a of Object.keys(c.accepted)) assert.ok(ALLOWED[a], `accepted class ${a} has no stated reason`);
    assert.equal(r.failures.length, 0, `invariants broken:\n${describeFailures(r)}`);
  });

  test('the harness reports a case that hangs its thread, or never settles, as a hang and goes on', { timeout: 5 * 60_000 }, async () => {
    for (const kind of ['sync', 'async'] as const) {
      const r = await runFuzz({ seed: SEED, from: 0, to: 3, workers: 1, deadlineMs: 2_000, watchdogMs: 4_000, selfTestHang: { n: 1, kind } });
      assert.equal(r.cases, 3, kind);
      assert.deepEqual(
        r.failures.filter((f) => f.kind === 'hang').map((f) => f.n),
        [1],
        `${kind}: ${describeFailures(r)}`,
      );
    }
  });

  const index = join(ROOT, 'test', 'fuzz', 'regressions', 'index.json');
  const known = existsSync(index) ? (JSON.parse(readFileSync(index, 'utf8')) as { seed: number; case: number; finding: string }[]) : [];
  test(`the ${known.length} cases earlier runs found (test/fuzz/regressions) keep every invariant`, { skip: known.length === 0 ? 'no regressions recorded' : false, timeout: 15 * 60_000 }, async () => {
    const bySeed = new Map<number, number[]>();
    for (const k of known) bySeed.set(k.seed, [...(bySeed.get(k.seed) ?? []), k.case]);
    const broken: string[] = [];
    for (const [seed, only] of bySeed) {
      const r = await runFuzz({ seed, from: 0, to: 0, only, workers: 1, deadlineMs: 20_000, watchdogMs: 60_000 });
      assert.equal(r.cases, only.length);
      if (r.failures.length) broken.push(describeFailures(r));
    }
    assert.deepEqual(broken, []);
  });
});
