/**
 * Globs for paths (`src/**`, `*.md`, `docs/?/index.md`) and ref or tag names (`refs/heads/release/*`):
 * `*` is any run of characters within one `/`-separated segment, `?` one character of a segment, and
 * a segment that is `**` is any number of segments, none included. Everything else is literal.
 * Character classes and braces are refused rather than read differently from what a reader expects.
 * Matching is a table over segments (no regular expression, no backtracking blow-up on hostile names).
 */
export interface Glob {
  readonly source: string;
  matches(text: string): boolean;
}

export const MAX_GLOB_LENGTH = 1024;

/** Why the pattern is not a glob, or null when it is one. */
export function globProblem(source: string): string | null {
  if (source === '') return 'an empty pattern matches nothing';
  if (source.length > MAX_GLOB_LENGTH) return `a pattern is at most ${MAX_GLOB_LENGTH} characters`;
  if (/[[\]{}\\]/.test(source)) return 'character classes ([...]), braces ({...}) and backslashes are not supported in patterns';
  if (/[\u0000-\u001f\u007f]/.test(source)) return 'a pattern cannot hold control characters';
  const segments = source.split('/');
  if (segments.some((s) => s === '')) return 'a pattern has no empty segments (no leading, trailing or doubled /)';
  if (segments.some((s) => s.includes('**') && s !== '**')) return '** must be a whole segment (write a/**/b, not a**b)';
  return null;
}

/** One segment's wildcard match (`*`, `?`), the classic two-pointer walk: linear with one star, O(n*m) at worst. */
function segmentMatches(p: string, t: string): boolean {
  let pi = 0;
  let ti = 0;
  let star = -1;
  let mark = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = ti;
    } else if (star !== -1) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** Compiles a pattern already checked by globProblem. */
export function compileGlob(source: string): Glob {
  const pattern = source.split('/');
  const literal = !/[*?]/.test(source);
  // A literal directory and all under it (`docs/**`, `**`), the commonest rule: a prefix test, no table
  // (an audit matches it for every path of every commit).
  const dir = pattern.slice(0, -1).join('/');
  if (pattern[pattern.length - 1] === '**' && !/[*?]/.test(dir)) {
    return { source, matches: (text) => dir === '' || text === dir || text.startsWith(`${dir}/`) };
  }
  const matches = (text: string): boolean => {
    if (literal) return text === source;
    const segs = text.split('/');
    // reach[j]: the pattern's first i segments can match the text's first j segments.
    let reach = new Uint8Array(segs.length + 1);
    reach[0] = 1;
    for (const p of pattern) {
      const next = new Uint8Array(segs.length + 1);
      if (p === '**') {
        let any = 0;
        for (let j = 0; j <= segs.length; j++) {
          any |= reach[j];
          next[j] = any;
        }
      } else {
        for (let j = 0; j < segs.length; j++) if (reach[j] && segmentMatches(p, segs[j])) next[j + 1] = 1;
      }
      reach = next;
    }
    return reach[segs.length] === 1;
  };
  return { source, matches };
}
