import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import { ASN1Obj } from '@sigstore/core';
import { algorithm, bits, bool, explicit, implicitPrimitive, int, oid, octets, printable, seq, setOf, time, utf8, type DerBytes } from '../../asn1/writer';

/** X.509 v3 certificates built directly in DER and signed with node:crypto keys. */
export const OIDS = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
} as const;

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  value: Buffer;
}

export interface CertificateFields {
  serial: Buffer;
  issuer: DerBytes;
  subject: DerBytes;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Extension[];
  hash: 'sha256' | 'sha384';
}

/** A Name made of O and CN (in that order, as Go writes pkix.Name), PrintableString when it fits. */
export function name(organization: string, commonName: string): DerBytes {
  const str = (s: string): DerBytes => (/^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? printable(s) : utf8(s));
  return seq(setOf(seq(oid(OIDS.organization), str(organization))), setOf(seq(oid(OIDS.commonName), str(commonName))));
}

export const emptyName = (): DerBytes => seq();

/** A positive random 20-byte serial number, as Fulcio issues them. */
export function randomSerial(): Buffer {
  const b = randomBytes(20);
  b[0] &= 0x7f;
  if (b[0] === 0) b[0] = 1;
  return b;
}

export function encodeExtension(e: Extension): DerBytes {
  return e.critical ? seq(oid(e.oid), bool(true), octets(e.value)) : seq(oid(e.oid), octets(e.value));
}

const sigAlgOid = (hash: 'sha256' | 'sha384'): string => (hash === 'sha256' ? OIDS.ecdsaWithSha256 : OIDS.ecdsaWithSha384);

export function tbsCertificate(f: CertificateFields): DerBytes {
  const parts = [
    explicit(0, int(2)),
    int(f.serial),
    algorithm(sigAlgOid(f.hash)),
    f.issuer,
    seq(time(f.notBefore), time(f.notAfter)),
    f.subject,
    f.spki,
  ];
  if (f.extensions.length) parts.push(explicit(3, seq(...f.extensions.map(encodeExtension))));
  return seq(...parts);
}

/** Signs a TBSCertificate with an ECDSA issuer key. */
export function signTbs(tbs: DerBytes, hash: 'sha256' | 'sha384', issuerKey: KeyObject): DerBytes {
  return seq(tbs, algorithm(sigAlgOid(hash)), bits(sign(hash, tbs, issuerKey)));
}

export function spkiOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

/** RFC 5280 key identifier: SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Buffer): Buffer {
  const bitString = ASN1Obj.parseBuffer(spki as Buffer<ArrayBuffer>).subs[1].value;
  return createHash('sha1').update(bitString.subarray(1)).digest();
}

export const ext = {
  basicConstraints(ca: boolean, pathLen?: number): Extension {
    const inner = ca ? (pathLen === undefined ? seq(bool(true)) : seq(bool(true), int(pathLen))) : seq();
    return { oid: OIDS.basicConstraints, critical: true, value: inner };
  },
  /** KeyUsage flags by RFC 5280 bit number (0 digitalSignature, 5 keyCertSign, 6 cRLSign). */
  keyUsage(bitNumbers: number[]): Extension {
    let v = 0;
    for (const b of bitNumbers) v |= 0x80 >> b;
    const last = Math.max(...bitNumbers);
    return { oid: OIDS.keyUsage, critical: true, value: bits(Buffer.from([v]), 7 - last) };
  },
  extKeyUsage(purposes: string[], critical = false): Extension {
    return { oid: OIDS.extKeyUsage, critical, value: seq(...purposes.map(oid)) };
  },
  subjectKeyId(spki: Buffer): Extension {
    return { oid: OIDS.subjectKeyId, critical: false, value: octets(keyIdentifier(spki)) };
  },
  authorityKeyId(issuerSpki: Buffer): Extension {
    return { oid: OIDS.authorityKeyId, critical: false, value: seq(implicitPrimitive(0, keyIdentifier(issuerSpki))) };
  },
  /** Critical SAN, as Fulcio writes it (the subject is empty). */
  subjectAltName(names: ({ email: string } | { uri: string })[]): Extension {
    const gns = names.map((n) => ('email' in n ? implicitPrimitive(1, Buffer.from(n.email, 'ascii')) : implicitPrimitive(6, Buffer.from(n.uri, 'ascii'))));
    return { oid: OIDS.subjectAltName, critical: true, value: seq(...gns) };
  },
  /** A Fulcio v1 extension: the raw string bytes. */
  raw(dotted: string, value: string): Extension {
    return { oid: dotted, critical: false, value: Buffer.from(value, 'utf8') };
  },
  /** A Fulcio v2 extension: a DER UTF8String. */
  utf8(dotted: string, value: string): Extension {
    return { oid: dotted, critical: false, value: utf8(value) };
  },
};

export const CA_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

/** A self-signed P-384/SHA-384 root CA valid ten years from `now` (Fulcio's and the TSA's). */
export function createRoot(key: KeyObject, pub: KeyObject, organization: string, commonName: string, pathLen: number, now: Date): DerBytes {
  const spki = spkiOf(pub);
  const subject = name(organization, commonName);
  const tbs = tbsCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    spki,
    extensions: [ext.keyUsage([5, 6]), ext.basicConstraints(true, pathLen), ext.subjectKeyId(spki)],
    hash: 'sha384',
  });
  return signTbs(tbs, 'sha384', key);
}
