import type { KeyObject } from 'node:crypto';
import { Der } from '../asn1/reader';
import { OID } from '../cms/oids';
import { RSA_ENCRYPTION, SIGNATURE_HASH, SIGNATURE_KEY_TYPE } from '../x509/algorithms';

/**
 * The layout of an RFC 3161 TimeStampResp, checked element by element with our DER reader before
 * @sigstore/core reads it. That library reads the token by position and lazily, so a missing or
 * retyped element surfaces as a JavaScript error in the middle of a check; and it verifies the
 * signature with the hash its signatureAlgorithm names, or with none when it knows no such OID (then
 * node:crypto picks a default and any unknown OID passes). Here each element the library reads must
 * be there with its type; signatureMismatch then holds the SignerInfo's signatureAlgorithm to the
 * authority's key type and to its digestAlgorithm.
 *
 * Returns null when the layout is sound, else what is wrong, as a phrase.
 */
const TST_INFO = '1.2.840.113549.1.9.16.1.4';
const HASHES: Record<string, { name: string; size: number }> = {
  [OID.sha256]: { name: 'sha256', size: 32 },
  [OID.sha384]: { name: 'sha384', size: 48 },
  [OID.sha512]: { name: 'sha512', size: 64 },
};

export interface TokenLayout {
  /** The SignerInfo's digest algorithm (sha256, sha384, sha512). */
  digest: string;
  /** The SignerInfo's signature algorithm OID. */
  signatureAlgorithm: string;
  genTime: Date;
}

class Bad extends Error {}

function need(ok: boolean, what: string): void {
  if (!ok) throw new Bad(what);
}

/** DER: a SEQUENCE or SET is constructed, a string primitive (the library reads either form its own way). */
const isSeq = (el: Der): boolean => el.isUniversal(16) && el.constructed;
const isSet = (el: Der): boolean => el.isUniversal(17) && el.constructed;
const isOctets = (el: Der): boolean => el.isUniversal(4) && !el.constructed;

function kids(el: Der | undefined, what: string, min: number): Der[] {
  need(el !== undefined && el.constructed, `${what} is missing or not a structure`);
  const c = (el as Der).children;
  need(c.length >= min, `${what} has ${c.length} elements, fewer than ${min}`);
  return c;
}

function oidOf(el: Der | undefined, what: string): string {
  need(el !== undefined && el.isUniversal(6), `${what} is not an OBJECT IDENTIFIER`);
  return (el as Der).oid;
}

function hashOf(algId: Der | undefined, what: string): { name: string; size: number } {
  const hash = HASHES[oidOf(kids(algId, what, 1)[0], what)];
  need(hash !== undefined, `${what} is not SHA-256, SHA-384 or SHA-512`);
  return hash;
}

function tstInfoOf(encap: Der | undefined): Date {
  const [type, explicit] = kids(encap, 'the encapsulated content', 2);
  need(oidOf(type, 'the encapsulated content type') === TST_INFO, 'the encapsulated content is not a TSTInfo');
  const [octets] = kids(explicit, 'the encapsulated content', 1);
  need(explicit.isContext(0) && isOctets(octets), 'the encapsulated content is not an OCTET STRING');
  const tst = Der.parse(octets.content, 'TSTInfo');
  need(isSeq(tst), 'the TSTInfo is not a SEQUENCE');
  const info = kids(tst, 'the TSTInfo', 5);
  need(info[0].isUniversal(2), 'the TSTInfo version is not an INTEGER');
  oidOf(info[1], 'the TSTInfo policy');
  const [algId, digest] = kids(info[2], 'the message imprint', 2);
  const hash = hashOf(algId, 'the message imprint algorithm');
  need(isSeq(info[2]) && isSeq(algId) && isOctets(digest) && digest.content.length === hash.size, 'the message imprint is not a digest of its algorithm');
  need(info[3].isUniversal(2), 'the TSTInfo serial number is not an INTEGER');
  need(info[4].isUniversal(24), 'the TSTInfo genTime is not a GeneralizedTime');
  const genTime = info[4].time;
  need(!Number.isNaN(genTime.getTime()), 'the TSTInfo genTime is not a time');
  return genTime;
}

