import { createHash } from 'node:crypto';
import { verifyNow } from '../crypto/verify';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import { MAX_DATE_SECONDS } from '../json';
import type { Certificate } from '../x509/certificate';
import { precertificateTbs } from '../x509/precertificate';

/**
 * Certificate transparency: a Fulcio certificate's issuance was logged when an SCT from a trusted CT
 * log verifies over it. An SCT embedded in the certificate covers its precertificate; a detached SCT
 * (`--sct`, what Fulcio returns when its CA cannot embed one) covers the certificate itself. Both are
 * RFC 6962 v1 SCTs and are checked by the same steps here: the log by its ID and validity at the SCT's
 * time, then the log's signature over the digitally-signed struct of section 3.2.
 */
export interface Sct {
  logId: Buffer;
  /** Milliseconds since the Unix epoch, as the log signed it. */
  timestamp: bigint;
  extensions: Buffer;
  /** The TLS DigitallySigned: hash and signature algorithm numbers (RFC 5246 7.4.1.4.1) and the signature. */
  hashAlgorithm: number;
  signatureAlgorithm: number;
  signature: Buffer;
}

/** What the log signed besides the SCT's own fields (RFC 6962 3.2 signed_entry). */
export type SignedEntry = { type: 'x509'; certificate: Buffer } | { type: 'precert'; issuerKeyHash: Buffer; tbs: Buffer };

type CtLog = TrustMaterial['ctlogs'][number];

/** The hashes a CT log may sign with; MD5, SHA-1 and SHA-224 are refused. */
const HASHES: Record<number, string> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' };
/** TLS signature algorithms and the key type each needs (RFC 6962 allows ECDSA and RSA). */
const KEY_TYPES: Record<number, string> = { 1: 'rsa', 3: 'ec' };
const LOG_ID_BYTES = 32;
const MAX_TIMESTAMP_MS = BigInt(MAX_DATE_SECONDS) * 1000n;

/** A TLS presentation-language reader over one structure; `fail` makes the caller's error. */
export class TlsReader {
  private pos = 0;
  constructor(
    private readonly b: Buffer,
    private readonly fail: (why: string) => GitsignError,
  ) {}

