import type { RawObject } from '../git/catFile';
import { objectSigner, isInfrastructureFailure } from './signatures';
import type { SignatureFacts } from './types';

/**
 * A signature check's result as one cache line's JSON, and back. Only what the object alone decides is
 * written: a verified signature (with its certificate's fingerprint, so the signer's claims are read
 * again from the object itself), no signature, or a failure of the object; never a failure of the
 * check (network, worker, git), which the next run must try again. Read back strictly: any field of
 * the wrong type or size makes the line a miss.
 */
const MAX_TEXT = 4096;
const MAX_ITEMS = 64;
const FINGERPRINT = /^[0-9a-f]{40}$/;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?Z$/;

type Encoded =
  | { s: 'v'; id: string[]; iss: string; fp: string; t: string; ts: 'tlog' | 'tsa' | 'unattested'; li: number | null; nc: string[] }
  | { s: 'u' }
  | { s: 'e'; c: string; m: string; id: string[]; iss: string | null };

/** The line's JSON for a result worth keeping, or null. */
export function encodeFacts(f: SignatureFacts): string | null {
  let e: Encoded;
  // Only gitsign's checks are kept: SSH and OpenPGP results depend on the keys the policies carry.
  if (f.state !== 'unsigned' && (f.kind ?? 'sigstore') !== 'sigstore') return null;
  if (f.state === 'verified') {
    if (f.timeSource === 'claimed') return null;
    if (f.certificateFingerprint === undefined || !FINGERPRINT.test(f.certificateFingerprint)) return null;
    e = { s: 'v', id: [...f.signer.identities], iss: f.signer.issuer, fp: f.certificateFingerprint, t: f.time.toISOString(), ts: f.timeSource, li: f.logIndex, nc: f.notChecked };
  } else if (f.state === 'unsigned') {
    e = { s: 'u' };
  } else {
    if (isInfrastructureFailure(f.code)) return null;
    e = { s: 'e', c: f.code, m: f.message, id: f.identities, iss: f.issuer };
  }
  const json = JSON.stringify(e);
  return decode(json) ? json : null;
}

const text = (v: unknown): v is string => typeof v === 'string' && v.length <= MAX_TEXT;
const texts = (v: unknown): v is string[] => Array.isArray(v) && v.length <= MAX_ITEMS && v.every(text);

/** Whether the object has exactly these keys (a cache line is read for every object of a re-run: no sorting). */
function exactKeys(o: object, keys: ReadonlySet<string>): boolean {
  const own = Object.keys(o);
  if (own.length !== keys.size) return false;
  for (const k of own) if (!keys.has(k)) return false;
  return true;
}
const KEYS_U: ReadonlySet<string> = new Set(['s']);
const KEYS_E: ReadonlySet<string> = new Set(['s', 'c', 'm', 'id', 'iss']);
const KEYS_V: ReadonlySet<string> = new Set(['s', 'id', 'iss', 'fp', 't', 'ts', 'li', 'nc']);
const KEYS_SIGNER_PART: ReadonlySet<string> = new Set(['s', 'id', 'iss', 'fp', 'ts', 'nc']);
const CODE = /^[A-Z][A-Z0-9_]{0,39}$/;

/** The line's fields, checked; the parsed object itself when every field holds (nothing else is in it). */
function decode(json: string): Encoded | null {
  return check(parsed(json));
}

function parsed(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

function check(v: unknown): Encoded | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  switch (o.s) {
    case 'u':
      return exactKeys(o, KEYS_U) ? (o as Encoded) : null;
    case 'e':
      if (!exactKeys(o, KEYS_E) || !text(o.c) || !CODE.test(o.c) || isInfrastructureFailure(o.c) || !text(o.m) || !texts(o.id) || !(o.iss === null || text(o.iss))) return null;
      return o as Encoded;
    case 'v': {
      if (!exactKeys(o, KEYS_V) || !texts(o.id) || !text(o.iss) || !text(o.fp) || !FINGERPRINT.test(o.fp) || !texts(o.nc)) return null;
      if (!text(o.t) || !ISO_TIME.test(o.t) || Number.isNaN(Date.parse(o.t))) return null;
      if (o.ts !== 'tlog' && o.ts !== 'tsa' && o.ts !== 'unattested') return null;
      if (!(o.li === null || (Number.isSafeInteger(o.li) && (o.li as number) >= 0))) return null;
      return o as Encoded;
    }
    default:
      return null;
  }
}

