import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GitsignError } from '../errors';
import { requestTarget } from '../net/requestTarget';
import { errorPage, successPage } from './successPage';

/**
 * The redirect listener of the browser login: bound to 127.0.0.1 only (never a public interface), on
 * a random port unless gitsign.redirectURL names one. It answers the one request that carries our
 * state; anything else (a stray request, a wrong state) gets a 400 and the wait goes on.
 */
export interface Callback {
  /** The redirect_uri to send: http://localhost:<port>/auth/callback unless configured. */
  redirectUri: string;
  /** Resolves with the callback's query (code and state), rejects on an error answer or close(). */
  result: Promise<URLSearchParams>;
  close(): void;
}

const DEFAULT_PATH = '/auth/callback';

function target(redirectURL: string): { port: number; path: string; uri: (port: number) => string } {
  if (!redirectURL) {
    // "localhost" in the URI, as gitsign sends: issuers register http://localhost redirects for the
    // sigstore client; the browser reaches our 127.0.0.1 socket through it.
    return { port: 0, path: DEFAULT_PATH, uri: (port) => `http://localhost:${port}${DEFAULT_PATH}` };
  }
  let u: URL;
  try {
    u = new URL(redirectURL);
  } catch {
    throw new GitsignError('CONFIG', `gitsign.redirectURL "${redirectURL}" is not a URL`);
  }
  if (u.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(u.hostname)) {
    throw new GitsignError('CONFIG', `gitsign.redirectURL must be http://localhost:PORT/... or http://127.0.0.1:PORT/... (we listen on 127.0.0.1 only), got "${redirectURL}"`);
  }
  return { port: u.port ? Number(u.port) : 80, path: u.pathname, uri: () => redirectURL };
}

export async function listenForCallback(redirectURL: string, state: string, page: { autoclose: boolean; timeoutS: number }): Promise<Callback> {
  const t = target(redirectURL);
  let settle: { resolve: (q: URLSearchParams) => void; reject: (e: Error) => void } | undefined;
  const result = new Promise<URLSearchParams>((resolve, reject) => (settle = { resolve, reject }));
  result.catch(() => undefined); // handled by whoever awaits it; never an unhandled rejection
  const reply = (res: ServerResponse, status: number, html: string): void => {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
    res.end(html);
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new GitsignError('TOKEN', `cannot listen on 127.0.0.1:${t.port} for the login redirect (${err.code ?? err.message})`)));
    server.listen(t.port, '127.0.0.1', resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    redirectUri: t.uri(port),
    result,
    close: () => {
      settle?.reject(new GitsignError('TOKEN', 'the login was abandoned'));
      server.closeAllConnections();
      server.close();
    },
  };
}
