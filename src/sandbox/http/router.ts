import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A minimal router over node:http: exact or pattern paths per method, bounded body reading, and
 * reply helpers. Each service formats its own errors the way the real service does.
 */
export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  params: string[];
  headers: IncomingMessage['headers'];
  raw: IncomingMessage;
}

export type Handler = (req: Request, res: ServerResponse) => Promise<void> | void;

interface Route {
  method: string;
  pattern: string | RegExp;
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string | RegExp, handler: Handler): this {
    this.routes.push({ method, pattern, handler });
    return this;
  }

  /** The handler for a request, or undefined (404), or 'method' when only the method is wrong (405). */
  match(method: string, path: string): { handler: Handler; params: string[] } | 'method' | undefined {
    let pathMatched = false;
    for (const r of this.routes) {
      let params: string[] | undefined;
      if (typeof r.pattern === 'string') params = r.pattern === path ? [] : undefined;
      else {
        const m = r.pattern.exec(path);
        params = m ? m.slice(1) : undefined;
      }
      if (!params) continue;
      pathMatched = true;
      if (r.method === method || (r.method === 'GET' && method === 'HEAD')) return { handler: r.handler, params };
    }
    return pathMatched ? 'method' : undefined;
  }
}

/** A path segment percent-decoded, or null when its escapes are not UTF-8 (`%E0%A4%A`). */
export function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * Bodies over the limit are read to the end and discarded (so the client sees the answer), up to this;
 * the server refuses a request announcing more before reading its body (see declaresTooMuch).
 */
export const DISCARD_CAP = 64 * 1024 * 1024;

/** A Content-Length over `limit`: answered without reading the body. */
export function declaresTooMuch(req: IncomingMessage, limit: number): boolean {
  const declared = Number(req.headers['content-length']);
  return Number.isFinite(declared) && declared > limit;
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (size > DISCARD_CAP) req.destroy();
    });
    req.on('end', () => (size > limit ? reject(new BodyTooLarge(limit)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(size > limit ? new BodyTooLarge(limit) : new Error('request aborted'));
    });
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, Buffer.from(JSON.stringify(body) + '\n'), { 'Content-Type': 'application/json', ...headers });
}

export function send(res: ServerResponse, status: number, body: Buffer | string, headers: Record<string, string> = {}): void {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'Content-Length': String(buf.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : buf);
}

/** A status with no body (go-swagger's empty responses, e.g. Rekor's 404). */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Length': '0', ...headers });
  res.end();
}

/** application/x-www-form-urlencoded body (OAuth endpoints). */
export function parseForm(body: Buffer): URLSearchParams {
  return new URLSearchParams(body.toString('utf8'));
}
