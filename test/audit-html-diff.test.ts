/**
 * The line diff `gitsign audit --html` shows between policy versions (src/audit/html/diff.ts): a
 * shortest edit script checked against a brute-force LCS on many random pairs, both versions rebuilt
 * from it, hunks numbered as `diff -u` numbers them, and hostile sizes bounded (a correct, longer
 * script instead of unbounded work).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type DiffLine, diffLines, hunks, textLines } from '../src/audit/html/diff';

const side = (lines: DiffLine[], keep: '-' | '+'): string[] => lines.filter((l) => l.op === ' ' || l.op === keep).map((l) => l.text);
const edits = (lines: DiffLine[]): number => lines.filter((l) => l.op !== ' ').length;

/** The length of a longest common subsequence, by the quadratic table. */
function lcs(a: string[], b: string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) t[i][j] = a[i - 1] === b[j - 1] ? t[i - 1][j - 1] + 1 : Math.max(t[i - 1][j], t[i][j - 1]);
  return t[a.length][b.length];
}

/** A small deterministic generator (xorshift), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

describe('line diff', () => {
  test('a changed line between unchanged ones is one removal and one addition, in place', () => {
    assert.deepEqual(diffLines(['a', 'b', 'c'], ['a', 'x', 'c']), [
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'x' },
      { op: ' ', text: 'c' },
    ]);
  });

  test('equal, empty and one-sided inputs', () => {
    assert.deepEqual(diffLines([], []), []);
    assert.equal(edits(diffLines(['a', 'b'], ['a', 'b'])), 0);
    assert.deepEqual(diffLines([], ['a']), [{ op: '+', text: 'a' }]);
    assert.deepEqual(diffLines(['a'], []), [{ op: '-', text: 'a' }]);
  });

  test('on 3,000 random pairs the script rebuilds both versions and is as short as the LCS allows', () => {
    for (let seed = 1; seed <= 3000; seed++) {
      const r = rng(seed);
      const gen = (): string[] => Array.from({ length: Math.floor(r() * 14) }, () => 'abcd'[Math.floor(r() * 4)]);
      const a = gen();
      const b = gen();
      const d = diffLines(a, b);
      assert.deepEqual(side(d, '-'), a, `seed ${seed}`);
      assert.deepEqual(side(d, '+'), b, `seed ${seed}`);
      assert.equal(edits(d), a.length + b.length - 2 * lcs(a, b), `seed ${seed}: not a shortest script`);
    }
  });

  test('two unrelated 100,000-line texts end quickly in a correct script: every old line removed, every new one added', () => {
    const a = Array.from({ length: 100_000 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 100_000 }, (_, i) => `b${i}`);
    const d = diffLines(a, b);
    assert.deepEqual(side(d, '-'), a);
    assert.deepEqual(side(d, '+'), b);
    assert.equal(edits(d), 200_000);
  });

  test('a small change in a large text is still found exactly (common ends are set aside first)', () => {
    const a = Array.from({ length: 100_000 }, (_, i) => `line ${i}`);
    const b = [...a];
    b[50_000] = 'changed';
    assert.equal(edits(diffLines(a, b)), 2);
  });
});

describe('hunks', () => {
  const a = Array.from({ length: 20 }, (_, i) => `l${i + 1}`);

  test('one change gets three lines of context and diff -u numbering', () => {
    const b = [...a];
    b[9] = 'X';
    const [h, ...rest] = hunks(diffLines(a, b));
    assert.equal(rest.length, 0);
    assert.deepEqual([h.oldStart, h.oldCount, h.newStart, h.newCount], [7, 7, 7, 7]);
    assert.deepEqual(h.lines.map((l) => l.op + l.text), [' l7', ' l8', ' l9', '-l10', '+X', ' l11', ' l12', ' l13']);
  });

  test('changes at most six unchanged lines apart share a hunk; seven apart do not', () => {
    const near = [...a];
    near[2] = 'X';
    near[9] = 'Y';
    assert.equal(hunks(diffLines(a, near)).length, 1);
    const far = [...a];
    far[2] = 'X';
    far[10] = 'Y';
    assert.equal(hunks(diffLines(a, far)).length, 2);
  });

  test('an insertion at the top and a removal at the end are numbered as diff -u numbers them', () => {
    const hs = hunks(diffLines(['x'], ['new', 'x']), 0);
    assert.deepEqual(hs.map((h) => [h.oldStart, h.oldCount, h.newStart, h.newCount]), [[0, 0, 1, 1]]);
    const end = hunks(diffLines(['x', 'y'], ['x']), 0);
    assert.deepEqual(end.map((h) => [h.oldStart, h.oldCount, h.newStart, h.newCount]), [[2, 1, 1, 0]]);
  });

  test('equal texts have no hunks', () => {
    assert.deepEqual(hunks(diffLines(a, a)), []);
  });

  test('a text is split at LF; its final LF starts no empty line; CR stays in the line', () => {
    assert.deepEqual(textLines(''), []);
    assert.deepEqual(textLines('a\nb\n'), ['a', 'b']);
    assert.deepEqual(textLines('a\r\nb'), ['a\r', 'b']);
    assert.deepEqual(textLines('\n'), ['']);
  });
});
