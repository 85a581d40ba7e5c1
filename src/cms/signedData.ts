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

function parseAttributes(set: Der, what: string): Attribute[] {
  if (!set.constructed) throw malformed(`${what} are not a SET`);
  return set.children.map((attr) => {
    const [type, values, extra] = attr.items(16, 'attribute');
    if (!type || !values || extra) throw malformed('attribute is not a type and a set of values');
    return { oid: type.oid, values: values.items(17, 'attribute values') };
  });
}

/** An AlgorithmIdentifier's OID (parameters, when present, are not used by gitsign's algorithms). */
function algorithmOid(el: Der | undefined, what: string): string {
  if (!el) throw malformed(`missing ${what}`);
  const [alg, , extra] = el.items(16, what);
  if (!alg || extra) throw malformed(`${what} is not an OID and optional parameters`);
  return alg.oid;
}

function parseSignerInfo(si: Der): SignerInfo {
  const fields = si.items(16, 'signerInfo');
  let i = 0;
  const versionNode = fields[i++];
  if (!versionNode) throw malformed('missing signerInfo version');
  const version = versionNode.smallInteger;
  const sidNode = fields[i++];
  if (!sidNode) throw malformed('missing signer identifier');
  let sid: SignerId;
  if (sidNode.isUniversal(16)) {
    const [issuer, serial, extra] = sidNode.items(16, 'issuerAndSerialNumber');
    if (!issuer?.isUniversal(16) || !serial?.isUniversal(2) || extra) throw malformed('signer identifier is not an issuer and a serial number');
    // Compared byte for byte with the certificate's serial, whose encoding the certificate parser checks.
    sid = { issuer: issuer.raw, serial: serial.content };
  } else if (sidNode.isContext(0)) {
    sid = { subjectKeyId: sidNode.content };
  } else {
    throw malformed('unknown signer identifier');
  }
  // RFC 5652 5.3: version 1 names the signer by issuer and serial, version 3 by key identifier.
  if (version !== ('issuer' in sid ? 1 : 3)) throw malformed(`signerInfo version ${version} does not match its signer identifier`);
  const digestAlgorithm = algorithmOid(fields[i++], 'digest algorithm');
  let signedAttrsDer: Buffer | null = null;
  let signedAttrs: Attribute[] = [];
  if (fields[i]?.isContext(0)) {
    const node = fields[i++];
    signedAttrsDer = Buffer.from(node.raw);
    signedAttrsDer[0] = 0x31; // [0] IMPLICIT -> SET OF, as signed (RFC 5652 5.4)
    signedAttrs = parseAttributes(node, 'signed attributes');
  }
  const signatureAlgorithm = algorithmOid(fields[i++], 'signature algorithm');
  const sigNode = fields[i++];
  if (!sigNode || !sigNode.isUniversal(4)) throw malformed('missing signature');
  const unsignedAttrs = fields[i]?.isContext(1) ? parseAttributes(fields[i++], 'unsigned attributes') : [];
  if (i !== fields.length) throw malformed('signerInfo has unexpected fields');
  if (!signedAttrsDer) throw malformed('no signed attributes (gitsign always signs attributes)');
  return { sid, digestAlgorithm, signedAttrsDer, signedAttrs, signatureAlgorithm, signature: sigNode.content, unsignedAttrs };
}

export function parseSignedData(der: Buffer): SignedData {
  const ci = Der.parse(der, 'signature');
  const [contentType, explicit, extraCi] = ci.items(16, 'CMS ContentInfo');
  if (!contentType || contentType.oid !== OID.signedData) throw malformed('not a CMS SignedData');
  if (!explicit?.isContext(0) || extraCi) throw malformed('SignedData content is not [0] EXPLICIT');
  const [sd, extraContent] = explicit.children;
  if (!sd || extraContent) throw malformed('SignedData content is not one SignedData');
  const f = sd.items(16, 'SignedData');
  let i = 0;
  const version = f[i++];
  if (!version) throw malformed('missing SignedData version');
  if (![1, 3, 4, 5].includes(version.smallInteger)) throw malformed(`SignedData version ${version.smallInteger} is not a CMS version`);
  const digestAlgorithmsNode = f[i++];
  if (!digestAlgorithmsNode) throw malformed('missing digest algorithms');
  const digestAlgorithms = digestAlgorithmsNode.items(17, 'digest algorithms').map((a) => algorithmOid(a, 'digest algorithm'));
  const encap = f[i++];
  if (!encap?.isUniversal(16)) throw malformed('missing encapsulated content info');
  const [eContentType, eContentNode, extraEncap] = encap.children;
  if (!eContentType || extraEncap) throw malformed('encapsulated content info is not a type and optional content');
  let eContent: Buffer | null = null;
  if (eContentNode) {
    if (!eContentNode.isContext(0)) throw malformed('eContent is not [0] EXPLICIT');
    const octets = eContentNode.child(0, 'eContent');
    if (!octets.isUniversal(4)) throw malformed('eContent is not an OCTET STRING');
    eContent = octets.content;
  }
  let certificates: Buffer[] = [];
  if (f[i]?.isContext(0)) {
    const certs = f[i++];
    if (!certs.constructed) throw malformed('certificates are not a SET');
    // Each is parsed (strictly, as DER) by the X.509 model; here it must at least be a SEQUENCE.
    certificates = certs.children.map((c) => {
      if (!c.isUniversal(16)) throw malformed('an entry of the certificates is not a certificate');
      return c.raw;
    });
  }
  if (f[i]?.isContext(1)) i++; // crls: unused
  const signerSet = f[i++];
  if (!signerSet) throw malformed('missing signerInfos');
  const signers = signerSet.items(17, 'signerInfos').map(parseSignerInfo);
  if (i !== f.length) throw malformed('SignedData has unexpected fields');
  if (signers.length === 0) throw malformed('no signer');
  const unlisted = signers.find((si) => !digestAlgorithms.includes(si.digestAlgorithm));
  if (unlisted) throw malformed(`the signer's digest algorithm ${unlisted.digestAlgorithm} is not among the SignedData's digest algorithms`);
  return { eContentType: eContentType.oid, eContent, certificates, signers };
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
