import { Der } from '../asn1/reader';
import { GitsignError } from '../errors';
import { ia5Text, utf8StringOf } from './strings';

/**
 * A certificate's extensions, each read when the certificate is parsed and checked to be what its OID
 * says, as Go's crypto/x509 parser does (so garbage fails with our error at parse time, not later).
 * Which extensions Go handles decides which critical ones a verifier may accept: the others are
 * listed in `unhandledCritical`, and a leaf holding one is refused (see verify/chain.ts).
 */
export const EXT = {
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
} as const;

/** Fulcio's OtherName SAN (a username) and its extension arc (docs/oid-info.md in sigstore/fulcio). */
export const FULCIO_USERNAME_SAN = '1.3.6.1.4.1.57264.1.7';
/** The extended key usage Fulcio leaves and their CAs carry. */
export const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const FULCIO_ARC = '1.3.6.1.4.1.57264.1.';
/** Fulcio's extensions .8 to .22 are DER UTF8Strings (.1 to .6 are raw bytes). */
const FULCIO_FIRST_DER_STRING = 8;
const FULCIO_LAST_DER_STRING = 22;

/** RFC 5280 KeyUsage bits (bit n of the BIT STRING is 1 << n here). */
export const KEY_USAGE = { digitalSignature: 1 << 0, keyCertSign: 1 << 5 } as const;

export interface Extension {
  oid: string;
  critical: boolean;
  /** The extnValue contents (the DER inside the OCTET STRING). */
  value: Buffer;
}

export interface SubjectAltNames {
  dns: string[];
  emails: string[];
  ips: string[];
  uris: string[];
  otherNames: string[];
}

export interface Extensions {
  list: Extension[];
  keyUsage?: number;
  basicConstraints?: { isCA: boolean; pathLen?: number };
  extKeyUsage?: string[];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
  sans: SubjectAltNames;
  hasNameConstraints: boolean;
  /** Critical extensions no Go verifier handles: a certificate with one must be refused. */
  unhandledCritical: string[];
}

type Handler = (value: Der, out: Extensions) => void;

/** Extensions Go's verifier handles (a critical one of these is understood); the others are unhandled. */
const HANDLERS: Record<string, Handler> = {
  [EXT.keyUsage]: (v, out) => {
    const { bytes } = v.bitString;
    let usage = 0;
    for (let bit = 0; bit < 9 && bit < bytes.length * 8; bit++) if (bytes[bit >> 3] & (0x80 >> (bit & 7))) usage |= 1 << bit;
    out.keyUsage = usage;
  },
  [EXT.basicConstraints]: (v, out) => {
    const items = v.items(16, 'basicConstraints');
    let i = 0;
    const isCA = items[i]?.isUniversal(1) ? items[i++].boolean : false;
    const pathLen = items[i]?.isUniversal(2) ? items[i++].smallInteger : undefined;
    if (i !== items.length) throw v.error('basicConstraints has unexpected fields');
    out.basicConstraints = { isCA, ...(pathLen !== undefined ? { pathLen } : {}) };
  },
  // Handled even when it holds only an OtherName (Fulcio's username SAN): Go then calls it unhandled,
  // and cosign and the Go gitsign take it off that list before verifying; we read OtherNames.
  [EXT.subjectAltName]: (v, out) => {
    const names = v.items(16, 'subjectAltName');
    if (names.length === 0) throw v.error('subjectAltName holds no name');
    for (const gn of names) readGeneralName(gn, out.sans);
  },
  [EXT.nameConstraints]: (v, out) => {
    v.items(16, 'nameConstraints');
    out.hasNameConstraints = true;
  },
  [EXT.crlDistributionPoints]: (v) => {
    for (const dp of v.items(16, 'cRLDistributionPoints')) dp.items(16, 'cRLDistributionPoint');
  },
  [EXT.certificatePolicies]: (v) => {
    for (const p of v.items(16, 'certificatePolicies')) firstOid(p, 'policyInformation');
  },
  [EXT.extKeyUsage]: (v, out) => {
    out.extKeyUsage = v.items(16, 'extKeyUsage').map((o) => o.oid);
  },
};

/** Extensions Go reads but RFC 5280 forbids marking critical: such a certificate is malformed. */
const NEVER_CRITICAL: Record<string, Handler> = {
  [EXT.subjectKeyId]: (v, out) => {
    if (!v.isUniversal(4)) throw v.error('subjectKeyIdentifier is not an OCTET STRING');
    out.subjectKeyId = v.content;
  },
  [EXT.authorityKeyId]: (v, out) => {
    const items = v.items(16, 'authorityKeyIdentifier');
    if (items[0]?.isContext(0)) out.authorityKeyId = items[0].content;
  },
  [EXT.authorityInfoAccess]: (v) => {
    for (const ad of v.items(16, 'authorityInfoAccess')) firstOid(ad, 'accessDescription');
  },
};

/** A SEQUENCE that starts with an OID (a policy, an access description). */
function firstOid(el: Der, what: string): string {
  const [first] = el.items(16, what);
  if (!first) throw el.error(`${what} is empty`);
  return first.oid;
}

/** A Fulcio extension whose value must be what Fulcio writes; others are opaque. */
function checkOther(ext: Extension, v: () => Der): void {
  if (ext.oid === EXT.sctList) return checkSctList(v());
  if (!ext.oid.startsWith(FULCIO_ARC)) return;
  const n = Number(ext.oid.slice(FULCIO_ARC.length));
  if (n >= FULCIO_FIRST_DER_STRING && n <= FULCIO_LAST_DER_STRING) utf8StringOf(v(), 'its value');
}

