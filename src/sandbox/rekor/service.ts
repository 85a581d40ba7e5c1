import type { ServerResponse } from 'node:http';
import { encodePem } from '../../cms/pem';
import { BodyTooLarge, decodeSegment, readBody, send, sendEmpty, sendJson, type Request, type Router } from '../http/router';
import type { TransparencyLog } from './log';
import { canonicalizeProposedEntry, EntryRejected, keyIndexKey, parsePkiKey } from './proposedEntry';
import { leafHash } from './merkle';

/**
 * Rekor v1's REST API over the sandbox log, with Rekor's status codes and error bodies
 * ({"code":N,"message":...}; go-openapi validation failures are 422 with codes 60x; an unknown
 * entry is an empty 404; a duplicate is 409 with Location; an oversized body is 413).
 */
export const MAX_BODY = 4 * 1024 * 1024;
const MAX_SEARCH_QUERIES = 10;
const UUID_PATTERN = '^([0-9a-fA-F]{64}|[0-9a-fA-F]{80})$';
const UUID_RE = new RegExp(UUID_PATTERN);
const HASH_PATTERN = '^(sha512:)?[0-9a-fA-F]{128}$|^(sha256:)?[0-9a-fA-F]{64}$|^(sha1:)?[0-9a-fA-F]{40}$';
const OPENAPI = { required: 602, pattern: 605, enum: 606, min: 609, maxItems: 611, invalidType: 601 } as const;

class RekorError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const badRequest = (message: string): RekorError => new RekorError(400, 400, message);
const unprocessable = (code: number, message: string): RekorError => new RekorError(422, code, message);

export class RekorService {
  constructor(private readonly log: TransparencyLog) {}

  mount(router: Router): void {
    const wrap = (h: (req: Request, res: ServerResponse) => Promise<void> | void) => async (req: Request, res: ServerResponse) => {
      try {
        await h(req, res);
      } catch (err) {
        if (err instanceof RekorError) return sendJson(res, err.status, { code: err.code, message: err.message }, err.headers);
        sendJson(res, 500, { code: 500, message: 'unexpected error communicating with transparency log' });
      }
    };
    router
      .on('POST', '/api/v1/log/entries', wrap((req, res) => this.create(req, res)))
      .on('GET', '/api/v1/log/entries', wrap((req, res) => this.getByIndex(req, res)))
      .on('POST', '/api/v1/log/entries/retrieve', wrap((req, res) => this.retrieve(req, res)))
      .on('GET', /^\/api\/v1\/log\/entries\/([^/]*)$/, wrap((req, res) => this.getByUuid(req, res)))
      .on('POST', '/api/v1/index/retrieve', wrap((req, res) => this.searchIndex(req, res)))
      .on('GET', '/api/v1/log', wrap((_req, res) => this.logInfo(res)))
      .on('GET', '/api/v1/log/proof', wrap((req, res) => this.proof(req, res)))
      .on('GET', '/api/v1/log/publicKey', wrap((_req, res) =>
        send(res, 200, encodePem('PUBLIC KEY', this.log.publicKey.export({ type: 'spki', format: 'der' })), { 'Content-Type': 'application/x-pem-file' }),
      ));
  }

