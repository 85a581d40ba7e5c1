/**
 * A line diff between two policy versions (Myers' O(ND) shortest edit script), in hunks as `diff -u`
 * shows them. The texts come from commits, so the work is bounded: past MAX_EDITS edits (or a budget
 * of comparisons that a large file lowers) the differing middle is shown as removed, then added: a
 * correct diff, only not the shortest.
 */
export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

export interface Hunk {
  /** 1-based first line in each version (0 when the hunk holds none of that version's lines) and counts, as in `@@ -a,b +c,d @@`. */
  oldStart: number;
  oldCount: number;
  newStart: number;
  newCount: number;
  lines: DiffLine[];
}

const MAX_EDITS = 2000;
/** Comparisons allowed: Myers does at most (lines) x (edits) of them. */
const BUDGET = 40_000_000;

/** Lines as numbers (equal lines, equal numbers), so that the search compares integers. */
function numbered(a: readonly string[], b: readonly string[]): [Int32Array, Int32Array] {
  const ids = new Map<string, number>();
  const id = (line: string): number => {
    let n = ids.get(line);
    if (n === undefined) ids.set(line, (n = ids.size));
    return n;
  };
  return [Int32Array.from(a, id), Int32Array.from(b, id)];
}

/**
 * The shortest edit script of a into b as a list of operations, or null past `maxEdits`. Each round d
 * keeps the furthest x reached on every diagonal k = x - y (Myers 1986); the rounds' arrays are kept
 * to walk back from the end.
 */
function myers(a: Int32Array, b: Int32Array, maxEdits: number): ('=' | '-' | '+')[] | null {
  const n = a.length;
  const m = b.length;
  const off = maxEdits + 1;
  const v = new Int32Array(2 * maxEdits + 3);
  const rounds: Int32Array[] = [];
  for (let d = 0; d <= maxEdits; d++) {
    // The furthest x of round d-1 on diagonals -d-1..d+1 (those round d reads).
    rounds.push(v.slice(off - d - 1, off + d + 2));
    for (let k = -d; k <= d; k += 2) {
      let x = d === 0 ? 0 : k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) return walkBack(rounds, n, m, d);
    }
  }
  return null;
}

function walkBack(rounds: Int32Array[], n: number, m: number, edits: number): ('=' | '-' | '+')[] {
  const ops: ('=' | '-' | '+')[] = [];
  let x = n;
  let y = m;
  for (let d = edits; d > 0; d--) {
    const before = rounds[d];
    // before[i] is diagonal i - d - 1.
    const at = (k: number): number => before[k + d + 1];
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push('=');
      x--;
      y--;
    }
    ops.push(x === prevX ? '+' : '-');
    x = prevX;
    y = prevY;
  }
  for (; x > 0; x--) ops.push('=');
  return ops.reverse();
}

/** Every line of both versions, each kept, removed or added, in order. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const lines = midA.length + midB.length;
  const maxEdits = Math.min(lines, MAX_EDITS, Math.floor(BUDGET / Math.max(lines, 1)));
  const [na, nb] = numbered(midA, midB);
  const ops = myers(na, nb, maxEdits) ?? [...midA.map(() => '-' as const), ...midB.map(() => '+' as const)];
  const out: DiffLine[] = a.slice(0, start).map((text) => ({ op: ' ', text }));
  let i = 0;
  let j = 0;
  for (const op of ops) {
    if (op === '=') {
      out.push({ op: ' ', text: midA[i++] });
      j++;
    } else if (op === '-') out.push({ op: '-', text: midA[i++] });
    else out.push({ op: '+', text: midB[j++] });
  }
  for (const text of a.slice(endA)) out.push({ op: ' ', text });
  return out;
}

/** The changes with `context` unchanged lines around each, nearby changes in one hunk; none when equal. */
export function hunks(lines: readonly DiffLine[], context = 3): Hunk[] {
  const out: Hunk[] = [];
  // Line numbers (0-based) in each version before lines[i].
  const oldAt: number[] = [];
  const newAt: number[] = [];
  let o = 0;
  let n = 0;
  for (const l of lines) {
    oldAt.push(o);
    newAt.push(n);
    if (l.op !== '+') o++;
    if (l.op !== '-') n++;
  }
  let i = 0;
  while (i < lines.length) {
    if (lines[i].op === ' ') {
      i++;
      continue;
    }
    const from = Math.max(0, i - context);
    let end = i;
    // Extend while the next change is within 2 x context unchanged lines.
    for (let j = i; j < lines.length; j++) {
      if (lines[j].op !== ' ') end = j;
      else if (j - end > 2 * context) break;
    }
    const to = Math.min(lines.length, end + context + 1);
    const slice = lines.slice(from, to);
    const oldCount = slice.filter((l) => l.op !== '+').length;
    const newCount = slice.filter((l) => l.op !== '-').length;
    out.push({
      oldStart: oldCount ? oldAt[from] + 1 : oldAt[from],
      oldCount,
      newStart: newCount ? newAt[from] + 1 : newAt[from],
      newCount,
      lines: slice,
    });
    i = to;
  }
  return out;
}

/** A text's lines as a diff sees them: split at LF, a final LF ending the last line rather than starting an empty one. */
export function textLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