/**
 * A verified result's line as encodeFacts writes it: the signer's part, which the commits one
 * certificate signed repeat, around the time and log index, which are each commit's own.
 */
const TIME_AT = ',"t":"';
const TIME_END = '","ts":';
const INDEX_AT = ',"li":';
const NOT_CHECKED_AT = ',"nc":';
const LOG_INDEX = /^(null|0|[1-9][0-9]{0,15})$/;
/** Signer parts by their text, each parsed and checked once (a re-run reads one line per object); bounded. */
const signerParts = new Map<string, Encoded | null>();
const MAX_SIGNER_PARTS = 4096;

/**
 * The line's fields: a verified result's signer part is looked up (parsed and checked at its first
 * line), its time and log index checked as decode checks them; any other line, or one whose parts do
 * not check, is decoded whole (so every line reads as decode reads it, or is a miss).
 */
function decodeLine(json: string): Encoded | null {
  const t0 = json.startsWith('{"s":"v",') ? json.indexOf(TIME_AT) : -1;
  const t1 = t0 === -1 ? -1 : json.indexOf(TIME_END, t0);
  const l0 = t1 === -1 ? -1 : json.indexOf(INDEX_AT, t1);
  const l1 = l0 === -1 ? -1 : json.indexOf(NOT_CHECKED_AT, l0);
  if (l1 === -1) return decode(json);
  const t = json.slice(t0 + TIME_AT.length, t1);
  const li = json.slice(l0 + INDEX_AT.length, l1);
  if (!ISO_TIME.test(t) || Number.isNaN(Date.parse(t)) || !LOG_INDEX.test(li)) return decode(json);
  // The line without ,"t":"...", and ,"li":...: the signer's part, itself a JSON object.
  const rest = json.slice(0, t0) + json.slice(t1 + 1, l0) + json.slice(l1);
  let part = signerParts.get(rest);
  if (part === undefined) {
    // Checked as a whole line with this time (a part that holds a time or log index of its own is none).
    const o = parsed(rest);
    part = typeof o === 'object' && o !== null && !Array.isArray(o) && exactKeys(o, KEYS_SIGNER_PART) ? check({ ...o, t, li: 0 }) : null;
    if (signerParts.size >= MAX_SIGNER_PARTS) signerParts.clear();
    signerParts.set(rest, part);
  }
  if (part?.s !== 'v') return decode(json);
  const logIndex = li === 'null' ? null : Number(li);
  return Number.isSafeInteger(logIndex) || logIndex === null ? { ...part, t, li: logIndex } : decode(json);
}

/** A line's fields, checked (decodeLine), before they are made the facts of an object. */
export type CachedResult = Encoded;

/** The fields of a line, or null when the line is not one we write: the object-free half of decodeFacts. */
export function decodeResult(json: string): CachedResult | null {
  return decodeLine(json);
}

/** The result a line holds, for this object (read only if a claim is asked for); null when the line is not one we write. */
export function decodeFacts(json: string, object: () => RawObject | null): SignatureFacts | null {
  const e = decodeLine(json);
  return e ? factsOf(e, object) : null;
}

/** The facts of checked fields, for this object. */
export function factsOf(e: CachedResult, object: () => RawObject | null): SignatureFacts {
  switch (e.s) {
    case 'u':
      return { state: 'unsigned' };
    case 'e':
      return { state: 'error', code: e.c, message: e.m, identities: e.id, issuer: e.iss };
    case 'v':
      return {
        state: 'verified',
        signer: objectSigner(e.id, e.iss, e.fp, object),
        time: new Date(e.t),
        timeSource: e.ts,
        logIndex: e.li,
        notChecked: e.nc,
        certificateFingerprint: e.fp,
      };
  }
}
