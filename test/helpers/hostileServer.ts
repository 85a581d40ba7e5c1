import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

/**
 * Misbehaving HTTP servers for the network tests: an answer far too large (streamed from one reused
 * chunk, never allocated), an answer dripped a byte at a time, or none at all. Each counts the bytes it
 * managed to hand to the socket, so a test can tell that the client stopped reading.
 */
export interface Hostile {
  url: string;
  /** Body bytes written so far (before the client hung up). */
  sent(): number;
  /** Requests received, by path. */
  paths: string[];
  close(): Promise<void>;
}

export type Behaviour = (req: IncomingMessage, res: ServerResponse, count: (n: number) => void) => void;

export const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x41);

/** `total` bytes of answer (600 MiB in the tests), with or without a Content-Length saying so. */
export function huge(total: number, opts: { declare: boolean; contentType?: string }): Behaviour {
  return (_req, res, count) => {
    res.writeHead(200, { 'Content-Type': opts.contentType ?? 'application/json', ...(opts.declare ? { 'Content-Length': String(total) } : {}) });
    let left = total;
    let stopped = false;
    res.on('close', () => (stopped = true));
    const pump = (): void => {
      while (left > 0 && !stopped) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        count(n);
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      if (!stopped) res.end();
    };
    pump();
  };
}

/** Headers at once, then one byte every `everyMs`, for ever (until the client hangs up). */
export function drip(everyMs: number): Behaviour {
  return (_req, res, count) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{');
    count(1);
    const timer = setInterval(() => {
      res.write(' ');
      count(1);
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  };
}

/** Answers each request, once read, with the [status, JSON body] that `route` gives for its path. */
export function jsonRoutes(route: (path: string) => [number, unknown]): Behaviour {
  return (req, res) => {
    req.on('end', () => {
      const [status, body] = route(req.url ?? '');
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  };
}

/** Reads the request and never answers. */
export const silent: Behaviour = () => undefined;

export async function serveHostile(behaviour: Behaviour, host = '127.0.0.1'): Promise<Hostile> {
  let sent = 0;
  const paths: string[] = [];
  const server: Server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    behaviour(req, res, (n) => (sent += n));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    sent: () => sent,
    paths,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Rejects when `promise` has not settled within `ms`: a test that would hang fails instead. */
export function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Sends raw bytes on one TCP connection and returns what came back (until the server closes, or
 * `ms` pass). For requests no HTTP client would send.
 */
export function rawRequest(port: number, bytes: Buffer | string, ms = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', (err) => (chunks.length ? undefined : reject(err)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.write(bytes);
  });
}

/** The status code of the first HTTP answer in raw bytes, or 0 when there is none. */
export function statusOf(raw: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
  return m ? Number(m[1]) : 0;
}
