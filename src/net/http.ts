import { GitsignError } from '../errors';

/**
 * One HTTP call to a Sigstore service over global fetch: a timeout, bounded retries with backoff for
 * network errors and 5xx only, and every failure turned into one clear line naming the service.
 */
export interface HttpResponse {
  status: number;
  headers: Headers;
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

export async function httpCall(url: string, opts: CallOptions): Promise<HttpResponse> {
  const attempts = opts.attempts ?? 3;
  let lastError: GitsignError | null = null;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await sleep(200 * 2 ** (attempt - 2));
    let res: Response;
    try {
      res = await fetch(url, {
        method: opts.method,
        headers: { 'User-Agent': 'gitsign', ...(opts.headers ?? {}) },
        body: opts.body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const c = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? 'timed out' : c?.code ?? c?.message ?? (err as Error).name;
      lastError = new GitsignError('NETWORK', `cannot reach ${opts.service} at ${safeOrigin(url)} (${why})`);
      continue;
    }
    const body = Buffer.from(await res.arrayBuffer());
    const out = { status: res.status, headers: res.headers, text: body.toString('utf8'), body };
    if (res.status >= 500 && attempt < attempts) {
      lastError = serviceError(opts.service, out);
      continue;
    }
    return out;
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
