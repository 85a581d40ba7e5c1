import { createPublicKey, type KeyObject } from 'node:crypto';
import { Der } from '../asn1/reader';
import { GitsignError } from '../errors';
import { type Extensions, parseExtensions } from './extensions';
import { type Name, parseName } from './name';

/**
 * An X.509 certificate read completely, in DER only, when it is received: structure, version, serial,
 * the inner and outer signature algorithms (which must be identical), names, validity, the public key
 * (node:crypto must accept it), and every extension. Whatever is wrong is a MALFORMED_CERTIFICATE
 * naming it; nothing is left to fail later with a runtime error. The checks follow Go's crypto/x509
 * parser, which the Go gitsign uses.
 */
export interface CertificateFields {
  /** The received bytes of the parts a signature check needs (never a re-encoding). */
  tbs: Buffer;
  signatureAlgorithm: string;
  signature: Buffer;
  version: number;
  /** The INTEGER contents, as a CMS issuer-and-serial names it. */
  serial: Buffer;
  issuer: Name;
  subject: Name;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Extensions;
}

export interface ParsedCertificate extends CertificateFields {
  publicKey: KeyObject;
}

const WHAT = 'certificate';
/** RFC 5280 4.1.2.2: serial numbers are at most 20 octets. */
const MAX_SERIAL_OCTETS = 20;
/** The earliest year a certificate time may have: UTCTime starts at 1950, and X.509 is younger. */
const MIN_YEAR = 1950;
/** Curves Go's parser accepts (P-256, P-384, P-521); RSA keys must have at least Go's 1,024 bits. */
const EC_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1']);
const MIN_RSA_BITS = 1024;

function algorithmIdentifier(el: Der | undefined, what: string): Der {
  if (!el) throw malformed(`missing ${what}`);
  const items = el.items(16, what);
  if (items.length < 1 || items.length > 2) throw el.error(`${what} is not an OID and optional parameters`);
  void items[0].oid; // reading it checks it
  return el;
}

function checkSpki(spki: Der): void {
  const [alg, key, extra] = spki.items(16, 'subjectPublicKeyInfo');
  algorithmIdentifier(alg, 'public key algorithm');
  if (!key || extra) throw spki.error('subjectPublicKeyInfo is not an algorithm and a key');
  void key.bitString; // reading it checks its unused bits
}

/**
 * The exact DER an EC key on a curve of EC_CURVES starts with when its point is uncompressed: SPKI
 * and AlgorithmIdentifier headers, id-ecPublicKey, the curve's OID, and the BIT STRING header with no
 * unused bits and the 0x04 prefix. Then come X and Y, `size` bytes each, and nothing else.
 */
const EC_SPKI_PREFIXES = [
  { crv: 'P-256', size: 32, prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex') },
  { crv: 'P-384', size: 48, prefix: Buffer.from('3076301006072a8648ce3d020106052b8104002203620004', 'hex') },
  { crv: 'P-521', size: 66, prefix: Buffer.from('30819b301006072a8648ce3d020106052b81040023038186000004', 'hex') },
];

/**
 * An uncompressed EC key on a curve we accept, imported as a JWK: OpenSSL 3's DER decoder costs 2-3
 * times as much per key (every signature brings a new leaf). node:crypto still refuses a point that is
 * not on the curve or a coordinate out of range, as the DER path does. Any other encoding (compressed
 * points, explicit parameters, other curves, RSA, Ed25519) returns null and takes the DER path.
 */
function uncompressedEcKey(spki: Buffer): KeyObject | null {
  const ec = EC_SPKI_PREFIXES.find((c) => spki.length === c.prefix.length + 2 * c.size && spki.subarray(0, c.prefix.length).equals(c.prefix));
  if (!ec) return null;
  const at = ec.prefix.length;
  const jwk = { kty: 'EC', crv: ec.crv, x: spki.toString('base64url', at, at + ec.size), y: spki.toString('base64url', at + ec.size) };
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw invalidKey();
  }
}

function invalidKey(): GitsignError {
  return malformed('its public key is not a valid key (node:crypto refuses it)');
}

function publicKeyOf(spki: Buffer): KeyObject {
  const ec = uncompressedEcKey(spki);
  if (ec) return ec;
  let k: KeyObject;
  try {
    k = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw invalidKey();
  }
  const details = k.asymmetricKeyDetails ?? {};
  if (k.asymmetricKeyType === 'ec' && EC_CURVES.has(details.namedCurve ?? '')) return k;
  if (k.asymmetricKeyType === 'rsa' && (details.modulusLength ?? 0) >= MIN_RSA_BITS) return k;
  if (k.asymmetricKeyType === 'ed25519') return k;
  const kind = k.asymmetricKeyType === 'ec' ? `EC key on curve ${details.namedCurve ?? 'unknown'}` : k.asymmetricKeyType === 'rsa' ? `${details.modulusLength}-bit RSA key` : `${k.asymmetricKeyType ?? 'unknown'} key`;
  throw malformed(`its public key is an unsupported ${kind}`);
}

