/**
 * The credential cache's wire protocol (ours; documented in gitsign-credential-cache(1)): over the Unix
 * socket, one connection carries one request, a single line of UTF-8 JSON ended by "\n", and gets one
 * response line, after which the daemon closes the connection.
 *
 *   {"v":1,"op":"get","key":K}                    -> {"ok":true,"credential":C|null}
 *   {"v":1,"op":"store","key":K,"credential":C}   -> {"ok":true}
 *   {"v":1,"op":"ping"}                           -> {"ok":true,"version":"...","entries":N}
 *   any failure                                   -> {"ok":false,"error":CODE,"message":"..."}
 *
 * K = {"id":"<hostname>@<working directory>","fulcio":"<Fulcio URL>","issuer":"<OIDC issuer>"}: the
 * Go gitsign keys on id alone; binding the Fulcio URL and the issuer means an identity cached for one
 * Sigstore instance is never offered to a signer configured for another.
 * C = {"privateKey":"<PKCS#8 PEM>","certificate":"<leaf PEM>","chain":"<intermediates and root, PEM>"}
 */
export const PROTOCOL_VERSION = 1;
/** A request line longer than this is refused: a credential is ~3 KiB. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export interface CacheKey {
  id: string;
  fulcio: string;
  issuer: string;
}

export interface WireCredential {
  privateKey: string;
  certificate: string;
  chain: string;
}

export type Request =
  | { v: 1; op: 'get'; key: CacheKey }
  | { v: 1; op: 'store'; key: CacheKey; credential: WireCredential }
  | { v: 1; op: 'ping' };

export type ErrorCode = 'bad_request' | 'too_large' | 'forbidden' | 'unsupported_version' | 'invalid_credential' | 'busy';

export type Response =
  | { ok: true; credential?: WireCredential | null; version?: string; entries?: number }
  | { ok: false; error: ErrorCode; message: string };

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_FIELD = 16 * 1024;

function str(v: unknown, what: string, max = MAX_FIELD): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new ProtocolError('bad_request', `${what} must be a non-empty string`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('bad_request', `${what} must be an object`);
  return v as Record<string, unknown>;
}

export function parseKey(v: unknown): CacheKey {
  const k = obj(v, 'key');
  return { id: str(k.id, 'key.id', 4096), fulcio: str(k.fulcio, 'key.fulcio', 4096), issuer: str(k.issuer, 'key.issuer', 4096) };
}

export function parseCredential(v: unknown): WireCredential {
  const c = obj(v, 'credential');
  return { privateKey: str(c.privateKey, 'credential.privateKey'), certificate: str(c.certificate, 'credential.certificate'), chain: str(c.chain, 'credential.chain') };
}

/** Decodes one request line; anything that is not exactly a request is a ProtocolError. */
export function parseRequest(line: Buffer): Request {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(line);
  } catch {
    throw new ProtocolError('bad_request', 'the request is not UTF-8');
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_request', 'the request is not JSON');
  }
  const r = obj(v, 'the request');
  if (r.v !== PROTOCOL_VERSION) throw new ProtocolError('unsupported_version', `protocol version ${JSON.stringify(r.v)} is not supported (this daemon speaks ${PROTOCOL_VERSION})`);
  switch (r.op) {
    case 'get':
      return { v: 1, op: 'get', key: parseKey(r.key) };
    case 'store':
      return { v: 1, op: 'store', key: parseKey(r.key), credential: parseCredential(r.credential) };
    case 'ping':
      return { v: 1, op: 'ping' };
    default:
      throw new ProtocolError('bad_request', `unknown op ${JSON.stringify(r.op)}`);
  }
}

export function encode(message: Request | Response): Buffer {
  return Buffer.from(`${JSON.stringify(message)}\n`);
}
