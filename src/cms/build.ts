import { createHash } from 'node:crypto';
import { Der } from '../asn1/reader';
import { algorithm, explicit, int, octets, oid, seq, setOf, time } from '../asn1/writer';
import { OID } from './oids';

/**
 * gitsign's detached CMS SignedData, byte for byte (spec section 2): version 1, SHA-256 without
 * parameters, detached id-data, the leaf certificate only, a version 1 SignerInfo identified by issuer
 * and serial, the three signed attributes in DER order, ECDSA with SHA-256, unsigned attributes
 * DER-sorted.
 */
export interface UnsignedAttribute {
  oid: string;
  /** Each value, already DER-encoded. */
  values: Buffer[];
}

export const attribute = (type: string, values: Buffer[]): Buffer => seq(oid(type), setOf(...values));

/** The signed attributes as SET OF: the exact bytes the signature covers. */
export function signedAttributes(payload: Buffer, signingTime: Date): Buffer {
  return setOf(
    attribute(OID.contentType, [oid(OID.data)]),
    attribute(OID.signingTime, [time(signingTime)]),
    attribute(OID.messageDigest, [octets(createHash('sha256').update(payload).digest())]),
  );
}

/** Issuer Name (verbatim) and serial number INTEGER of a certificate, from its DER. */
function issuerAndSerial(certDer: Buffer): Buffer {
  const tbs = Der.parse(certDer, 'certificate').child(0, 'tbsCertificate');
  const fields = tbs.children;
  const off = fields[0]?.isContext(0) ? 1 : 0;
  return seq(fields[off + 2].raw, fields[off].raw);
}

export function buildSignedData(opts: {
  certDer: Buffer;
  signedAttrs: Buffer;
  signature: Buffer;
  unsignedAttrs?: UnsignedAttribute[];
  /** The payload, for an attached signature (eContent); absent for git's detached ones. */
  content?: Buffer;
}): Buffer {
  // The signed attributes go in as [0] IMPLICIT: the SET's tag byte becomes 0xA0.
  const implicitSigned = Buffer.from(opts.signedAttrs);
  implicitSigned[0] = 0xa0;
  const unsigned = opts.unsignedAttrs?.length
    ? [explicit(1, Buffer.concat(opts.unsignedAttrs.map((a) => attribute(a.oid, a.values)).sort(Buffer.compare)))]
    : [];
  const signerInfo = seq(
    int(1n),
    issuerAndSerial(opts.certDer),
    algorithm(OID.sha256),
    implicitSigned,
    algorithm(OID.ecdsaWithSha256),
    octets(opts.signature),
    ...unsigned,
  );
  const signedData = seq(
    int(1n),
    setOf(algorithm(OID.sha256)),
    opts.content ? seq(oid(OID.data), explicit(0, octets(opts.content))) : seq(oid(OID.data)),
    explicit(0, opts.certDer),
    setOf(signerInfo),
  );
  return seq(oid(OID.signedData), explicit(0, signedData));
}