/**
 * The embedded SCT list (RFC 6962 3.3): an OCTET STRING holding a TLS list of SCTs. Each length is
 * checked, so the SCT verifier never reads past an entry's end.
 */
function checkSctList(v: Der): void {
  if (!v.isUniversal(4)) throw v.error('SCT list is not an OCTET STRING');
  const b = v.content;
  const bad = (why: string): never => {
    throw v.error(`SCT list ${why}`);
  };
  if (b.length < 2 || b.readUInt16BE(0) !== b.length - 2) bad('length does not match its contents');
  for (let pos = 2; pos < b.length; ) {
    if (pos + 2 > b.length) bad('is truncated');
    const len = b.readUInt16BE(pos);
    const end = pos + 2 + len;
    if (end > b.length) bad('entry runs past the end');
    // version(1) logID(32) timestamp(8) extensions(2+n) hash(1) signature algorithm(1) signature(2+n)
    let p = pos + 2;
    if (len < 47 || b[p] !== 0) bad('entry is not a version 1 SCT');
    p += 33;
    if (b.readBigUInt64BE(p) > 8_640_000_000_000_000n) bad('entry has an impossible timestamp');
    p += 8;
    p += 2 + b.readUInt16BE(p);
    if (p + 4 > end) bad('entry is truncated');
    p += 2;
    p += 2 + b.readUInt16BE(p);
    if (p !== end) bad('entry length does not match its fields');
    pos = end;
  }
}

/** One GeneralName of a SAN; names Go reads must be well-formed (IA5 text, 4- or 16-byte IPs). */
function readGeneralName(gn: Der, sans: SubjectAltNames): void {
  if (gn.tagClass !== 3) throw gn.error('subjectAltName entry is not a GeneralName');
  const primitive = (what: string): Buffer => {
    if (gn.constructed) throw gn.error(`subjectAltName ${what} is constructed`);
    return gn.content;
  };
  switch (gn.tagNumber) {
    case 1:
      sans.emails.push(ia5Text(primitive('rfc822Name'), 'subjectAltName rfc822Name', gn));
      return;
    case 2:
      sans.dns.push(ia5Text(primitive('dNSName'), 'subjectAltName dNSName', gn));
      return;
    case 6:
      sans.uris.push(ia5Text(primitive('uniformResourceIdentifier'), 'subjectAltName URI', gn));
      return;
    case 7: {
      const ip = primitive('iPAddress');
      if (ip.length !== 4 && ip.length !== 16) throw gn.error(`subjectAltName iPAddress has ${ip.length} bytes (not 4 or 16)`);
      sans.ips.push(formatIp(ip));
      return;
    }
    case 0: {
      // OtherName { type-id, [0] EXPLICIT value }: Fulcio's username SAN is a UTF8String.
      if (!gn.constructed) throw gn.error('subjectAltName otherName is not constructed');
      const [type, value, extra] = gn.children;
      if (!type || !value?.isContext(0) || !value.constructed || extra) throw gn.error('subjectAltName otherName is not a type and a [0] value');
      const [inner, more] = value.children;
      if (!inner || more) throw gn.error('subjectAltName otherName value is not one element');
      if (type.oid === FULCIO_USERNAME_SAN) sans.otherNames.push(utf8StringOf(inner, 'subjectAltName otherName'));
      return;
    }
    default:
    // x400Address, directoryName, ediPartyName, registeredID: not identities gitsign reports.
  }
}

function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  const parts: string[] = [];
  for (let i = 0; i < b.length; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return parts.join(':');
}

/** Reads the [3] extensions field of a TBSCertificate (absent: no extensions). */
export function parseExtensions(field: Der | undefined, what: string): Extensions {
  const list: Extension[] = [];
  if (field) {
    const [seq, extra] = field.children;
    if (!seq || extra) throw field.error('extensions field does not hold one SEQUENCE');
    for (const e of seq.items(16, 'extensions')) {
      const [idEl, second, third, fourth] = e.items(16, 'extension');
      if (!idEl || !second || fourth || (third && !second.isUniversal(1))) throw e.error('extension is not an OID, a criticality and a value');
      const valueEl = third ?? second;
      if (!valueEl.isUniversal(4) || valueEl.constructed) throw valueEl.error(`extension ${idEl.oid} value is not an OCTET STRING`);
      list.push({ oid: idEl.oid, critical: third ? second.boolean : false, value: valueEl.content });
    }
  }
  return readExtensions(list, what);
}

/**
 * Interprets a certificate's extensions (already split into OID, criticality and value): each value
 * is checked to be what its OID says, and no OID may appear twice.
 */
function readExtensions(list: Extension[], what: string): Extensions {
  const out: Extensions = { list, sans: { dns: [], emails: [], ips: [], uris: [], otherNames: [] }, hasNameConstraints: false, unhandledCritical: [] };
  const seen = new Set<string>();
  for (const ext of list) {
    const { oid, critical } = ext;
    if (seen.has(oid)) throw new GitsignError('MALFORMED_CERTIFICATE', `malformed ${what}: extension ${oid} appears more than once`);
    seen.add(oid);
    const value = (): Der => Der.parse(ext.value, `${what} extension ${oid}`, { code: 'MALFORMED_CERTIFICATE', der: true });
    const handler = HANDLERS[oid];
    const nonCritical = NEVER_CRITICAL[oid];
    if (handler) handler(value(), out);
    else if (nonCritical) {
      if (critical) throw new GitsignError('MALFORMED_CERTIFICATE', `malformed ${what}: extension ${oid} is marked critical, which RFC 5280 forbids`);
      nonCritical(value(), out);
    } else {
      checkOther(ext, value);
      if (critical) out.unhandledCritical.push(oid);
    }
  }
  return out;
}
