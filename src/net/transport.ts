import { writeSync } from 'node:fs';
import { type ErrorCode, GitsignError, quoted } from '../errors';

/**
 * Which URLs may carry our requests (and, for login pages, be opened): https anywhere, plain http only
 * to this machine (127.0.0.0/8, ::1, localhost: the local sandbox). Plain http to another host would
 * put the ID token, the certificate request and the log's answers on the network in clear, so it is
 * refused unless gitsign.insecureAllowHTTP says otherwise, and then every such origin is warned about.
 */
const INSECURE_HTTP_SETTING = 'gitsign.insecureAllowHTTP (GITSIGN_INSECURE_ALLOW_HTTP)';

let cleartextAllowed = false;
// Synchronous, as every other line gitsign writes to stderr, so the warning stays in order.
let warnSink: (line: string) => void = (line) => void writeSync(2, `${line}\n`);
const warnedOrigins = new Set<string>();

/** Set from the configuration (see loadConfig). */
export function allowCleartextHttp(allowed: boolean): void {
  cleartextAllowed = allowed;
}

/** Where the cleartext warning goes; stderr unless a command has a better place (signing: the terminal too). */
export function setNetworkWarningSink(sink: (line: string) => void): void {
  warnSink = sink;
}

/** A host name of this machine, as the WHATWG URL parser spells it (IPv4 in dotted decimal, IPv6 in brackets). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * The URL, parsed and normalized (control characters, spaces and quotes percent-encoded), when it may
 * carry a request; else a GitsignError with `code` saying why. `what` names it: "Fulcio URL",
 * "the issuer's token_endpoint".
 */
export function checkedUrl(raw: string, what: string, code: ErrorCode): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Quoted as JSON, so control characters in it reach no terminal raw.
    throw new GitsignError(code, `${what} ${quoted(raw, 100)} is not a URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol !== 'http:') throw new GitsignError(code, `${what} is not an https URL (its scheme is ${url.protocol})`);
  if (isLoopbackHost(url.hostname)) return url;
  if (!cleartextAllowed) {
    throw new GitsignError(
      code,
      `${what} ${url.origin} is plain http to another machine: what it carries, the ID token too, would cross the network in clear; use https (or set ${INSECURE_HTTP_SETTING} to allow it)`,
    );
  }
  if (!warnedOrigins.has(url.origin)) {
    warnedOrigins.add(url.origin);
    warnSink(`gitsign: WARNING: ${what} ${url.origin} is plain http (allowed by ${INSECURE_HTTP_SETTING}): anyone on the network path can read and change what is sent, the ID token too`);
  }
  return url;
}
