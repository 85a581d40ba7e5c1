import { GitsignError } from '../errors';

/**
 * What a transparency log entry body records about the signature it logs, in one shape for every
 * kind Sigstore clients meet (Rekor v1 hashedrekord, dsse, intoto; Rekor v2 hashedrekord and dsse), so
 * one comparison serves them all.
 */
export interface LoggedDigest {
  /** node:crypto's name: sha256, sha384, sha512. */
  algorithm: string;
  value: Buffer;
}

/** The signer as logged: a DER certificate, or the DER SubjectPublicKeyInfo of a bare key. */
export type LoggedSigner = { certificate: Buffer } | { publicKey: Buffer };

export interface LoggedSignature {
  /** "kind/apiVersion", for messages. */
  type: string;
  /** hashedrekord: the digest of the signed bytes (for a DSSE envelope, of its PAE). */
  signedDigest?: LoggedDigest;
  /** dsse and intoto: the digest of the envelope payload (absent from the oldest intoto 0.0.1 entries). */
  payloadDigest?: LoggedDigest;
  /** intoto 0.0.1: the digest of the whole serialized envelope, which it keeps instead of the signature. */
  envelopeDigest?: LoggedDigest;
  /** `signature` is absent when only the envelope digest records it (intoto 0.0.1). */
  signatures: { signature?: Buffer; signer: LoggedSigner }[];
}

/** A field of an entry body; a missing or mistyped field is a malformed body. */
export function field<T>(value: unknown, path: string, type: 'string' | 'object' | 'array'): T {
  let v: unknown = value;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? typeof v === 'object' && v !== null : typeof v === 'string';
  if (!ok) throw new GitsignError('TLOG', `transparency log entry body is malformed: ${path} is missing or not a${type === 'array' ? 'n' : ''} ${type}`);
  return v as T;
}
