import type { RE2JS } from 're2js';
import { GitsignError } from '../errors';

/**
 * Identity and issuer patterns are Go regular expressions: cosign and the Go gitsign compile them
 * with Go's regexp (RE2 syntax: `\A`, `\z`, `(?i)`, no backreferences or lookarounds) and test them
 * with MatchString, an unanchored search. re2js is a port of that engine; JavaScript's RegExp is
 * another language (it reads `\z` as the letter z). re2js takes ~15 ms to load, so it is loaded only
 * when a pattern is given, never on git's verify path.
 */
export interface GoPattern {
  readonly source: string;
  /** Go's regexp.MatchString: does the pattern match anywhere in the text? */
  matches(text: string): boolean;
}

let engine: typeof RE2JS | undefined;

/** require(), not import(): the bundle loads it from its own file (scripts/build.mjs) only when needed. */
function re2(): typeof RE2JS {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  engine ??= (require('re2js') as typeof import('re2js')).RE2JS;
  return engine;
}

/** Control characters of a pattern, shown as escapes (the message reaches a terminal). */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const compiled = new Map<string, GoPattern>();

/**
 * Compiles a Go pattern given by `option` (named in the error); compiled once per process. An invalid
 * pattern is a usage error saying why, in Go's words.
 */
export function goPattern(source: string, option: string): GoPattern {
  const known = compiled.get(source);
  if (known) return known;
  let re: RE2JS;
  try {
    re = re2().compile(source);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    throw new GitsignError('USAGE', `invalid ${option} "${printable(source)}": not a Go regular expression (${printable(reason)})`);
  }
  const pattern: GoPattern = { source, matches: (text) => re.test(text) };
  compiled.set(source, pattern);
  return pattern;
}