  private take(n: number, what: string): Buffer {
    if (this.pos + n > this.b.length) throw this.fail(`${what} is truncated`);
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  u8(what: string): number {
    return this.take(1, what)[0];
  }

  u64(what: string): bigint {
    return this.take(8, what).readBigUInt64BE();
  }

  bytes(n: number, what: string): Buffer {
    return this.take(n, what);
  }

  /** An opaque<0..2^16-1> vector. */
  vector16(what: string): Buffer {
    return this.take(this.take(2, `${what} length`).readUInt16BE(), what);
  }

  end(what: string): void {
    if (this.pos !== this.b.length) throw this.fail(`${what} has ${this.b.length - this.pos} bytes after its end`);
  }
}

/** The DigitallySigned struct that ends a serialized SCT and is a detached SCT's `signature`. */
export function readDigitallySigned(r: TlsReader): Pick<Sct, 'hashAlgorithm' | 'signatureAlgorithm' | 'signature'> {
  return { hashAlgorithm: r.u8('hash algorithm'), signatureAlgorithm: r.u8('signature algorithm'), signature: r.vector16('signature') };
}

export function checkSctTimestamp(timestamp: bigint, fail: (why: string) => GitsignError): void {
  if (timestamp > MAX_TIMESTAMP_MS) throw fail('its timestamp is no possible time');
}

/** One serialized SCT of an embedded SCT list (RFC 6962 3.3). */
function readSerializedSct(b: Buffer): Sct {
  const fail = (why: string): GitsignError => new GitsignError('SCT', `certificate transparency SCT does not verify: its SCT list could not be read (${why})`);
  const r = new TlsReader(b, fail);
  if (r.u8('version') !== 0) throw fail('an SCT is not version 1');
  const sct: Sct = { logId: r.bytes(LOG_ID_BYTES, 'log ID'), timestamp: r.u64('timestamp'), extensions: r.vector16('extensions'), ...readDigitallySigned(r) };
  r.end('an SCT');
  checkSctTimestamp(sct.timestamp, fail);
  return sct;
}

/** RFC 6962 3.2: the bytes the log signed. */
function signedStruct(sct: Sct, entry: SignedEntry): Buffer {
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigUInt64BE(sct.timestamp);
  const signedEntry =
    entry.type === 'x509'
      ? [u16(0), u24(entry.certificate.length), entry.certificate] // x509_entry: ASN.1Cert
      : [u16(1), entry.issuerKeyHash, u24(entry.tbs.length), entry.tbs]; // precert_entry: PreCert
  // sct_version v1, signature_type certificate_timestamp, timestamp, the entry, CtExtensions.
  return Buffer.concat([Buffer.from([0, 0]), timestamp, ...signedEntry, u16(sct.extensions.length), sct.extensions]);
}

/**
 * Verifies one SCT over `entry` with a trusted CT log: one with the SCT's log ID whose key was valid at
 * the SCT's time, and whose key type is the one the SCT names. `what` names the SCT in messages.
 */
export function verifySct(sct: Sct, entry: SignedEntry, ctlogs: CtLog[], what: string): void {
  const fail = (why: string): GitsignError => new GitsignError('SCT', `certificate transparency ${what} does not verify: ${why}`);
  checkSctTimestamp(sct.timestamp, fail);
  const time = new Date(Number(sct.timestamp));
  const logId = sct.logId.toString('hex');
  const named = ctlogs.filter((log) => log.logID.equals(sct.logId));
  if (named.length === 0) throw fail(`no CT log of the trusted root has its log ID ${logId}`);
  const valid = named.filter((log) => log.validFor.start <= time && time <= log.validFor.end);
  if (valid.length === 0) throw fail(`the CT log ${logId} was not valid at its time ${time.toISOString()}`);
  const hash = HASHES[sct.hashAlgorithm];
  if (!hash) throw fail(`its hash algorithm ${sct.hashAlgorithm} is not SHA-256, SHA-384 or SHA-512`);
  const keyType = KEY_TYPES[sct.signatureAlgorithm];
  if (!keyType) throw fail(`its signature algorithm ${sct.signatureAlgorithm} is not ECDSA or RSA`);
  const data = signedStruct(sct, entry);
  const verifies = (log: CtLog): boolean => {
    // A signature node:crypto cannot even decode does not verify.
    return log.publicKey.asymmetricKeyType === keyType && verifyNow(hash, data, log.publicKey, sct.signature);
  };
  if (!valid.some(verifies)) throw fail(`its signature does not verify with the key of CT log ${logId}`);
}

/**
 * The SCT check of a Fulcio certificate, as cosign makes it: every embedded SCT must verify; a
 * certificate without one needs the detached SCT (given with --sct), which is otherwise not used.
 * `issuerSpki` is the public key of the certificate's verified issuer (the precertificate names it).
 */
export function verifyCertificateScts(cert: Certificate, issuerSpki: Buffer, ctlogs: CtLog[], detached?: Sct): void {
  const embedded = cert.extensions.scts;
  if (embedded.length > 0) {
    const entry: SignedEntry = { type: 'precert', issuerKeyHash: createHash('sha256').update(issuerSpki).digest(), tbs: precertificateTbs(cert.tbs) };
    for (const raw of embedded) verifySct(readSerializedSct(raw), entry, ctlogs, 'SCT');
    return;
  }
  if (detached) return verifySct(detached, { type: 'x509', certificate: cert.der }, ctlogs, 'SCT from --sct');
  throw new GitsignError('SCT', 'certificate has no embedded SCT, so its issuance was never logged (--sct FILE gives its detached SCT; --insecure-ignore-sct skips this check)');
}
