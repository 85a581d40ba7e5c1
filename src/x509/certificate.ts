import { createHash, createPublicKey, type KeyObject, verify as cryptoVerify } from 'node:crypto';
import { X509Certificate, ASN1Obj } from '@sigstore/core';
import { Der } from '../asn1/reader';
import { GitsignError } from '../errors';
import { SIGNATURE_HASH } from './algorithms';

/** Fulcio certificate extensions (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md). */
export const FULCIO_OID = {
  issuerV1: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
  otherNameSan: '1.3.6.1.4.1.57264.1.7',
  issuerV2: '1.3.6.1.4.1.57264.1.8',
} as const;

const OID_EKU = '2.5.29.37';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const OID_SAN = '2.5.29.17';


interface SubjectAltNames {
  dns: string[];
  emails: string[];
  ips: string[];
  uris: string[];
  otherNames: string[];
}

/** A leaf certificate with the views gitsign reports on. */
export class Certificate {
  readonly x509: X509Certificate;
  readonly der: Buffer;

  constructor(der: Buffer) {
    this.der = der;
    try {
      this.x509 = X509Certificate.parse(der as Buffer<ArrayBuffer>);
    } catch (err) {
      throw new GitsignError('MALFORMED_SIGNATURE', `malformed certificate: ${(err as Error).message}`);
    }
  }

  private parts?: { tbs: Buffer; spki: Buffer; signatureAlgorithm: string; signature: Buffer };
  private key?: KeyObject;

  /** The received bytes of the parts a signature check needs (never a re-encoding). */
  private get raw(): { tbs: Buffer; spki: Buffer; signatureAlgorithm: string; signature: Buffer } {
    if (!this.parts) {
      try {
        const [tbs, alg, sig] = Der.parse(this.der, 'certificate').children;
        const fields = tbs.children;
        const off = fields[0]?.isContext(0) ? 1 : 0;
        const bits = sig.content;
        if (!sig.isUniversal(3) || bits[0] !== 0) throw new Error('bad signature BIT STRING');
        this.parts = { tbs: tbs.raw, spki: fields[off + 5].raw, signatureAlgorithm: alg.child(0, 'algorithm').oid, signature: bits.subarray(1) };
      } catch (err) {
        throw new GitsignError('MALFORMED_SIGNATURE', `malformed certificate: ${(err as Error).message}`);
      }
    }
    return this.parts;
  }

  /** The subject public key; one that is not a valid curve point is a malformed certificate. */
  get publicKey(): KeyObject {
    try {
      this.key ??= createPublicKey({ key: this.raw.spki, format: 'der', type: 'spki' });
    } catch (err) {
      throw new GitsignError('MALFORMED_SIGNATURE', `malformed certificate: invalid public key (${(err as Error).message})`);
    }
    return this.key;
  }

  /** Whether the issuer's key made this certificate's signature (over the TBS bytes as received). */
  isSignedBy(issuerKey: KeyObject): boolean {
    const { tbs, signatureAlgorithm, signature } = this.raw;
    const hash = SIGNATURE_HASH[signatureAlgorithm];
    if (!hash) return false;
    try {
      return cryptoVerify(hash, tbs, issuerKey, signature);
    } catch {
      return false;
    }
  }

  /** The issuer's signature algorithm on this certificate, as an OID. */
  get signatureAlgorithmOid(): string {
    return this.raw.signatureAlgorithm;
  }

  /** Lowercase hex SHA-1 of the DER: gitsign's certificate ID and GOODSIG key. */
  get fingerprint(): string {
    return createHash('sha1').update(this.der).digest('hex');
  }

  get notBefore(): Date {
    return this.x509.notBefore;
  }
  get notAfter(): Date {
    return this.x509.notAfter;
  }

  matchesSignerId(issuerDer: Buffer, serial: Buffer): boolean {
    const tbs = this.x509.tbsCertificate;
    const ownSerial = tbs.subs[tbs.subs[0].tag.isContextSpecific(0) ? 1 : 0].value;
    const ownIssuer = tbs.subs[tbs.subs[0].tag.isContextSpecific(0) ? 3 : 2].toDER();
    return ownSerial.equals(serial) && ownIssuer.equals(issuerDer);
  }

