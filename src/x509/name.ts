import type { Der } from '../asn1/reader';
import { directoryString } from './strings';

/**
 * An X.509 Name (RDNSequence), read and checked when the certificate is parsed: every attribute is an
 * OID and a string of a known type with valid contents, as Go's parser requires. Kept as its
 * received bytes (names are compared byte for byte) and as Go's pkix.Name.String() would print it.
 */
interface Attribute {
  oid: string;
  text: string;
  /** The value's DER, for attributes Go prints as OID=#hex. */
  raw: Buffer;
}

export interface Name {
  /** The Name as received (tag and length included). */
  der: Buffer;
  /** As Go's pkix.Name.String() prints it (e.g. "CN=sigstore-intermediate,O=sigstore.dev"). */
  text: string;
}

export function parseName(el: Der, what: string): Name {
  const attributes: Attribute[] = [];
  for (const rdn of el.items(16, what)) {
    for (const atv of rdn.items(17, `${what} RDN`)) {
      const [type, value, extra] = atv.items(16, `${what} attribute`);
      if (!type || !value || extra) throw atv.error(`${what} attribute is not a type and a value`);
      const oid = type.oid;
      attributes.push({ oid, text: directoryString(value, `${what} attribute ${oid}`), raw: value.raw });
    }
  }
  return { der: el.raw, text: goNameString(attributes) };
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

function goNameString(attributes: Attribute[]): string {
  const known = new Map<string, string[]>();
  const unknown: string[] = [];
  for (const { oid, text, raw } of attributes) {
    if (GO_NAME_ORDER.some(([o]) => o === oid)) {
      const list = known.get(oid) ?? [];
      list.push(escapeRdnValue(text));
      known.set(oid, list);
    } else {
      unknown.push(`${oid}=#${raw.toString('hex')}`);
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
