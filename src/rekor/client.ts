import { createHash } from 'node:crypto';
import type { LogEntry } from './tlogEntry';
import { GitsignError, quoted } from '../errors';
import { entryUuid } from './hashedrekord';
import { REKOR_ENTRY, REKOR_SEARCH } from '../net/answerLimits';
import { type CallOptions, type HttpResponse, httpCall, parseJson, serviceError } from '../net/http';

/**
 * Rekor v1 REST client: add entries, search by certificate, fetch entries.
 * Every answer is checked for shape here; cryptographic checks are the verifier's.
 */
export interface RekorEntryJson {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification?: {
    signedEntryTimestamp?: string;
    inclusionProof?: { checkpoint?: string; hashes?: string[]; logIndex: number; rootHash: string; treeSize: number };
  };
}

const SERVICE = 'Rekor';
const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };

/** A failed call says what was being done; the HTTP helper already names the service and status. */
async function rekorCall(what: string, url: string, opts: Omit<CallOptions, 'service'>): Promise<HttpResponse> {
  try {
    return await httpCall(url, { service: SERVICE, headers: JSON_HEADERS, ...opts });
  } catch (err) {
    const e = err as GitsignError;
    throw new GitsignError(e.code, `${what}: ${e.message}`);
  }
}

function rekorError(what: string, res: HttpResponse): GitsignError {
  const e = serviceError(SERVICE, res);
  return new GitsignError(res.status >= 500 ? 'NETWORK' : 'TLOG', `${what}: ${e.message}`);
}

/** A leaf hash, optionally behind a 16-hex tree ID (sharded Rekor). */
const REKOR_UUID = /^(?:[0-9a-fA-F]{16})?[0-9a-fA-F]{64}$/;

function entryOf(what: string, res: HttpResponse): { uuid: string; entry: RekorEntryJson } {
  const body = parseJson<Record<string, RekorEntryJson>>(SERVICE, res);
  const keys = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
  if (keys.length !== 1) throw new GitsignError('TLOG', `${what}: unexpected answer`);
  if (!REKOR_UUID.test(keys[0])) throw new GitsignError('TLOG', `${what}: the answer's entry key ${quoted(keys[0])} is not a Rekor UUID`);
  return { uuid: keys[0], entry: body[keys[0]] };
}

/** POST /api/v1/index/retrieve: the UUIDs of the entries with a search key. */
async function searchIndex(baseUrl: string, query: unknown): Promise<string[]> {
  const what = 'searching Rekor';
  const res = await rekorCall(what, `${baseUrl}/api/v1/index/retrieve`, { method: 'POST', limit: REKOR_SEARCH, body: JSON.stringify(query) });
  if (res.status !== 200) throw rekorError(what, res);
  const body = parseJson<unknown>(SERVICE, res);
  if (!Array.isArray(body) || !body.every((u) => typeof u === 'string' && REKOR_UUID.test(u))) throw new GitsignError('TLOG', `${what}: the answer is not a list of entry UUIDs`);
  return body as string[];
}

export function searchByCertificate(baseUrl: string, certPem: string): Promise<string[]> {
  return searchIndex(baseUrl, { publicKey: { content: Buffer.from(certPem).toString('base64'), format: 'x509' } });
}

/** By an artifact's (or a DSSE envelope's or payload's) hash: "sha256:<hex>". */
export function searchByHash(baseUrl: string, hash: string): Promise<string[]> {
  return searchIndex(baseUrl, { hash });
}

export async function getEntry(baseUrl: string, uuid: string): Promise<{ uuid: string; entry: RekorEntryJson }> {
  const what = `fetching Rekor entry ${uuid}`;
  const res = await rekorCall(what, `${baseUrl}/api/v1/log/entries/${encodeURIComponent(uuid)}`, { method: 'GET', limit: REKOR_ENTRY });
  if (res.status !== 200) throw rekorError(what, res);
  return entryOf(what, res);
}

/**
 * Adds an entry (POST /api/v1/log/entries). An entry already in the log (409) is fetched from the
 * Location Rekor gives, as gitsign does.
 */
export async function createEntry(
  baseUrl: string,
  proposed: unknown,
  onExisting?: () => void,
): Promise<{ uuid: string; entry: RekorEntryJson }> {
  const what = 'uploading to Rekor';
  const res = await rekorCall(what, `${baseUrl}/api/v1/log/entries`, { method: 'POST', limit: REKOR_ENTRY, body: JSON.stringify(proposed) });
  if (res.status === 201) return entryOf(what, res);
  if (res.status === 409) {
    const location = res.headers.get('location') ?? '';
    const uuid = /([0-9a-f]{64,80})\/?$/.exec(location)?.[1];
    if (!uuid) throw new GitsignError('TLOG', `${what}: Rekor answered 409 without the existing entry's location`);
    onExisting?.();
    return getEntry(baseUrl, uuid);
  }
  throw rekorError(what, res);
}

