import { GitsignError } from '../errors';

/**
 * One HTTP call to a Sigstore service: a timeout, bounded retries with backoff for
 * network errors and 5xx only, and every failure turned into one clear line naming the service.
 */
export interface HttpResponse {
  status: number;
  /** Header lookup by name (case-insensitive); not the fetch Headers class, which loads undici. */
  headers: { get(name: string): string | null };
  text: string;
  body: Buffer;
}

export interface CallOptions {
  service: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
  /** Attempts in all (1 = no retry). */
  attempts?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class TimeoutError extends Error {}

/** One request over node:http(s). Not global fetch: loading undici costs ~25 ms per call of gitsign. */
function request(url: URL, opts: CallOptions): Promise<HttpResponse> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = (url.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof import('node:http');
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  return new Promise((resolve, reject) => {
    const req = mod.request(
      url,
      { method: opts.method, headers: { 'User-Agent': 'gitsign', ...(opts.headers ?? {}), ...(body ? { 'Content-Length': String(body.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          const headers = {
            get: (name: string): string | null => {
              const v = res.headers[name.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
          };
          resolve({ status: res.statusCode ?? 0, headers, text: all.toString('utf8'), body: all });
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new TimeoutError('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function httpCall(url: string, opts: CallOptions): Promise<HttpResponse> {
  const attempts = opts.attempts ?? 3;
  let lastError: GitsignError | null = null;
  let target: URL;
  try {
    target = new URL(url);
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new GitsignError('CONFIG', `${opts.service} URL "${url}" is not an http(s) URL`);
  }
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(200 * 2 ** (attempt - 2));
    let res: HttpResponse;
    try {
      res = await request(target, opts);
    } catch (err) {
      const why = err instanceof TimeoutError ? 'timed out' : (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      lastError = new GitsignError('NETWORK', `cannot reach ${opts.service} at ${safeOrigin(url)} (${why})`);
      continue;
    }
    if (res.status >= 500 && attempt < attempts) {
      lastError = serviceError(opts.service, res);
      continue;
    }
    return res;
  }
  throw lastError ?? new GitsignError('NETWORK', `${opts.service}: no answer`);
}

function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

/** "<service> answered <status>: <message>", with the message from a JSON error body when there is one. */
export function serviceError(service: string, res: { status: number; text: string }): GitsignError {
  let message = res.text.trim().slice(0, 300);
  try {
    const j = JSON.parse(res.text) as { message?: unknown };
    if (typeof j?.message === 'string') message = j.message;
  } catch {
    /* not JSON */
  }
  return new GitsignError(res.status >= 500 ? 'NETWORK' : 'SERVICE', `${service} answered ${res.status}${message ? `: ${message.replace(/\s+/g, ' ')}` : ''}`);
}

export function parseJson<T>(service: string, res: HttpResponse): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new GitsignError('SERVICE', `${service} answered ${res.status} with a body that is not JSON`);
  }
}
