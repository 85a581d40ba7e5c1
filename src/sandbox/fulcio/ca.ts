import type { KeyObject } from 'node:crypto';
import { CA_LIFETIME_MS, createRoot, emptyName, ext, name, OIDS, randomSerial, signTbs, spkiOf, tbsCertificate, type Extension } from '../x509/build';
import { type AddChainResponse, sctListExtension, type CtLog } from './ctlog';

/**
 * The sandbox Fulcio CA: a self-signed root, an intermediate, and 10-minute code-signing leaves
 * shaped like public-good ones (empty subject, critical SAN, KeyUsage digitalSignature, EKU
 * codeSigning, SKI/AKI, issuer extensions, embedded SCT), signed ecdsa-with-SHA384. With `detached`
 * SCTs it is a Fulcio whose CA cannot make precertificates: the leaf carries no SCT and the CT log's
 * SCT for the final certificate is handed out beside it.
 */
export type SctDelivery = 'embedded' | 'detached';
export const CA_ORGANIZATION = 'gitsign-ts sandbox';
const ROOT_CN = 'sigstore';
const INTERMEDIATE_CN = 'sigstore-intermediate';
const LEAF_LIFETIME_MS = 10 * 60 * 1000;

export function createRootCertificate(rootKey: KeyObject, rootPub: KeyObject, now: Date): Buffer {
  return createRoot(rootKey, rootPub, CA_ORGANIZATION, ROOT_CN, 1, now);
}

export function createIntermediateCertificate(rootKey: KeyObject, rootPub: KeyObject, intPub: KeyObject, now: Date): Buffer {
  const spki = spkiOf(intPub);
  const tbs = tbsCertificate({
    serial: randomSerial(),
    issuer: name(CA_ORGANIZATION, ROOT_CN),
    subject: name(CA_ORGANIZATION, INTERMEDIATE_CN),
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    spki,
    extensions: [
      ext.keyUsage([5, 6]),
      ext.extKeyUsage([OIDS.codeSigning]),
      ext.basicConstraints(true, 0),
      ext.subjectKeyId(spki),
      ext.authorityKeyId(spkiOf(rootPub)),
    ],
    hash: 'sha384',
  });
  return signTbs(tbs, 'sha384', rootKey);
}

/** Who a certificate is for, as worked out from the ID token. */
export interface Principal {
  /** What the proof of possession signs: the email or the subject. */
  name: string;
  san: { email: string } | { uri: string };
  issuer: string;
  /** Extra Fulcio extensions (e.g. GitHub workflow claims), after the issuer ones. */
  extensions: Extension[];
}

export interface IssuedCertificate {
  certificate: Buffer;
  /** The SCT for the certificate, when it is not embedded in it. */
  detachedSct?: AddChainResponse;
}

export class CertificateAuthority {
  constructor(
    private readonly intermediateKey: KeyObject,
    private readonly intermediatePub: KeyObject,
    readonly rootDer: Buffer,
    readonly intermediateDer: Buffer,
    /** Without one (the sct-missing fault) certificates carry no SCT. */
    private readonly ctlog?: CtLog,
    private readonly sctDelivery: SctDelivery = 'embedded',
  ) {}

  /** The chain after the leaf, as Fulcio returns it: intermediate, then root. */
  get chain(): Buffer[] {
    return [this.intermediateDer, this.rootDer];
  }

  issue(spki: Buffer, principal: Principal, now = new Date()): IssuedCertificate {
    const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const issuerSpki = spkiOf(this.intermediatePub);
    const extensions: Extension[] = [
      ext.keyUsage([0]),
      ext.extKeyUsage([OIDS.codeSigning]),
      ext.subjectKeyId(spki),
      ext.authorityKeyId(issuerSpki),
      ext.subjectAltName([principal.san]),
      ext.raw('1.3.6.1.4.1.57264.1.1', principal.issuer),
      ext.utf8('1.3.6.1.4.1.57264.1.8', principal.issuer),
      ...principal.extensions,
    ];
    const fields = {
      serial: randomSerial(),
      issuer: name(CA_ORGANIZATION, INTERMEDIATE_CN),
      subject: emptyName(),
      notBefore,
      notAfter: new Date(notBefore.getTime() + LEAF_LIFETIME_MS),
      spki,
      extensions,
      hash: 'sha384' as const,
    };
    if (!this.ctlog || this.sctDelivery === 'detached') {
      const certificate = signTbs(tbsCertificate(fields), 'sha384', this.intermediateKey);
      return this.ctlog ? { certificate, detachedSct: this.ctlog.signCertificate(certificate, now.getTime()) } : { certificate };
    }
    // The precertificate TBS is the final TBS without the SCT list; the SCT is appended last.
    const sct = this.ctlog.sign(tbsCertificate(fields), issuerSpki, now.getTime());
    const tbs = tbsCertificate({ ...fields, extensions: [...extensions, sctListExtension([sct])] });
    return { certificate: signTbs(tbs, 'sha384', this.intermediateKey) };
  }
}
