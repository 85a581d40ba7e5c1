import { sign, type KeyObject } from 'node:crypto';
import { dsse } from '@sigstore/core';
import { GitsignError } from '../errors';

/**
 * DSSE envelopes as gitsign writes them (sigstore's dsse.WrapSigner): the signature is ECDSA-SHA256
 * over PAE(payloadType, payload), and the envelope is Go's json.Marshal of
 * {payloadType, payload, signatures: [{keyid: "", sig}]} with standard base64.
 */
export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Envelope {
  payloadType: string;
  payload: Buffer;
  signatures: { keyid: string; sig: string; signature: Buffer }[];
  /** The envelope exactly as stored and logged (its hash is what the log records). */
  raw: Buffer;
}

export function signEnvelope(payloadType: string, payload: Buffer, key: KeyObject): Buffer {
  const sig = sign('sha256', dsse.preAuthEncoding(payloadType, payload), key);
  return Buffer.from(JSON.stringify({ payloadType, payload: payload.toString('base64'), signatures: [{ keyid: '', sig: sig.toString('base64') }] }));
}

const malformed = (why: string): GitsignError => new GitsignError('MALFORMED_SIGNATURE', `malformed DSSE envelope: ${why}`);

/** DSSE allows standard or URL-safe base64; anything else is refused rather than half-decoded. */
function base64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) throw malformed(`${what} is not base64`);
  return Buffer.from(value, /[-_]/.test(value) ? 'base64url' : 'base64');
}

export function parseEnvelope(raw: Buffer): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw malformed('not JSON');
  }
  const e = json as { payloadType?: unknown; payload?: unknown; signatures?: unknown };
  if (!e || typeof e !== 'object' || Array.isArray(e)) throw malformed('not a JSON object');
  if (typeof e.payloadType !== 'string' || e.payloadType === '') throw malformed('no payloadType');
  if (!Array.isArray(e.signatures) || e.signatures.length === 0) throw malformed('no signatures');
  const signatures = e.signatures.map((s: { keyid?: unknown; sig?: unknown }, i) => {
    if (!s || typeof s !== 'object') throw malformed(`signature ${i} is not an object`);
    if (s.keyid !== undefined && typeof s.keyid !== 'string') throw malformed(`signature ${i} has a non-string keyid`);
    const signature = base64(s.sig, `signature ${i}`);
    if (signature.length === 0) throw malformed(`signature ${i} is empty`);
    return { keyid: s.keyid ?? '', sig: s.sig as string, signature };
  });
  return { payloadType: e.payloadType, payload: base64(e.payload, 'payload'), signatures, raw };
}