  /** Raw extension value (the OCTET STRING contents). */
  extensionValue(oid: string): Buffer | undefined {
    for (const ext of this.x509.extensions) {
      if (ext.subs[0].toOID() === oid) return ext.subs[ext.subs.length - 1].value;
    }
    return undefined;
  }

  /** A Fulcio string extension: v1 extensions hold raw bytes, v2 ones a DER UTF8String. */
  fulcioString(oid: string, der = false): string | undefined {
    const v = this.extensionValue(oid);
    if (!v) return undefined;
    if (!der) return v.toString('utf8');
    try {
      return ASN1Obj.parseBuffer(v as Buffer<ArrayBuffer>).value.toString('utf8');
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
    const s = this.sans;
    return [...s.dns, ...s.emails, ...s.ips, ...s.uris, ...s.otherNames];
  }

  get emails(): string[] {
    return this.sans.emails;
  }

  get uris(): string[] {
    return this.sans.uris;
  }

  private get sans(): SubjectAltNames {
    const sans: SubjectAltNames = { dns: [], emails: [], ips: [], uris: [], otherNames: [] };
    const v = this.extensionValue(OID_SAN);
    if (!v) return sans;
    let names: ASN1Obj[];
    try {
      names = ASN1Obj.parseBuffer(v as Buffer<ArrayBuffer>).subs;
    } catch {
      return sans;
    }
    for (const gn of names) {
      switch (gn.tag.number) {
        case 2:
          sans.dns.push(gn.value.toString('ascii'));
          break;
        case 1:
          sans.emails.push(gn.value.toString('ascii'));
          break;
        case 7:
          sans.ips.push(formatIp(gn.value));
          break;
        case 6:
          sans.uris.push(gn.value.toString('ascii'));
          break;
        case 0:
          // OtherName { type-id, [0] EXPLICIT value }: Fulcio's username SAN is a UTF8String.
          try {
            if (gn.subs[0]?.toOID() === FULCIO_OID.otherNameSan) sans.otherNames.push(gn.subs[1].subs[0].value.toString('utf8'));
          } catch {
            /* not a Fulcio OtherName */
          }
          break;
      }
    }
    return sans;
  }

  get hasCodeSigningEku(): boolean {
    const v = this.extensionValue(OID_EKU);
    if (!v) return false;
    try {
      return ASN1Obj.parseBuffer(v as Buffer<ArrayBuffer>).subs.some((o) => o.toOID() === OID_CODE_SIGNING);
    } catch {
      return false;
    }
  }

  /** The issuer as Go's pkix.Name.String() prints it (e.g. "CN=sigstore-intermediate,O=sigstore.dev"). */
  get issuerString(): string {
    const tbs = this.x509.tbsCertificate;
    return goNameString(tbs.subs[tbs.subs[0].tag.isContextSpecific(0) ? 3 : 2]);
  }
}

function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const parts: string[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(':');
}

// Go's pkix.Name knows these attributes and re-emits them in this fixed order; String() then
// prints the sequence reversed. Unknown attributes follow, printed as OID=#hex.
const GO_NAME_ORDER: [string, string][] = [
  ['2.5.4.6', 'C'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.7', 'L'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.17', 'POSTALCODE'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'SERIALNUMBER'],
];

function escapeRdnValue(s: string): string {
  let out = s.replace(/([,+"\\<>;])/g, '\\$1');
  if (out.startsWith(' ') || out.startsWith('#')) out = '\\' + out;
  if (out.endsWith(' ') && out.length > 1) out = out.slice(0, -1) + '\\ ';
  return out;
}

function goNameString(name: ASN1Obj): string {
  const known = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const rdn of name.subs) {
    for (const atv of rdn.subs) {
      const oid = atv.subs[0].toOID();
      const value = atv.subs[1];
      if (GO_NAME_ORDER.some(([o]) => o === oid)) {
        const list = known.get(oid) ?? [];
        list.push(escapeRdnValue(value.value.toString('utf8')));
        known.set(oid, list);
      } else {
        unknown.push(`${oid}=#${value.toDER().toString('hex')}`);
      }
    }
  }
  const rdns: string[] = [];
  for (const [oid, label] of GO_NAME_ORDER) {
    const values = known.get(oid);
    if (values) rdns.push(values.map((v) => `${label}=${v}`).join('+'));
  }
  rdns.push(...unknown);
  return rdns.reverse().join(',');
}