function validityTime(el: Der | undefined, what: string): Date {
  if (!el) throw malformed(`missing ${what}`);
  const t = el.time;
  if (t.getUTCFullYear() < MIN_YEAR) throw el.error(`${what} is in the year ${t.getUTCFullYear()}, before any certificate`);
  return t;
}

function serialOf(el: Der | undefined): Buffer {
  if (!el) throw malformed('missing serial number');
  const b = el.integer;
  if (b[0] & 0x80) throw el.error('serial number is negative');
  if (b.length - (b[0] === 0 ? 1 : 0) > MAX_SERIAL_OCTETS) throw el.error(`serial number is longer than ${MAX_SERIAL_OCTETS} octets`);
  return b;
}

/** The certificate and its public key, which node:crypto must accept (an EC key on a curve Go accepts, RSA, Ed25519). */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const fields = parseCertificateFields(der);
  return { ...fields, publicKey: publicKeyOf(fields.spki) };
}

/**
 * Every field checked as parseCertificate checks it, but the key left as bytes: a trusted root's
 * CA certificates are read before a chain is built, and only the issuer's key is ever made.
 */
export function parseCertificateFields(der: Buffer): CertificateFields {
  const root = Der.parse(der, WHAT, { code: 'MALFORMED_CERTIFICATE', der: true });
  const [tbsEl, outerAlg, sigEl, extra] = root.items(16, 'certificate');
  if (!tbsEl || !outerAlg || !sigEl || extra) throw malformed('it is not a TBSCertificate, a signature algorithm and a signature');
  const fields = tbsEl.items(16, 'tbsCertificate');
  let i = 0;
  let version = 0;
  if (fields[i]?.isContext(0)) {
    const [v, more] = fields[i++].children;
    if (!v || more) throw malformed('version field does not hold one INTEGER');
    version = v.smallInteger;
    if (version > 2) throw malformed(`version ${version + 1} is not an X.509 version`);
  }
  const serial = serialOf(fields[i++]);
  const innerAlg = algorithmIdentifier(fields[i++], 'tbsCertificate signature algorithm');
  algorithmIdentifier(outerAlg, 'signature algorithm');
  if (!innerAlg.raw.equals(outerAlg.raw)) throw malformed('its inner and outer signature algorithms differ');
  const issuerEl = fields[i++];
  if (!issuerEl) throw malformed('missing issuer');
  const issuer = parseName(issuerEl, 'issuer');
  const validity = fields[i++];
  if (!validity) throw malformed('missing validity');
  const [nb, na, more] = validity.items(16, 'validity');
  const notBefore = validityTime(nb, 'notBefore');
  const notAfter = validityTime(na, 'notAfter');
  if (more) throw validity.error('validity has more than two times');
  if (notAfter < notBefore) throw malformed('its notAfter is before its notBefore');
  const subjectEl = fields[i++];
  if (!subjectEl) throw malformed('missing subject');
  const subject = parseName(subjectEl, 'subject');
  const spkiEl = fields[i++];
  if (!spkiEl) throw malformed('missing subjectPublicKeyInfo');
  checkSpki(spkiEl);
  // issuerUniqueID [1] and subjectUniqueID [2] (v2 and v3), extensions [3] (v3 only).
  for (const tag of [1, 2]) {
    if (fields[i]?.isContext(tag)) {
      if (version < 1) throw malformed('a version 1 certificate has a unique identifier');
      // [n] IMPLICIT BIT STRING, unused by any check (Go skips it too).
      if (fields[i++].constructed) throw malformed('a unique identifier is not a BIT STRING');
    }
  }
  let extField: Der | undefined;
  if (fields[i]?.isContext(3)) {
    if (version < 2) throw malformed('a certificate before version 3 has extensions');
    extField = fields[i++];
  }
  if (i !== fields.length) throw malformed('tbsCertificate has unexpected fields');
  const extensions = parseExtensions(extField, WHAT);
  const sig = sigEl.bitString;
  if (sig.unused !== 0) throw malformed('its signature BIT STRING has unused bits');
  return {
    tbs: tbsEl.raw,
    signatureAlgorithm: innerAlg.child(0, 'algorithm').oid,
    signature: sig.bytes,
    version,
    serial,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki: spkiEl.raw,
    extensions,
  };
}

function malformed(why: string): GitsignError {
  return new GitsignError('MALFORMED_CERTIFICATE', `malformed ${WHAT}: ${why}`);
}
