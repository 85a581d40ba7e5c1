import { decodePem, encodePem, pemLabel } from '../cms/pem';
import { parseSignedData } from '../cms/signedData';
import { GitsignError } from '../errors';
import { splitCommit, splitTag } from '../git/rawobj';
import { findSignerCertificate } from '../verify/signature';

/**
 * `gitsign show`: an in-toto Statement whose predicate describes a commit or an annotated tag and its
 * signature (gitsign's predicate/git/v0.1 and predicate/tag/v0.1). Fields are read from the object's
 * raw bytes the way go-git decodes them, and printed as Go's encoding/json prints gitsign's structs:
 * key order as declared, empty fields left out, 2-space indent, HTML characters escaped.
 */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const COMMIT_PREDICATE = 'https://gitsign.sigstore.dev/predicate/git/v0.1';
export const TAG_PREDICATE = 'https://gitsign.sigstore.dev/predicate/tag/v0.1';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

interface Person {
  name: string;
  email: string;
  date: string;
}

interface Headers {
  /** First value of each header (splitCommit / splitTag refuse duplicated singletons before this is read). */
  first: Map<string, string>;
  parents: string[];
  /** Offset of the message (after the blank line), or the object's length when there is none. */
  bodyStart: number;
}

function readHeaders(raw: Buffer): Headers {
  const first = new Map<string, string>();
  const parents: string[] = [];
  let pos = 0;
  while (pos < raw.length) {
    const nl = raw.indexOf(0x0a, pos);
    const end = nl === -1 ? raw.length : nl + 1;
    const line = raw.toString('utf8', pos, nl === -1 ? raw.length : nl);
    pos = end;
    if (line.startsWith(' ') || line.startsWith('\t')) continue; // continuation (signatures, mergetag)
    const text = line.trim();
    if (text === '') return { first, parents, bodyStart: pos };
    const sp = text.indexOf(' ');
    const key = sp === -1 ? text : text.slice(0, sp);
    const value = sp === -1 ? '' : text.slice(sp + 1);
    if (key === 'parent') parents.push(value);
    else if (!first.has(key)) first.set(key, value);
  }
  return { first, parents, bodyStart: raw.length };
}

/** Seconds of year 1 and of the end of year 9999: the range a protobuf Timestamp can hold. */
const MIN_SECONDS = -62135596800n;
const MAX_SECONDS = 253402300799n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** go-git's Signature.Decode: the name before the last '<', the email up to the last '>', then the time. */
function person(ident: string | undefined, what: string): Person {
  const p: Person = { name: '', email: '', date: '0001-01-01T00:00:00Z' }; // Go's zero time
  if (ident === undefined) return p;
  const open = ident.lastIndexOf('<');
  const close = ident.lastIndexOf('>');
  if (open === -1 || close === -1 || close < open) return p;
  p.name = ident.slice(0, open).replace(/^ +| +$/g, '');
  p.email = ident.slice(open + 1, close);
  const seconds = ident.slice(close + 2).split(' ', 1)[0];
  if (!/^[+-]?\d+$/.test(seconds) || BigInt(seconds) < INT64_MIN || BigInt(seconds) > INT64_MAX) return p;
  const s = BigInt(seconds);
  if (s < MIN_SECONDS || s > MAX_SECONDS) throw new GitsignError('MALFORMED_OBJECT', `the ${what} date ${seconds} is outside the years 1 to 9999`);
  p.date = new Date(Number(s) * 1000).toISOString().replace('.000Z', 'Z');
  return p;
}

/** go-git's Hash.String() of a header value: lowercase hex, or zeros when it is not an object ID. */
function hashString(value: string | undefined): string {
  return value !== undefined && /^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$/.test(value) ? value.toLowerCase() : '0'.repeat(40);
}

/** Certificate and signed attributes of each signer of a gitsign (CMS) signature; other kinds have none. */
function signerInfo(signature: Buffer | null): Json[] {
  if (!signature || pemLabel(signature) !== 'SIGNED MESSAGE') return [];
  const sd = parseSignedData(decodePem(signature).der);
  const out: Json[] = [];
  for (const si of sd.signers) {
    let cert;
    try {
      cert = findSignerCertificate(sd, si);
    } catch {
      continue; // a signer without its certificate is left out, as gitsign does
    }
    const attributes = si.signedAttrsDer ?? Buffer.from([0x31, 0x00]);
    out.push({ attributes: attributes.toString('base64'), certificate: encodePem('CERTIFICATE', cert.der) });
  }
  return out;
}

/** Drops the fields protobuf's JSON would leave out: empty strings and empty lists. */
function compact(obj: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== '' && !(Array.isArray(v) && v.length === 0)));
}

function personJson(p: Person): Record<string, Json> {
  return compact({ name: p.name, email: p.email, date: p.date });
}

function statement(predicateType: string, digest: Record<string, string>, remoteUrl: string, predicate: Record<string, Json>): Record<string, Json> {
  return {
    type: STATEMENT_TYPE,
    predicateType,
    subject: [compact({ name: remoteUrl, digest })],
    predicate,
  };
}

/** gitsign names the object ID "sha1"; in a SHA-256 repository (which go-git cannot open) it is "sha256". */
const digestKey = (sha: string): string => (sha.length === 64 ? 'sha256' : 'sha1');

export function commitStatement(sha: string, raw: Buffer, remoteUrl: string): Record<string, Json> {
  const { signature } = splitCommit(raw);
  const h = readHeaders(raw);
  const predicate = compact({
    source: compact({
      tree: hashString(h.first.get('tree')),
      parents: h.parents.map(hashString).filter((p) => !/^0+$/.test(p)),
      author: personJson(person(h.first.get('author'), 'author')),
      committer: personJson(person(h.first.get('committer'), 'committer')),
      message: raw.toString('utf8', h.bodyStart),
    }),
    signature: signature ? signature.toString('utf8') : '',
    signer_info: signerInfo(signature),
  });
  return statement(COMMIT_PREDICATE, { [digestKey(sha)]: sha }, remoteUrl, predicate);
}

export function tagStatement(sha: string, raw: Buffer, remoteUrl: string): Record<string, Json> {
  const { signature } = splitTag(raw);
  const h = readHeaders(raw);
  const messageEnd = raw.length - (signature?.length ?? 0);
  const objectType = h.first.get('type') ?? '';
  if (!['commit', 'tree', 'blob', 'tag'].includes(objectType)) throw new GitsignError('MALFORMED_OBJECT', `malformed git object: tag of unknown type "${objectType}"`);
  const predicate = compact({
    source: compact({
      object: hashString(h.first.get('object')),
      object_type: objectType,
      tag: h.first.get('tag') ?? '',
      tagger: personJson(person(h.first.get('tagger'), 'tagger')),
      message: raw.toString('utf8', Math.min(h.bodyStart, messageEnd), messageEnd),
    }),
    signature: signature ? signature.toString('utf8') : '',
    signer_info: signerInfo(signature),
  });
  return statement(TAG_PREDICATE, { [digestKey(sha)]: sha, gitTag: sha }, remoteUrl, predicate);
}

/** Go's json.Encoder with SetIndent("", "  "): JSON.stringify's layout, plus Go's HTML-safe escapes. */
export function goIndentedJson(value: Json): string {
  const text = JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${text}\n`;
}
