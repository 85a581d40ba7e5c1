import { createHash, type KeyObject } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import { Der } from '../asn1/reader';
import { verifyNow, verifyOffThread } from '../crypto/verify';
import { GitsignError } from '../errors';
import { SIGNATURE_HASH, SIGNATURE_KEY_TYPE } from './algorithms';
import { type Extension, type Extensions, FULCIO_USERNAME_SAN, OID_CODE_SIGNING } from './extensions';
import { parseCertificate } from './parse';

/** Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
export const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  otherNameSan: FULCIO_USERNAME_SAN,
  issuerV2: '1.3.6.1.4.1.57264.1.8',
} as const;

/**
 * A certificate with the views gitsign reports on. It is parsed completely on construction (see
 * parse.ts): a malformed one is a MALFORMED_CERTIFICATE there, so every view below is plain data.
 */
export class Certificate {
  readonly der: Buffer;
  readonly tbs: Buffer;
  readonly signatureAlgorithmOid: string;
  readonly signature: Buffer;
  readonly serial: Buffer;
  /** The issuer and subject Names as received. */
  readonly issuer: Buffer;
  readonly subject: Buffer;
  /** The issuer as Go's pkix.Name.String() prints it (e.g. "CN=sigstore-intermediate,O=sigstore.dev"). */
  readonly issuerString: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spki: Buffer;
  /** The subject public key (an EC key on a NIST curve, RSA, or Ed25519). */
  readonly publicKey: KeyObject;
  readonly extensions: Extensions;

  constructor(der: Buffer) {
    this.der = der;
    const p = parseCertificate(der);
    this.tbs = p.tbs;
    this.signatureAlgorithmOid = p.signatureAlgorithm;
    this.signature = p.signature;
    this.serial = p.serial;
    this.issuer = p.issuer.der;
    this.subject = p.subject.der;
    this.issuerString = p.issuer.text;
    this.notBefore = p.notBefore;
    this.notAfter = p.notAfter;
    this.spki = p.spki;
    this.publicKey = p.publicKey;
    this.extensions = p.extensions;
  }

  private core?: X509Certificate;

  /** The same certificate as @sigstore/core reads it (for its SCT verifier), made when first asked. */
  get x509(): X509Certificate {
    if (!this.core) {
      try {
        this.core = X509Certificate.parse(this.der as Buffer<ArrayBuffer>);
      } catch {
        throw new GitsignError('MALFORMED_CERTIFICATE', 'malformed certificate: @sigstore/core cannot read it');
      }
    }
    return this.core;
  }

  /**
   * Whether the issuer's key made this certificate's signature (over the TBS bytes as received), with
   * an algorithm of the key's type: an ECDSA OID is never checked with an RSA key, nor the reverse.
   * The answer is kept per key: the same bytes and key always give the same answer.
   */
  isSignedBy(issuerKey: KeyObject): boolean {
    let verdict = this.verdicts.get(issuerKey);
    if (verdict === undefined) {
      const hash = this.hashFor(issuerKey);
      verdict = hash !== null && verifyNow(hash, this.tbs, issuerKey, this.signature);
      this.verdicts.set(issuerKey, verdict);
    }
    return verdict;
  }

  /**
   * isSignedBy's answer made on libuv's thread pool and kept for isSignedBy (see verifyOffThread);
   * objects verified at the same time with the same certificate share one check.
   */
  checkSignedBy(issuerKey: KeyObject): Promise<void> {
    let pending = this.pending.get(issuerKey);
    if (!pending) {
      const hash = this.hashFor(issuerKey);
      pending = this.verdicts.has(issuerKey) || hash === null ? Promise.resolve() : verifyOffThread(hash, this.tbs, issuerKey, this.signature).then((ok) => void this.verdicts.set(issuerKey, ok));
      this.pending.set(issuerKey, pending);
    }
    return pending;
  }

  private readonly verdicts = new Map<KeyObject, boolean>();
  private readonly pending = new Map<KeyObject, Promise<void>>();

  /** The hash of this certificate's signature algorithm, or null when it is not one for the key's type. */
  private hashFor(issuerKey: KeyObject): string | null {
    const hash = SIGNATURE_HASH[this.signatureAlgorithmOid];
    return hash && SIGNATURE_KEY_TYPE[this.signatureAlgorithmOid] === issuerKey.asymmetricKeyType ? hash : null;
  }

  /** Lowercase hex SHA-1 of the DER: gitsign's certificate ID and GOODSIG key. */
  get fingerprint(): string {
    return createHash('sha1').update(this.der).digest('hex');
  }

  matchesSignerId(issuerDer: Buffer, serial: Buffer): boolean {
    return this.serial.equals(serial) && this.issuer.equals(issuerDer);
  }

  /** Raw extension value (the OCTET STRING contents). */
  extensionValue(oid: string): Buffer | undefined {
    return this.extensions.list.find((e: Extension) => e.oid === oid)?.value;
  }

  /** A Fulcio string extension: v1 extensions hold raw bytes, v2 ones a DER UTF8String (checked when parsed). */
  fulcioString(oid: string, der = false): string | undefined {
    const v = this.extensionValue(oid);
    if (!v) return undefined;
    if (!der) return v.toString('utf8');
    try {
      const s = Der.parse(v, 'certificate extension', { code: 'MALFORMED_CERTIFICATE', der: true });
      return s.isUniversal(12) ? s.content.toString('utf8') : undefined;
    } catch {
      return undefined;
    }
  }

  /** The OIDC issuer: extension 1.8 (DER) if present, else 1.1 (raw). */
  get oidcIssuer(): string | undefined {
    return this.fulcioString(FULCIO_OID.issuerV2, true) ?? this.fulcioString(FULCIO_OID.issuerV1);
  }

  /** Raw value of extension 1.1, which is what gitsign prints in its summary. */
  get oidcIssuerV1(): string {
    return this.fulcioString(FULCIO_OID.issuerV1) ?? '';
  }

  /** SANs in the order of sigstore's GetSubjectAlternateNames: DNS, emails, IPs, URIs, OtherName. */
  get subjectAlternativeNames(): string[] {
    const s = this.extensions.sans;
    return [...s.dns, ...s.emails, ...s.ips, ...s.uris, ...s.otherNames];
  }

  get emails(): string[] {
    return this.extensions.sans.emails;
  }

  get uris(): string[] {
    return this.extensions.sans.uris;
  }

  get hasCodeSigningEku(): boolean {
    return this.extensions.extKeyUsage?.includes(OID_CODE_SIGNING) ?? false;
  }

  get subjectKeyId(): Buffer | undefined {
    return this.extensions.subjectKeyId;
  }

  get authorityKeyId(): Buffer | undefined {
    return this.extensions.authorityKeyId;
  }
}
