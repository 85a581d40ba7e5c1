import { GitsignError } from '../errors';

/**
 * The in-toto Statement v1 that `gitsign attest` signs: one subject, the attested commit or tree by
 * its git digest type, and the user's file as the predicate. gitsign marshals it with protojson: field
 * order _type, subject, predicateType, predicate; the predicate is a protobuf Struct (keys sorted, all
 * numbers float64); empty strings are left out. protojson's spacing is randomized on purpose, so only
 * the compact form is reproduced, not Go's bytes.
 */
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** Written by gitsign before it moved to in-toto's v1 protos; still read. */
const STATEMENT_V01 = 'https://in-toto.io/Statement/v0.1';

export type ObjectKind = 'commit' | 'tree';
export const DIGEST_TYPE: Record<ObjectKind, string> = { commit: 'gitCommit', tree: 'gitTree' };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The predicate file: a JSON object in UTF-8, as protobuf's Struct accepts it. */
export function parsePredicate(content: Buffer, file: string): { [key: string]: Json } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch {
    throw new GitsignError('USAGE', `${file} is not UTF-8 text`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new GitsignError('USAGE', `${file} is not JSON: ${(err as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new GitsignError('USAGE', `${file} must hold a JSON object (the attestation predicate)`);
  return value as { [key: string]: Json };
}

/** Go orders map keys by their UTF-8 bytes, which differs from JavaScript's UTF-16 order above U+FFFF. */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** protojson's compact text of a Struct value; equal texts mean equal Structs. */
export function structJson(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(structJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort(byUtf8)
      .map((k) => `${JSON.stringify(k)}:${structJson(v[k])}`)
      .join(',')}}`;
  }
  if (typeof v === 'number' && Object.is(v, -0)) return '-0';
  return JSON.stringify(v);
}

export function statementPayload(predicate: { [key: string]: Json }, predicateType: string, kind: ObjectKind, sha: string): Buffer {
  const subject = `[{"digest":{${JSON.stringify(DIGEST_TYPE[kind])}:${JSON.stringify(sha)}}}]`;
  const type = predicateType === '' ? '' : `"predicateType":${JSON.stringify(predicateType)},`;
  return Buffer.from(`{"_type":${JSON.stringify(STATEMENT_V1)},"subject":${subject},${type}"predicate":${structJson(predicate)}}`);
}

export interface Statement {
  predicateType: string;
  subjects: { name: string; digest: Record<string, string> }[];
  predicate: { [key: string]: Json };
}

/** A signed payload read back: an in-toto statement with at least one subject. */
export function parseStatement(payload: Buffer): Statement {
  const bad = (why: string): GitsignError => new GitsignError('MALFORMED_SIGNATURE', `the attestation is not an in-toto statement: ${why}`);
  let s: { _type?: unknown; subject?: unknown; predicateType?: unknown; predicate?: unknown };
  try {
    s = JSON.parse(payload.toString('utf8')) as typeof s;
  } catch {
    throw bad('not JSON');
  }
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw bad('not a JSON object');
  if (s._type !== STATEMENT_V1 && s._type !== STATEMENT_V01) throw bad(`unknown _type ${JSON.stringify(s._type)}`);
  if (!Array.isArray(s.subject) || s.subject.length === 0) throw bad('no subject');
  const subjects = s.subject.map((sub: { name?: unknown; digest?: unknown }) => {
    const digest = sub?.digest;
    if (!digest || typeof digest !== 'object' || Array.isArray(digest) || !Object.values(digest).every((d) => typeof d === 'string')) {
      throw bad('a subject has no digest map');
    }
    return { name: typeof sub.name === 'string' ? sub.name : '', digest: digest as Record<string, string> };
  });
  if (s.predicateType !== undefined && typeof s.predicateType !== 'string') throw bad('predicateType is not a string');
  const predicate = s.predicate === undefined ? {} : s.predicate;
  if (!predicate || typeof predicate !== 'object' || Array.isArray(predicate)) throw bad('the predicate is not an object');
  return { predicateType: s.predicateType ?? '', subjects, predicate: predicate as { [key: string]: Json } };
}
