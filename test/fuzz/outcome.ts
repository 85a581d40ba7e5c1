import type { Verdict } from './judge';

/**
 * What one case did, and the invariants every case must keep: a stated error code (never INTERNAL),
 * one clear line (never a JavaScript runtime message), and, when accepted, a mutant the judge finds
 * non-semantic.
 */
export type Outcome =
  | { kind: 'accepted' }
  | { kind: 'rejected'; code: string; message: string }
  /** Something other than a GitsignError escaped the product function. */
  | { kind: 'thrown'; name: string; message: string };

export interface CaseReport {
  family: 'object' | 'bundle' | 'server';
  /** The mutation class the counts are kept by, e.g. "corpus-embedded/der:si.signedAttrs". */
  cls: string;
  subject: string;
  op: string;
  outcome: Outcome;
  /** For accepted mutants: what differs, and whether it matters. */
  verdict?: Verdict;
  /** The mutant, saved for a reproducer when the case fails. */
  artifact?: { ext: string; bytes: Buffer };
  /** Invariant broken by the product beyond the outcome (e.g. an unbounded poll interval). */
  extraFailure?: string;
}

export type FailureKind = 'false-accept' | 'internal' | 'runtime-message' | 'crash' | 'hang' | 'bad-message' | 'other';

/** Messages that are JavaScript's, not ours: they name no input, only the code that broke. */
export const RUNTIME_MESSAGE: RegExp[] = [
  /Cannot read propert/i,
  /Cannot set propert/i,
  /Cannot destructure/,
  /is not a function/,
  /is not iterable/,
  /is not a constructor/,
  /is not defined/,
  /Invalid time value/,
  /RangeError/,
  /TypeError/,
  /SyntaxError/,
  /ReferenceError/,
  /\bundefined\b/,
  /\bNaN\b/,
  /\[object \w+\]/,
  /Maximum call stack/,
  /Cannot convert/,
  /Cannot mix BigInt/,
  /Do not know how to serialize a BigInt/,
  /Invalid (typed )?array length/,
  /Reduce of empty array/,
  /The value of "[^"]+" is out of range/,
  /The "[^"]+" argument must be/,
  /\bERR_[A-Z_]{4,}\b/,
  /error:[0-9A-F]{8}:/,
  /routines::/,
  /\n\s+at /,
  /^Invalid URL$|: Invalid URL\b/,
  /out of range of (bigint|number)/i,
  /Offset is outside the bounds/,
  /Attempt to access memory outside buffer bounds/,
];

export function runtimeMessage(message: string): RegExp | undefined {
  return RUNTIME_MESSAGE.find((re) => re.test(message));
}

/** The failure a case represents, or undefined when it kept every invariant. */
export function failureOf(r: CaseReport): { kind: FailureKind; why: string } | undefined {
  if (r.extraFailure) return { kind: 'other', why: r.extraFailure };
  const o = r.outcome;
  if (o.kind === 'thrown') return { kind: 'crash', why: `${o.name}: ${o.message}` };
  if (o.kind === 'rejected') {
    if (o.code === 'INTERNAL') return { kind: 'internal', why: o.message };
    if (!/^[A-Z][A-Z0-9_]+$/.test(o.code)) return { kind: 'bad-message', why: `error code ${JSON.stringify(o.code)}` };
    const re = runtimeMessage(o.message);
    if (re) return { kind: 'runtime-message', why: `${o.code}: ${o.message} (matches ${re})` };
    if (o.message.trim() === '' || /[\r\n]/.test(o.message)) return { kind: 'bad-message', why: `${o.code}: ${JSON.stringify(o.message)}` };
    return undefined;
  }
  if (r.verdict && r.verdict.critical.length > 0) return { kind: 'false-accept', why: `changed and accepted: ${r.verdict.critical.slice(0, 6).join(', ')}` };
  return undefined;
}

/** Runs a product call and turns what it threw into an outcome (GitsignError by name, as toGitsignError does). */
export async function outcomeOf(call: () => Promise<unknown> | unknown): Promise<Outcome> {
  try {
    await call();
    return { kind: 'accepted' };
  } catch (err) {
    return errorOutcome(err);
  }
}

export function errorOutcome(err: unknown): Outcome {
  if (err instanceof Error && err.name === 'GitsignError' && typeof (err as { code?: unknown }).code === 'string') {
    return { kind: 'rejected', code: (err as Error & { code: string }).code, message: err.message };
  }
  if (err instanceof Error) return { kind: 'thrown', name: err.constructor?.name ?? err.name, message: err.message };
  return { kind: 'thrown', name: typeof err, message: String(err) };
}
