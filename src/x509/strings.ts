import { isUtf8 } from 'node:buffer';
import type { Der } from '../asn1/reader';

/**
 * ASN.1 character strings as Go's crypto/x509 reads them: each type's bytes are checked against its
 * alphabet, and a value of any other type is malformed. Nothing is silently stripped or replaced:
 * `j\xE1ne` in an IA5String is refused, never read as "jane".
 */
const UTF8_STRING = 12;
const NUMERIC_STRING = 18;
const PRINTABLE_STRING = 19;
const T61_STRING = 20;
const IA5_STRING = 22;
const BMP_STRING = 30;

/** PrintableString's alphabet, plus '*' and '&' that real CAs put there and Go tolerates. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?*&]*$/;

/** Bytes that are all 7-bit (IA5 is ASCII). */
function isIa5(b: Buffer): boolean {
  for (const byte of b) if (byte > 0x7f) return false;
  return true;
}

/** An IA5String's text, or a malformed error naming `what`. */
export function ia5Text(b: Buffer, what: string, el: Der): string {
  if (!isIa5(b)) throw el.error(`${what} is not a valid IA5String (it has non-ASCII bytes)`);
  return b.toString('latin1');
}

/** A UTF-8 string's text, or a malformed error naming `what`. */
export function utf8Text(b: Buffer, what: string, el: Der): string {
  if (!isUtf8(b)) throw el.error(`${what} is not valid UTF-8`);
  return b.toString('utf8');
}

/** The text of a directory string (a Name's attribute value), checked as Go's parser does. */
export function directoryString(el: Der, what: string): string {
  if (el.tagClass !== 1 || el.constructed) throw el.error(`${what} is not a string`);
  const b = el.content;
  switch (el.tagNumber) {
    case UTF8_STRING:
      return utf8Text(b, what, el);
    case PRINTABLE_STRING: {
      const s = b.toString('latin1');
      if (!PRINTABLE.test(s)) throw el.error(`${what} is not a valid PrintableString`);
      return s;
    }
    case IA5_STRING:
      return ia5Text(b, what, el);
    case NUMERIC_STRING: {
      const s = b.toString('latin1');
      if (!/^[0-9 ]*$/.test(s)) throw el.error(`${what} is not a valid NumericString`);
      return s;
    }
    case T61_STRING:
      return b.toString('latin1');
    case BMP_STRING: {
      if (b.length % 2 !== 0) throw el.error(`${what} is not a valid BMPString (odd length)`);
      const end = b.length >= 2 && b[b.length - 1] === 0 && b[b.length - 2] === 0 ? b.length - 2 : b.length;
      const swapped = Buffer.from(b.subarray(0, end)).swap16();
      return swapped.toString('utf16le');
    }
    default:
      throw el.error(`${what} has unsupported string type ${el.tagNumber}`);
  }
}

/** A DER UTF8String element (Fulcio's v2 extensions, its username SAN). */
export function utf8StringOf(el: Der, what: string): string {
  if (!el.isUniversal(UTF8_STRING) || el.constructed) throw el.error(`${what} is not a UTF8String`);
  return utf8Text(el.content, what, el);
}
