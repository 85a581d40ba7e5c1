import { createHash } from 'node:crypto';
import { GitsignError } from '../errors';
import { Der } from '../asn1/reader';
import { OID } from './oids';

/**
 * A parsed detached CMS SignedData as gitsign writes it. Every byte string is a view of the received
 * bytes, so the signed attributes are verified exactly as they were signed.
 */
export interface Attribute {
  oid: string;
  values: Der[];
}

export type SignerId = { issuer: Buffer; serial: Buffer } | { subjectKeyId: Buffer };

export interface SignerInfo {
  sid: SignerId;
  digestAlgorithm: string;
  /** The DER of the signed attributes re-tagged as SET OF: what the signature covers. */
  signedAttrsDer: Buffer;
  signedAttrs: Attribute[];
  signatureAlgorithm: string;
  signature: Buffer;
  unsignedAttrs: Attribute[];
}

export interface SignedData {
  eContentType: string;
  eContent: Buffer | null;
  certificates: Buffer[];
  signers: SignerInfo[];
}

function malformed(what: string): GitsignError {
  return new GitsignError('MALFORMED_SIGNATURE', `malformed signature: ${what}`);
}

function parseAttributes(set: Der): Attribute[] {
  return set.children.map((attr) => {
    if (!attr.isUniversal(16)) throw malformed('attribute is not a SEQUENCE');
    const values = attr.child(1, 'attribute values');
    if (!values.isUniversal(17)) throw malformed('attribute values are not a SET');
    return { oid: attr.child(0, 'attribute type').oid, values: values.children };
  });
}

function parseSignerInfo(si: Der): SignerInfo {
  const fields = si.children;
  let i = 1; // skip version
  const sidNode = fields[i++];
  if (!sidNode) throw malformed('missing signer identifier');
  let sid: SignerId;
  if (sidNode.isUniversal(16)) {
    sid = { issuer: sidNode.child(0, 'issuer').raw, serial: sidNode.child(1, 'serial number').content };
  } else if (sidNode.isContext(0)) {
    sid = { subjectKeyId: sidNode.content };
  } else {
    throw malformed('unknown signer identifier');
  }
  const digestAlgNode = fields[i++];
  if (!digestAlgNode) throw malformed('missing digest algorithm');
  const digestAlgorithm = digestAlgNode.child(0, 'digest algorithm').oid;
  let signedAttrsDer: Buffer | null = null;
  let signedAttrs: Attribute[] = [];
  if (fields[i]?.isContext(0)) {
    const node = fields[i++];
    signedAttrsDer = Buffer.from(node.raw);
    signedAttrsDer[0] = 0x31; // [0] IMPLICIT -> SET OF, as signed (RFC 5652 5.4)
    signedAttrs = parseAttributes(node);
  }
  const sigAlgNode = fields[i++];
  const sigNode = fields[i++];
  if (!sigAlgNode || !sigNode || !sigNode.isUniversal(4)) throw malformed('missing signature');
  const unsignedAttrs = fields[i]?.isContext(1) ? parseAttributes(fields[i]) : [];
  if (!signedAttrsDer) throw malformed('no signed attributes (gitsign always signs attributes)');
  return {
    sid,
    digestAlgorithm,
    signedAttrsDer,
    signedAttrs,
    signatureAlgorithm: sigAlgNode.child(0, 'signature algorithm').oid,
    signature: sigNode.content,
    unsignedAttrs,
  };
}

export function parseSignedData(der: Buffer): SignedData {
  const ci = Der.parse(der, 'signature');
  if (!ci.isUniversal(16)) throw malformed('not a CMS ContentInfo');
  if (ci.child(0, 'content type').oid !== OID.signedData) throw malformed('not a CMS SignedData');
  const explicit = ci.child(1, 'content');
  if (!explicit.isContext(0)) throw malformed('SignedData content is not [0] EXPLICIT');
  const sd = explicit.child(0, 'SignedData');
  const f = sd.children;
  let i = 2; // version, digestAlgorithms
  const encap = f[i++];
  if (!encap?.isUniversal(16)) throw malformed('missing encapsulated content info');
  const eContentType = encap.child(0, 'eContentType').oid;
  const eContentNode = encap.children[1];
  const eContent = eContentNode ? eContentNode.child(0, 'eContent').content : null;
  let certificates: Buffer[] = [];
  if (f[i]?.isContext(0)) certificates = f[i++].children.map((c) => c.raw);
  if (f[i]?.isContext(1)) i++; // crls: unused
  const signerSet = f[i];
  if (!signerSet?.isUniversal(17)) throw malformed('missing signerInfos');
  const signers = signerSet.children.map(parseSignerInfo);
  if (signers.length === 0) throw malformed('no signer');
  return { eContentType, eContent, certificates, signers };
}

export function findAttribute(attrs: Attribute[], oid: string): Der[] | null {
  const found = attrs.filter((a) => a.oid === oid);
  if (found.length > 1) throw malformed(`attribute ${oid} appears more than once`);
  return found.length ? found[0].values : null;
}

/** The single value of a required signed attribute. */
export function requiredAttribute(attrs: Attribute[], oid: string, name: string): Der {
  const values = findAttribute(attrs, oid);
  if (!values || values.length !== 1) throw malformed(`signed attribute ${name} missing or not single-valued`);
  return values[0];
}

export function digestName(oid: string): string {
  switch (oid) {
    case OID.sha256:
      return 'sha256';
    case OID.sha384:
      return 'sha384';
    case OID.sha512:
      return 'sha512';
    default:
      throw new GitsignError('UNSUPPORTED_SIGNATURE', `unsupported digest algorithm ${oid}`);
  }
}

export function digest(algorithmOid: string, data: Buffer): Buffer {
  return createHash(digestName(algorithmOid)).update(data).digest();
}
