import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { Duplex } from 'node:stream';
import { GitsignError } from '../errors';
import { type AnswerLimit, formatBytes } from './answerLimits';
import { proxyAuthorization, proxyFor, proxyName, TunnelFailed, tunnel } from './proxy';
import { callDeadlineMs, NETWORK_TIMEOUT_SETTING } from './deadline';
import { checkedUrl } from './transport';
import { unreachableCause } from './unreachable';

/**
 * One HTTP call to a Sigstore service or an OIDC issuer: a size limit on the answer (per kind, see
 * ./answerLimits), one deadline for the whole call (connecting, sending, every byte of the answer,
 * retries included), bounded retries with backoff for network errors and 5xx only, and every failure
 * turned into one sentence naming the service, its origin and what went wrong.
 */
export interface HttpResponse {
  status: number;
  /** Header lookup by name (case-insensitive); not the fetch Headers class, which loads undici. */
  headers: { get(name: string): string | null };
  /** Every header as received, for a fetch Response (see src/oidc/fetch.ts). */
  rawHeaders: [string, string][];
  text: string;
  body: Buffer;
}

export interface CallOptions {
  service: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** The largest answer accepted: one of ./answerLimits. */
  limit: AnswerLimit;
  /** The whole call ends by then, attempts and waits between them included. */
  deadlineMs?: number;
  /** Attempts in all (1 = no retry). */
  attempts?: number;
  /** Ends the call early (a login's own deadline). */
  signal?: AbortSignal;
}

/** How a single attempt ended without an answer. */
class AttemptFailed extends Error {
  constructor(
    readonly reason: 'deadline' | 'too-large' | 'aborted' | 'network' | 'unsupported',
    why: string,
    /** The system's or TLS's error code, when one says why the connection failed. */
    readonly code = '',
  ) {
    super(why);
  }
}

/** Resolves after ms, or at once when the signal aborts (the caller checks which). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

type Connect = (options: unknown, done: (err: Error | null, socket?: Duplex) => void) => undefined;

/**
 * Where a request goes and over what: straight to the server, or through the proxy the environment
 * names (./proxy): a CONNECT tunnel for https, the absolute URL to the proxy for plain http.
 */
function route(url: URL, signal: AbortSignal): { mod: typeof import('node:http'); target: string | RequestOptions; via: string } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (https: boolean): typeof import('node:http') => (https ? require('node:https') : require('node:http')) as typeof import('node:http');
  const choice = proxyFor(url);
  if (!choice.proxy) return { mod: load(url.protocol === 'https:'), target: url.href, via: '' };
  const { proxy } = choice;
  const via = ` through the proxy ${proxyName(proxy)}`;
  if (proxy.protocol === 'socks5:') throw new AttemptFailed('unsupported', `the environment's proxy ${proxyName(proxy)} is a SOCKS proxy, which gitsign-ts does not speak: name an HTTP proxy (http://HOST:PORT) or list this host in NO_PROXY`);
  if (url.protocol === 'http:') {
    const target: RequestOptions = { host: proxy.hostname.replace(/^\[|\]$/g, ''), port: proxy.port || 80, path: url.href, agent: false, headers: { Host: url.host, ...proxyAuthorization(proxy) } };
    return { mod: load(proxy.protocol === 'https:'), target, via };
  }
  const createConnection: Connect = (_options, done) => {
    tunnel(proxy, url, signal).then(
      (socket) => done(null, socket),
      (err: Error) => done(err),
    );
    return undefined;
  };
  const target = { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 443, path: `${url.pathname}${url.search}`, headers: { Host: url.host }, createConnection } as unknown as RequestOptions;
  return { mod: load(false), target, via };
}

