import type { ClientRequest, IncomingMessage } from 'node:http';
import { BlockList, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * The proxy the environment names for a URL, chosen as Go's net/http chooses it (gitsign reads
 * HTTPS_PROXY through ProxyFromEnvironment, golang.org/x/net/http/httpproxy): HTTPS_PROXY for https and
 * HTTP_PROXY for http, upper case before lower case; a value without a scheme means http://; NO_PROXY
 * lists hosts (and their subdomains), ".domain" (subdomains only), IPs and CIDRs, each with an optional
 * port, or "*"; this machine (localhost, loopback addresses) is never proxied; a value that is not a
 * URL is ignored, as Go ignores it.
 */
export type ProxyChoice = { proxy: URL } | { proxy: null; bypassed: boolean };

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

function envAny(env: NodeJS.ProcessEnv, ...names: string[]): string {
  for (const n of names) if (env[n]) return env[n] as string;
  return '';
}

function parseProxy(value: string): URL | null {
  if (!value) return null;
  for (const text of [value, `http://${value}`]) {
    try {
      const url = new URL(text);
      if (url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'socks5:') return url;
    } catch {
      /* try with http:// */
    }
  }
  return null;
}

/** A bare IP address (IPv6 without brackets), or null. */
function ipOf(host: string): { address: string; type: 'ipv4' | 'ipv6' } | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v = isIP(bare);
  return v === 4 ? { address: bare, type: 'ipv4' } : v === 6 ? { address: bare, type: 'ipv6' } : null;
}

/** host[:port] of a NO_PROXY entry (IPv6 in brackets when it has a port). */
function splitEntry(entry: string): { host: string; port: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] ?? '' };
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && entry.indexOf(':') === colon && /^\d+$/.test(entry.slice(colon + 1))) return { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
  return { host: entry, port: '' };
}

function bypasses(noProxy: string, host: string, port: string): boolean {
  const ip = ipOf(host);
  for (const raw of noProxy.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    const slash = entry.indexOf('/');
    if (slash > 0) {
      const net = ipOf(entry.slice(0, slash));
      const bits = Number(entry.slice(slash + 1));
      if (!net || !ip || !Number.isInteger(bits)) continue;
      const list = new BlockList();
      try {
        list.addSubnet(net.address, bits, net.type);
      } catch {
        continue;
      }
      if (list.check(ip.address, ip.type)) return true;
      continue;
    }
    const { host: h, port: p } = splitEntry(entry);
    if (!h || (p && p !== port)) continue;
    const entryIp = ipOf(h);
    if (entryIp) {
      if (ip && entryIp.type === ip.type) {
        const list = new BlockList();
        list.addAddress(entryIp.address, entryIp.type);
        if (list.check(ip.address, ip.type)) return true;
      }
      continue;
    }
    const domain = h.startsWith('*.') ? h.slice(1) : h;
    if (host.endsWith(domain.startsWith('.') ? domain : `.${domain}`) || (!domain.startsWith('.') && host === domain)) return true;
  }
  return false;
}

function isThisMachine(host: string): boolean {
  if (host === 'localhost') return true;
  const ip = ipOf(host);
  if (!ip) return false;
  const loopback = new BlockList();
  loopback.addSubnet('127.0.0.0', 8, 'ipv4');
  loopback.addAddress('::1', 'ipv6');
  return loopback.check(ip.address, ip.type);
}

export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): ProxyChoice {
  const value = target.protocol === 'https:' ? envAny(env, 'HTTPS_PROXY', 'https_proxy') : target.protocol === 'http:' ? envAny(env, 'HTTP_PROXY', 'http_proxy') : '';
  const proxy = parseProxy(value);
  if (!proxy) return { proxy: null, bypassed: false };
  const host = target.hostname.toLowerCase();
  if (isThisMachine(host)) return { proxy: null, bypassed: false };
  const port = target.port || DEFAULT_PORTS[target.protocol] || '';
  if (bypasses(envAny(env, 'NO_PROXY', 'no_proxy'), ipOf(host)?.address ?? host, port)) return { proxy: null, bypassed: true };
  return { proxy };
}

/** How the proxy is named in messages: its origin, never the credentials in it. */
export function proxyName(proxy: URL): string {
  return proxy.origin === 'null' ? `${proxy.protocol}//${proxy.host}` : proxy.origin;
}

/** Basic credentials from the proxy URL's user info, as Go sends them. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username && !proxy.password) return {};
  const secret = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(secret).toString('base64')}` };
}

/** A tunnel that could not be made: the words for "cannot reach X (...)". */
export class TunnelFailed extends Error {
  constructor(
    why: string,
    /** The TLS or system error code, when the failure is one. */
    readonly code = '',
  ) {
    super(why);
  }
}

/**
 * A TLS connection to `target` through an HTTP CONNECT tunnel at `proxy`, checked as any https
 * connection (Node's CAs, the target's name). Ends, sockets and all, when `signal` aborts.
 */
export function tunnel(proxy: URL, target: URL, signal: AbortSignal): Promise<TLSSocket> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = (proxy.protocol === 'https:' ? require('node:https') : require('node:http')) as typeof import('node:http');
  const authority = `${target.hostname}:${target.port || DEFAULT_PORTS[target.protocol]}`;
  return new Promise((resolve, reject) => {
    let req: ClientRequest | undefined;
    let raw: Socket | undefined;
    let secure: TLSSocket | undefined;
    let settled = false;
    const fail = (why: string, code = ''): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      secure?.destroy();
      raw?.destroy();
      req?.destroy();
      reject(new TunnelFailed(why, code));
    };
    const onAbort = (): void => fail('abandoned');
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    req = mod.request({
      host: proxy.hostname.replace(/^\[|\]$/g, ''),
      port: proxy.port || DEFAULT_PORTS[proxy.protocol],
      method: 'CONNECT',
      path: authority,
      headers: { Host: authority, 'User-Agent': 'gitsign', ...proxyAuthorization(proxy) },
      agent: false,
    });
    req.on('connect', (res: IncomingMessage, socket: Socket, head: Buffer) => {
      raw = socket;
      if (res.statusCode !== 200) return fail(`the proxy ${proxyName(proxy)} refused the tunnel: HTTP ${res.statusCode ?? 0}${res.statusCode === 407 ? ' (it wants credentials: put them in the proxy URL, http://USER:PASSWORD@HOST:PORT)' : ''}`);
      // The server speaks first in TLS only after our hello: bytes before it are not the server's.
      if (head.length) return fail(`the proxy ${proxyName(proxy)} sent data before the tunnel was open`);
      secure = tlsConnect({ socket, servername: isIP(target.hostname) ? undefined : target.hostname });
      secure.once('secureConnect', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(secure as TLSSocket);
      });
      secure.once('error', (err: NodeJS.ErrnoException) => fail(`${err.code ?? 'TLS failed'} through the proxy ${proxyName(proxy)}`, err.code));
    });
    req.on('response', (res: IncomingMessage) => fail(`the proxy ${proxyName(proxy)} answered HTTP ${res.statusCode ?? 0} instead of opening a tunnel`));
    // Not passed on as the failure's code: it is the proxy that failed, not the server behind it.
    req.on('error', (err: NodeJS.ErrnoException) => fail(`the proxy ${proxyName(proxy)} cannot be reached: ${err.code ?? 'connection failed'}`));
    req.end();
  });
}