  private async jsonBody(req: Request, param: string): Promise<unknown> {
    let raw: Buffer;
    try {
      raw = await readBody(req.raw, MAX_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge) throw new RekorError(413, 413, `Request Entity Too Large. Limit set to ${err.limit}`, { Connection: 'close' });
      throw err;
    }
    if (raw.length === 0) throw unprocessable(OPENAPI.required, `${param} in body is required`);
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw new RekorError(400, 400, `parsing ${param} body from "" failed, because ${(err as Error).message}`);
    }
  }

  private location(req: Request, entryId: string): string {
    return `${req.path}/${entryId}`;
  }

  private async create(req: Request, res: ServerResponse): Promise<void> {
    const proposed = await this.jsonBody(req, 'proposedEntry');
    let canonical;
    try {
      canonical = canonicalizeProposedEntry(proposed);
    } catch (err) {
      if (err instanceof EntryRejected) throw badRequest(`error processing entry: ${err.message}`);
      throw err;
    }
    const result = await this.log.add(canonical.body, canonical.indexKeys, canonical.payloadKeys);
    const id = this.log.entryId(result.index);
    if (!result.created) {
      throw new RekorError(409, 409, `an equivalent entry already exists in the transparency log with UUID ${id}`, { Location: this.location(req, id) });
    }
    sendJson(res, 201, this.log.entry(result.index), { Location: this.location(req, id), ETag: id });
  }

  private getByIndex(req: Request, res: ServerResponse): void {
    const raw = req.query.get('logIndex');
    if (raw === null) throw unprocessable(OPENAPI.required, 'logIndex in query is required');
    if (!/^-?\d+$/.test(raw)) throw unprocessable(OPENAPI.invalidType, `logIndex in query must be of type int64: "${raw}"`);
    const i = Number(raw);
    if (i < 0) throw unprocessable(OPENAPI.min, 'logIndex in query should be greater than or equal to 0');
    if (i >= this.log.size) return sendEmpty(res, 404);
    sendJson(res, 200, this.log.entry(i));
  }

  /** A 64-hex UUID or an 80-hex entry ID of this tree; undefined when it names another tree. */
  private resolveId(id: string): number | undefined {
    if (id.length === 80 && id.slice(0, 16).toLowerCase() !== this.log.treeIdHex) return undefined;
    return this.log.findUuid(id.slice(-64));
  }

  private getByUuid(req: Request, res: ServerResponse): void {
    const id = decodeSegment(req.params[0]);
    if (id === null) throw badRequest('invalid URL escape in entryUUID');
    if (!UUID_RE.test(id)) throw unprocessable(OPENAPI.pattern, `entryUUID in path should match '${UUID_PATTERN}'`);
    const i = this.resolveId(id);
    if (i === undefined) return sendEmpty(res, 404);
    sendJson(res, 200, this.log.entry(i));
  }

  private async retrieve(req: Request, res: ServerResponse): Promise<void> {
    const q = (await this.jsonBody(req, 'entry')) as { entryUUIDs?: unknown; logIndexes?: unknown; entries?: unknown };
    if (!q || typeof q !== 'object') throw badRequest('parsing entry body failed: expected an object');
    const list = (v: unknown, name: string): unknown[] => {
      if (v === undefined) return [];
      if (!Array.isArray(v)) throw unprocessable(OPENAPI.invalidType, `${name} in body must be of type array`);
      return v;
    };
    const uuids = list(q.entryUUIDs, 'entryUUIDs');
    const indexes = list(q.logIndexes, 'logIndexes');
    const entries = list(q.entries, 'entries');
    const total = uuids.length + indexes.length + entries.length;
    if (total > MAX_SEARCH_QUERIES) throw new RekorError(422, 422, `more than max allowed ${MAX_SEARCH_QUERIES} entries in request`);
    const found: number[] = [];
    for (const u of uuids) {
      if (typeof u !== 'string' || !UUID_RE.test(u)) throw unprocessable(OPENAPI.pattern, `entryUUIDs in body should match '${UUID_PATTERN}'`);
      const i = this.resolveId(u);
      if (i !== undefined) found.push(i);
    }
    for (const e of entries) {
      let body: Buffer;
      try {
        body = canonicalizeProposedEntry(e).body;
      } catch (err) {
        if (err instanceof EntryRejected) throw badRequest(err.message);
        throw err;
      }
      const i = this.log.findUuid(leafHash(body).toString('hex'));
      if (i !== undefined) found.push(i);
    }
    for (const v of indexes) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw unprocessable(OPENAPI.invalidType, 'logIndexes in body must be of type int64');
      if (v < 0) throw unprocessable(OPENAPI.min, 'logIndexes in body should be greater than or equal to 0');
      if (v < this.log.size) found.push(v);
    }
    sendJson(res, 200, found.map((i) => this.log.entry(i)));
  }

  private async searchIndex(req: Request, res: ServerResponse): Promise<void> {
    const q = (await this.jsonBody(req, 'query')) as { hash?: unknown; publicKey?: unknown; email?: unknown; subject?: unknown; operator?: unknown };
    if (!q || typeof q !== 'object' || Array.isArray(q)) throw badRequest('parsing query body failed: expected an object');
    const operator = q.operator ?? 'or';
    if (operator !== 'and' && operator !== 'or') throw unprocessable(OPENAPI.enum, 'query.operator in body should be one of [and or]');
    const sets: number[][] = [];
    if (q.hash !== undefined && q.hash !== '') {
      if (typeof q.hash !== 'string' || !new RegExp(HASH_PATTERN).test(q.hash)) throw unprocessable(OPENAPI.pattern, `query.hash in body should match '${HASH_PATTERN}'`);
      const h = q.hash.toLowerCase();
      const prefixed = h.includes(':') ? h : `${{ 40: 'sha1', 64: 'sha256', 128: 'sha512' }[h.length]}:${h}`;
      sets.push(this.log.search(prefixed));
    }
    if (q.publicKey !== undefined && q.publicKey !== null) {
      const pk = q.publicKey as { format?: unknown; content?: unknown };
      if (pk.format === undefined) throw unprocessable(OPENAPI.required, 'query.publicKey.format in body is required');
      if (!['pgp', 'x509', 'minisign', 'ssh', 'tuf'].includes(String(pk.format))) {
        throw unprocessable(OPENAPI.enum, 'query.publicKey.format in body should be one of [pgp x509 minisign ssh tuf]');
      }
      if (pk.format !== 'x509') throw badRequest('the PKI format requested is not supported by this server');
      let keyHash: string;
      try {
        keyHash = keyIndexKey(parsePkiKey(Buffer.from(typeof pk.content === 'string' ? pk.content : '', 'base64')));
      } catch {
        throw badRequest('public key provided could not be parsed');
      }
      sets.push(this.log.search(keyHash));
    }
    if (q.email !== undefined && q.email !== '') {
      if (typeof q.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(q.email)) throw unprocessable(OPENAPI.pattern, 'query.email in body must be of type email');
      sets.push(this.log.search(q.email));
    }
    if (q.subject !== undefined && q.subject !== '') {
      if (typeof q.subject !== 'string') throw unprocessable(OPENAPI.invalidType, 'query.subject in body must be of type string');
      sets.push(this.log.search(q.subject));
    }
    let result: number[] = [];
    if (sets.length) {
      result = operator === 'or' ? [...new Set(sets.flat())] : sets.reduce((a, b) => a.filter((i) => b.includes(i)));
    }
    sendJson(res, 200, result.sort((a, b) => a - b).map((i) => this.log.entryId(i)));
  }

  private logInfo(res: ServerResponse): void {
    const size = this.log.size;
    sendJson(res, 200, {
      rootHash: this.log.root(size).toString('hex'),
      treeSize: size,
      signedTreeHead: this.log.checkpoint(size),
      treeID: this.log.treeId,
    });
  }

  private proof(req: Request, res: ServerResponse): void {
    const intParam = (name: string, fallback?: number): number => {
      const raw = req.query.get(name);
      if (raw === null) {
        if (fallback === undefined) throw unprocessable(OPENAPI.required, `${name} in query is required`);
        return fallback;
      }
      if (!/^-?\d+$/.test(raw)) throw unprocessable(OPENAPI.invalidType, `${name} in query must be of type int64: "${raw}"`);
      const v = Number(raw);
      if (v < 1) throw unprocessable(OPENAPI.min, `${name} in query should be greater than or equal to 1`);
      return v;
    };
    const last = intParam('lastSize');
    const first = intParam('firstSize', 1);
    const treeId = req.query.get('treeID');
    if (treeId !== null && treeId !== '' && treeId !== this.log.treeId) {
      throw badRequest(/^\d+$/.test(treeId) ? `unable to find tree ${treeId}` : `invalid tree ID specified: ${treeId}`);
    }
    if (first > last) throw badRequest(`firstSize(${first}) must be less than lastSize(${last})`);
    if (last > this.log.size) throw badRequest(`the tree size requested(${last}) was greater than what is currently observable(${this.log.size})`);
    sendJson(res, 200, {
      rootHash: this.log.root(last).toString('hex'),
      hashes: this.log.consistencyProof(first, last).map((h) => h.toString('hex')),
    });
  }
}
