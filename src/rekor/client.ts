import { createHash } from 'node:crypto';
import type { LogEntry } from './tlogEntry';
import { GitsignError } from '../errors';
import { entryUuid } from './hashedrekord';

/**
 * Rekor v1 REST client (the read side used by verification): search by certificate, fetch entries.
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

const TIMEOUT_MS = 10_000;

async function call(url: string, init: RequestInit, what: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'User-Agent': 'gitsign', ...(init.headers ?? {}) } });
  } catch (err) {
    const c = (err as { cause?: { code?: string; message?: string } }).cause;
    const cause = c?.code ?? c?.message ?? (err as Error).name;
    throw new GitsignError('NETWORK', `${what}: cannot reach Rekor at ${new URL(url).origin} (${cause})`);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* keep text for the message */
  }
  return { status: res.status, body, headers: res.headers };
}

function rekorError(what: string, status: number, body: unknown): GitsignError {
  const msg = typeof body === 'object' && body && 'message' in body ? String((body as { message: unknown }).message) : String(body).slice(0, 200);
  return new GitsignError(status >= 500 ? 'NETWORK' : 'TLOG', `${what}: Rekor answered ${status}: ${msg}`);
}

export async function searchByCertificate(baseUrl: string, certPem: string): Promise<string[]> {
  const what = 'searching Rekor';
  const { status, body } = await call(`${baseUrl}/api/v1/index/retrieve`, {
    method: 'POST',
    body: JSON.stringify({ publicKey: { content: Buffer.from(certPem).toString('base64'), format: 'x509' } }),
  }, what);
  if (status !== 200) throw rekorError(what, status, body);
  if (!Array.isArray(body) || !body.every((u) => typeof u === 'string')) throw new GitsignError('TLOG', `${what}: unexpected answer`);
  return body as string[];
}

export async function getEntry(baseUrl: string, uuid: string): Promise<{ uuid: string; entry: RekorEntryJson }> {
  const what = `fetching Rekor entry ${uuid}`;
  const { status, body } = await call(`${baseUrl}/api/v1/log/entries/${encodeURIComponent(uuid)}`, { method: 'GET' }, what);
  if (status !== 200) throw rekorError(what, status, body);
  const keys = body && typeof body === 'object' ? Object.keys(body) : [];
  if (keys.length !== 1) throw new GitsignError('TLOG', `${what}: unexpected answer`);
  return { uuid: keys[0], entry: (body as Record<string, RekorEntryJson>)[keys[0]] };
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
