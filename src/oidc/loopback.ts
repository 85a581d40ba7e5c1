import { lookup } from 'node:dns/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { GitsignError } from '../errors';
import { listenFailure } from '../net/listenFailure';
import { requestTarget } from '../net/requestTarget';
import { errorPage, successPage } from './successPage';

/**
 * The redirect listener of the browser login. By default it is bound to 127.0.0.1 on a random port.
 * With gitsign.redirectURL it listens where that URL says, as gitsign does: its host (an address, or a
 * name resolved to its first IPv4 address, else its first address) and its port, so a URL naming a
 * public interface or 0.0.0.0 makes a listener other machines can reach (`exposed`; the caller says so).
 * Either way it answers only the one request that carries our state on the URL's path; anything else
 * (a stray request, a wrong state, another path or method) gets a 400 and the wait goes on.
 */
export interface Callback {
  /** The redirect_uri to send: http://localhost:<port>/auth/callback unless configured. */
  redirectUri: string;
  /** Where the listener is bound, as "address:port" ("[address]:port" for IPv6). */
  address: string;
  /** True when the bound address is not a loopback one: other machines may reach the listener. */
  exposed: boolean;
  /** Resolves with the callback's query (code and state), rejects on an error answer or close(). */
  result: Promise<URLSearchParams>;
  close(): void;
}

const DEFAULT_PATH = '/auth/callback';

/** A peer that connects and then sends slowly, or nothing, holds a connection for about this long at most. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Connections held at once; a reachable listener must not run out of file descriptors for a flood. */
const MAX_CONNECTIONS = 64;

interface Target {
  /** The address to bind (an IP literal). */
  host: string;
  port: number;
  path: string;
  uri: (port: number) => string;
}

/** The authority of an http URL as written: WHATWG URL drops ":80", and a missing port must be told apart. */
function writtenPort(redirectURL: string): string | undefined {
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(redirectURL)?.[1] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  return /^(?:\[[^\]]*\]|[^:]*):(\d*)$/.exec(hostPort)?.[1];
}

/** gitsign's Go resolver, for a listen: an IP literal as is; a name's first IPv4 address, else its first. */
async function bindAddress(hostname: string, redirectURL: string): Promise<string> {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (isIP(bare)) return bare;
  let addresses: { address: string; family: number }[];
  try {
    addresses = await lookup(bare, { all: true, order: 'verbatim' });
  } catch (err) {
    throw new GitsignError('CONFIG', `gitsign.redirectURL "${redirectURL}": cannot resolve ${bare} to listen on (${(err as NodeJS.ErrnoException).code ?? 'no address'})`);
  }
  const chosen = addresses.find((a) => a.family === 4) ?? addresses[0];
  if (!chosen) throw new GitsignError('CONFIG', `gitsign.redirectURL "${redirectURL}": ${bare} has no address to listen on`);
  return chosen.address;
}

async function target(redirectURL: string): Promise<Target> {
  if (!redirectURL) {
    // "localhost" in the URI, as gitsign sends: issuers register http://localhost redirects for the
    // sigstore client; the browser reaches our 127.0.0.1 socket through it.
    return { host: '127.0.0.1', port: 0, path: DEFAULT_PATH, uri: (port) => `http://localhost:${port}${DEFAULT_PATH}` };
  }
  let u: URL;
  try {
    u = new URL(redirectURL);
  } catch {
    throw new GitsignError('CONFIG', `gitsign.redirectURL "${redirectURL}" is not a URL with a host`);
  }
  // gitsign serves plain HTTP whatever the scheme says; an https redirect could never reach it.
  if (u.protocol !== 'http:') throw new GitsignError('CONFIG', `gitsign.redirectURL must be an http:// URL (the listener speaks plain HTTP), got "${redirectURL}"`);
  const port = writtenPort(redirectURL);
  // gitsign cannot listen without a port either; port 0 would send the issuer a URI nobody listens on.
  if (!port || Number(port) === 0 || Number(port) > 65535) {
    throw new GitsignError('CONFIG', `gitsign.redirectURL must name the port to listen on (http://HOST:PORT/PATH), got "${redirectURL}"`);
  }
  return { host: await bindAddress(u.hostname, redirectURL), port: Number(port), path: u.pathname, uri: () => redirectURL };
}

/** Loopback: 127.0.0.0/8, ::1, and IPv4-mapped 127.x. */
export function isLoopback(address: string): boolean {
  const v4 = address.replace(/^::ffff:/i, '');
  return (isIP(v4) === 4 && v4.startsWith('127.')) || address === '::1';
}

export async function listenForCallback(redirectURL: string, state: string, page: { autoclose: boolean; timeoutS: number }): Promise<Callback> {
  const t = await target(redirectURL);
  let settle: { resolve: (q: URLSearchParams) => void; reject: (e: Error) => void } | undefined;
  const result = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined); // handled by whoever awaits it; never an unhandled rejection
  const reply = (res: ServerResponse, status: number, html: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
    res.end(html);
  };
  const server: Server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 }, (req: IncomingMessage, res: ServerResponse) => {
    const url = requestTarget(req.url);
    if (!url || req.method !== 'GET' || url.pathname !== t.path || url.searchParams.get('state') !== state) {
      return reply(res, 400, errorPage('This is not the login gitsign is waiting for.'));
    }
    const error = url.searchParams.get('error');
    if (error) {
      const description = url.searchParams.get('error_description');
      reply(res, 200, errorPage(`The issuer refused the login: ${error}${description ? `: ${description}` : ''}`));
      settle?.reject(new GitsignError('TOKEN', `the issuer refused the login: ${error}${description ? `: ${description}` : ''}`));
      return;
    }
    if (!url.searchParams.get('code')) return reply(res, 400, errorPage('The callback has no authorization code.'));
    reply(res, 200, successPage(page.autoclose, page.timeoutS));
    settle?.resolve(url.searchParams);
  });
  server.maxConnections = MAX_CONNECTIONS;
  // The request timeouts start with the first byte; a connection that sends nothing ends by inactivity.
  server.timeout = REQUEST_TIMEOUT_MS;
  const shown = (port: number): string => `${t.host.includes(':') ? `[${t.host}]` : t.host}:${port}`;
  await new Promise<void>((resolve, reject) => {
    // A port that cannot be had is gitsign.redirectURL's (without it, any free port is taken).
    const fix = 'choose another port in gitsign.redirectURL, or unset it (a free port is then chosen)';
    server.once('error', (err: NodeJS.ErrnoException) => reject(new GitsignError('TOKEN', `cannot listen on ${shown(t.port)} for the login redirect: ${listenFailure(err)}; ${fix}`)));
    server.listen(t.port, t.host, resolve);
  });
  const bound = server.address() as AddressInfo;
  return {
    redirectUri: t.uri(bound.port),
    address: shown(bound.port),
    exposed: !isLoopback(bound.address),
    result,
    close: () => {
      settle?.reject(new GitsignError('TOKEN', 'the login was abandoned'));
      server.closeAllConnections();
      server.close();
    },
  };
}
