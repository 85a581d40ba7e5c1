import { createHash } from 'node:crypto';
import type { LogEntry } from './tlogEntry';
import { GitsignError } from '../errors';
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

function entryOf(what: string, res: HttpResponse): { uuid: string; entry: RekorEntryJson } {
  const body = parseJson<Record<string, RekorEntryJson>>(SERVICE, res);
  const keys = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : [];
  if (keys.length !== 1) throw new GitsignError('TLOG', `${what}: unexpected answer`);
  return { uuid: keys[0], entry: body[keys[0]] };
}

/** POST /api/v1/index/retrieve: the UUIDs of the entries with a search key. */
async function searchIndex(baseUrl: string, query: unknown): Promise<string[]> {
  const what = 'searching Rekor';
  const res = await rekorCall(what, `${baseUrl}/api/v1/index/retrieve`, { method: 'POST', limit: REKOR_SEARCH, body: JSON.stringify(query) });
  if (res.status !== 200) throw rekorError(what, res);
  const body = parseJson<unknown>(SERVICE, res);
  if (!Array.isArray(body) || !body.every((u) => typeof u === 'string')) throw new GitsignError('TLOG', `${what}: unexpected answer`);
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

/** Converts Rekor's JSON entry into the protobuf shape the verifier consumes; checks the body hash. */
export function toLogEntry(uuid: string, e: RekorEntryJson): LogEntry {
  if (typeof e?.body !== 'string' || typeof e.logID !== 'string' || typeof e.logIndex !== 'number' || typeof e.integratedTime !== 'number') {
    throw new GitsignError('TLOG', `Rekor entry ${uuid} is malformed`);
  }
  const body = Buffer.from(e.body, 'base64');
  if (entryUuid(body) !== leafHashOf(uuid)) {
    throw new GitsignError('TLOG', `Rekor entry ${uuid}: body does not hash to its UUID`);
  }
  let parsed: { kind?: string; apiVersion?: string };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    throw new GitsignError('TLOG', `Rekor entry ${uuid}: body is not JSON`);
  }
  const proof = e.verification?.inclusionProof;
  return {
    logIndex: String(e.logIndex),
    logId: { keyId: Buffer.from(e.logID, 'hex') },
    kindVersion: { kind: parsed.kind ?? '', version: parsed.apiVersion ?? '' },
    integratedTime: String(e.integratedTime),
    inclusionPromise: e.verification?.signedEntryTimestamp
      ? { signedEntryTimestamp: Buffer.from(e.verification.signedEntryTimestamp, 'base64') }
      : undefined,
    inclusionProof: proof
      ? {
          logIndex: String(proof.logIndex),
          rootHash: Buffer.from(proof.rootHash, 'hex'),
          treeSize: String(proof.treeSize),
          hashes: (proof.hashes ?? []).map((h) => Buffer.from(h, 'hex')),
          checkpoint: proof.checkpoint ? { envelope: proof.checkpoint } : undefined,
        }
      : undefined,
    canonicalizedBody: body,
  };
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