/** One request over node:http(s). Not global fetch: loading undici costs ~25 ms per call of gitsign. */
function attempt(url: URL, opts: CallOptions, signal: AbortSignal, reasonOf: () => AttemptFailed): Promise<HttpResponse> {
  const { mod, target, via } = route(url, signal);
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const limit = opts.limit.bytes;
  return new Promise((resolve, reject) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const fail = (err: AttemptFailed): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      reject(err);
      req?.destroy();
    };
    const onAbort = (): void => fail(reasonOf());
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    const tooLarge = (): AttemptFailed => new AttemptFailed('too-large', `sent more than ${formatBytes(limit)}, too much for ${opts.limit.what}`);
    const sent: Record<string, string> = { 'User-Agent': 'gitsign', ...(opts.headers ?? {}), ...(body ? { 'Content-Length': String(body.length) } : {}) };
    const onResponse = (res: IncomingMessage): void => {
      // A declared length over the limit is refused before a byte of the body is read.
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > limit) return fail(tooLarge());
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) return fail(tooLarge());
        chunks.push(c);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(new AttemptFailed('network', err.code ?? err.message)));
      res.on('close', () => {
        if (!res.complete) fail(new AttemptFailed('network', 'the connection closed in the middle of the answer'));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        const all = Buffer.concat(chunks);
        const rawHeaders: [string, string][] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) rawHeaders.push([res.rawHeaders[i], res.rawHeaders[i + 1]]);
        const headers = {
          get: (name: string): string | null => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        };
        resolve({ status: res.statusCode ?? 0, headers, rawHeaders, text: all.toString('utf8'), body: all });
      });
    };
    req =
      typeof target === 'string'
        ? mod.request(target, { method: opts.method, headers: sent }, onResponse)
        : mod.request({ ...target, method: opts.method, headers: { ...(target.headers as Record<string, string>), ...sent } }, onResponse);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof TunnelFailed) return fail(err.message === 'abandoned' ? reasonOf() : new AttemptFailed('network', err.message, err.code));
      const code = err.code ?? err.message;
      fail(new AttemptFailed('network', `${code.startsWith('HPE_') ? `answered with malformed HTTP (${code})` : code}${via}`, code));
    });
    req.end(body);
  });
}

export async function httpCall(url: string, opts: CallOptions): Promise<HttpResponse> {
  return httpCallChecked(checkedUrl(url, `${opts.service} URL`, 'CONFIG'), opts);
}

/**
 * httpCall to a URL its caller has checked by a rule of its own instead of checkedUrl's: only the GCE
 * metadata server, plain http to a link-local address by nature (src/oidc/providers/google/metadata.ts).
 */
export async function httpCallChecked(target: URL, opts: CallOptions): Promise<HttpResponse> {
  const where = `${opts.service} at ${target.origin}`;
  const deadlineMs = opts.deadlineMs ?? callDeadlineMs();
  const attempts = opts.attempts ?? 3;
  const ended = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    ended.abort();
  }, deadlineMs);
  const signal = opts.signal ? AbortSignal.any([ended.signal, opts.signal]) : ended.signal;
  const stopped = (): AttemptFailed =>
    expired
      ? new AttemptFailed('deadline', `no complete answer within ${deadlineMs / 1000} s (the server is down, unreachable or too slow); ${NETWORK_TIMEOUT_SETTING} (seconds) sets this limit`)
      : new AttemptFailed('aborted', 'the call was abandoned');
  let lastError: GitsignError | null = null;
  try {
    for (let n = 1; n <= attempts; n++) {
      if (n > 1) await abortableSleep(200 * 2 ** (n - 2), signal);
      if (signal.aborted) throw stopped();
      let res: HttpResponse;
      try {
        res = await attempt(target, opts, signal, stopped);
      } catch (err) {
        const e = err as AttemptFailed;
        // A deadline, a refusal by size or an abandoned call ends the call; a network error is retried.
        if (e.reason !== 'network') throw e;
        const cause = unreachableCause(target, e.code);
        lastError = new GitsignError('NETWORK', `cannot reach ${where} (${e.message})${cause ? `: ${cause}` : ''}`);
        continue;
      }
      if (res.status >= 500 && n < attempts) {
        lastError = serviceError(opts.service, res);
        continue;
      }
      return res;
    }
  } catch (err) {
    if (err instanceof AttemptFailed) throw new GitsignError('NETWORK', `${where}: ${err.message}`);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  throw lastError ?? new GitsignError('NETWORK', `${where}: no answer`);
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