function signerInfoOf(signerInfos: Der | undefined): { digest: string; signatureAlgorithm: string } {
  need(signerInfos !== undefined && isSet(signerInfos), 'the signer infos are not a SET');
  const infos = kids(signerInfos, 'the signer infos', 1);
  need(infos.length === 1, `the token has ${infos.length} signer infos, not one`);
  const si = kids(infos[0], 'the signer info', 6);
  need(si[0].isUniversal(2), 'the signer info version is not an INTEGER');
  const sid = kids(si[1], 'the signer identifier', 2);
  need(isSeq(infos[0]) && isSeq(si[1]) && isSeq(sid[0]) && sid[1].isUniversal(2), 'the signer identifier is not an issuer and serial number');
  const digest = hashOf(si[2], 'the signer digest algorithm');
  need(si[3].isContext(0), 'the signer info has no signed attributes');
  const attrs = kids(si[3], 'the signed attributes', 1);
  for (const a of attrs) {
    need(isSeq(a), 'a signed attribute is not a SEQUENCE');
    oidOf(kids(a, 'a signed attribute', 2)[0], 'a signed attribute type');
  }
  const md = attrs.filter((a) => a.children[0].oid === OID.messageDigest);
  need(md.length === 1, 'the signed attributes do not hold one message digest');
  const mdValues = kids(md[0].children[1], 'the message digest attribute', 1);
  need(isSet(md[0].children[1]) && isOctets(mdValues[0]) && mdValues[0].content.length === digest.size, 'the message digest attribute is not a digest of the signer digest algorithm');
  const signatureAlgorithm = oidOf(kids(si[4], 'the signature algorithm', 1)[0], 'the signature algorithm');
  need(isSeq(si[2]) && isSeq(si[4]) && isOctets(si[5]) && si[5].content.length > 0, 'the signature is not an OCTET STRING');
  return { digest: digest.name, signatureAlgorithm };
}

function layout(resp: Buffer): TokenLayout {
  const [status, token] = kids(Der.parse(resp, 'timestamp reply'), 'the timestamp reply', 2);
  need(kids(status, 'the status', 1)[0].isUniversal(2), 'the status is not an INTEGER');
  const contentInfo = kids(token, 'the timestamp token', 2);
  need(contentInfo.length === 2, 'the timestamp token is not a content type and content');
  need(oidOf(contentInfo[0], 'the timestamp token content type') === OID.signedData, 'the timestamp token is not CMS SignedData');
  const [signedData] = kids(contentInfo[1], 'the timestamp token content', 1);
  need(isSeq(token) && contentInfo[1].isContext(0) && isSeq(signedData), 'the timestamp token content is not a SignedData');
  const sd = kids(signedData, 'the SignedData', 4);
  need(sd[0].isUniversal(2) && isSet(sd[1]) && isSeq(sd[2]), 'the SignedData version or digest algorithms are malformed');
  const genTime = tstInfoOf(sd[2]);
  return { ...signerInfoOf(sd[sd.length - 1]), genTime };
}

/** The layout of a whole TimeStampResp, or what is wrong with it. */
export function timestampLayout(resp: Buffer): TokenLayout | string {
  try {
    return layout(resp);
  } catch (err) {
    // Our reader's errors name what is malformed (they are GitsignErrors); nothing else is expected.
    if (err instanceof Bad || (err as Error).name === 'GitsignError') return (err as Error).message;
    return 'it is not valid DER';
  }
}

/**
 * Why the token's signature algorithm cannot be the authority's, or null when it fits: ECDSA with the
 * signer's digest algorithm for an EC key; for an RSA key, RSA with that digest (or rsaEncryption, whose
 * hash is the digest algorithm's).
 */
export function signatureMismatch(layout: TokenLayout, key: KeyObject): string | null {
  const alg = layout.signatureAlgorithm;
  const type = key.asymmetricKeyType;
  const hash = type === 'rsa' && alg === RSA_ENCRYPTION ? layout.digest : type !== undefined && SIGNATURE_KEY_TYPE[alg] === type ? SIGNATURE_HASH[alg] : undefined;
  if (hash === undefined) return `its signature algorithm ${alg} is not one for the timestamp authority's ${type ?? 'unknown'} key`;
  if (hash !== layout.digest) return `its signature algorithm (with ${hash}) disagrees with its digest algorithm (${layout.digest})`;
  return null;
}