/** The UUID without the tree-ID prefix that sharded Rekor puts in front of the 64-hex leaf hash. */
export function leafHashOf(uuid: string): string {
  return uuid.slice(-64).toLowerCase();
}

/** A Rekor v1 entry's JSON field, read only when it has the type Rekor gives it. */
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
type Field = 'count' | 'hex' | 'hash' | 'base64' | 'text';
const FIELD_TYPE: Record<Field, string> = {
  count: 'a non-negative integer',
  hex: 'hex text',
  hash: 'a hex SHA-256 hash',
  base64: 'base64 text',
  text: 'text',
};

function fieldOk(v: unknown, type: Field): boolean {
  if (type === 'count') return Number.isSafeInteger(v) && (v as number) >= 0;
  if (typeof v !== 'string') return false;
  if (type === 'hex') return HEX.test(v);
  if (type === 'hash') return v.length === 64 && HEX.test(v);
  if (type === 'base64') return BASE64.test(v);
  return true;
}

function checked<T>(uuid: string, v: unknown, path: string, type: Field): T {
  if (!fieldOk(v, type)) {
    throw new GitsignError('TLOG', `Rekor entry ${uuid} is malformed: ${path} is not ${FIELD_TYPE[type]} (${v === undefined ? 'missing' : quoted(v, 40)})`);
  }
  return v as T;
}

function field<T>(uuid: string, obj: Record<string, unknown>, path: string, name: string, type: Field, optional = false): T {
  const v = obj[name];
  return v === undefined && optional ? (v as T) : checked<T>(uuid, v, `${path}${name}`, type);
}

function member(uuid: string, obj: Record<string, unknown>, path: string, name: string): Record<string, unknown> | undefined {
  const v = obj[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new GitsignError('TLOG', `Rekor entry ${uuid} is malformed: ${path}${name} is not an object`);
  return v as Record<string, unknown>;
}

function inclusionProofOf(uuid: string, p: Record<string, unknown>): NonNullable<LogEntry['inclusionProof']> {
  const at = 'verification.inclusionProof.';
  const hashes = p.hashes ?? [];
  if (!Array.isArray(hashes)) throw new GitsignError('TLOG', `Rekor entry ${uuid} is malformed: ${at}hashes is not a list`);
  const checkpoint = field<string | undefined>(uuid, p, at, 'checkpoint', 'text', true);
  return {
    logIndex: String(field<number>(uuid, p, at, 'logIndex', 'count')),
    rootHash: Buffer.from(field<string>(uuid, p, at, 'rootHash', 'hash'), 'hex'),
    treeSize: String(field<number>(uuid, p, at, 'treeSize', 'count')),
    hashes: hashes.map((h, i) => Buffer.from(checked<string>(uuid, h, `${at}hashes[${i}]`, 'hash'), 'hex')),
    checkpoint: checkpoint ? { envelope: checkpoint } : undefined,
  };
}

/**
 * Converts Rekor's JSON entry into the protobuf shape the verifier consumes, after checking every
 * field it reads has the type Rekor gives it (a wrong type names the field), and the body's hash.
 */
export function toLogEntry(uuid: string, e: RekorEntryJson): LogEntry {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new GitsignError('TLOG', `Rekor entry ${uuid} is malformed: it is not an object`);
  const json = e as unknown as Record<string, unknown>;
  const body = Buffer.from(field<string>(uuid, json, '', 'body', 'base64'), 'base64');
  const logID = field<string>(uuid, json, '', 'logID', 'hex');
  const logIndex = field<number>(uuid, json, '', 'logIndex', 'count');
  const integratedTime = field<number>(uuid, json, '', 'integratedTime', 'count');
  const verification = member(uuid, json, '', 'verification') ?? {};
  const set = field<string | undefined>(uuid, verification, 'verification.', 'signedEntryTimestamp', 'base64', true);
  const proof = member(uuid, verification, 'verification.', 'inclusionProof');
  if (entryUuid(body) !== leafHashOf(uuid)) {
    throw new GitsignError('TLOG', `Rekor entry ${uuid}: body does not hash to its UUID`);
  }
  let parsed: { kind?: unknown; apiVersion?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    throw new GitsignError('TLOG', `Rekor entry ${uuid}: body is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new GitsignError('TLOG', `Rekor entry ${uuid}: body is not a JSON object`);
  return {
    logIndex: String(logIndex),
    logId: { keyId: Buffer.from(logID, 'hex') },
    kindVersion: { kind: typeof parsed.kind === 'string' ? parsed.kind : '', version: typeof parsed.apiVersion === 'string' ? parsed.apiVersion : '' },
    integratedTime: String(integratedTime),
    inclusionPromise: set ? { signedEntryTimestamp: Buffer.from(set, 'base64') } : undefined,
    inclusionProof: proof ? inclusionProofOf(uuid, proof) : undefined,
    canonicalizedBody: body,
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
