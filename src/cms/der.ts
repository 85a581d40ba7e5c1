import * as asn1js from 'asn1js';
import { GitsignError } from '../errors';

/**
 * A thin, read-only view over asn1js blocks: tag, children, and the exact received bytes of every
 * element (never a re-encoding), which is what signature checks must hash.
 */
export class Der {
  private constructor(private readonly block: asn1js.AsnType) {}

  static parse(bytes: Uint8Array, what: string): Der {
    const result = asn1js.fromBER(bytes);
    if (result.offset === -1 || result.result.error) {
      throw new GitsignError('MALFORMED_SIGNATURE', `${what}: not valid DER/BER (${result.result.error || 'parse error'})`);
    }
    if (result.offset !== bytes.byteLength) {
      throw new GitsignError('MALFORMED_SIGNATURE', `${what}: trailing bytes after the ASN.1 structure`);
    }
    return new Der(result.result);
  }

  get tagClass(): number {
    return this.block.idBlock.tagClass; // 1 universal, 3 context-specific
  }
  get tagNumber(): number {
    return this.block.idBlock.tagNumber;
  }
  isUniversal(tagNumber: number): boolean {
    return this.tagClass === 1 && this.tagNumber === tagNumber;
  }
  isContext(tagNumber: number): boolean {
    return this.tagClass === 3 && this.tagNumber === tagNumber;
  }

  get children(): Der[] {
    const vb = (this.block as asn1js.Constructed).valueBlock as { value?: asn1js.AsnType[] };
    return Array.isArray(vb.value) ? vb.value.map((b) => new Der(b)) : [];
  }

  child(index: number, what: string): Der {
    const c = this.children[index];
    if (!c) throw new GitsignError('MALFORMED_SIGNATURE', `malformed signature: missing ${what}`);
    return c;
  }

  /** The element exactly as received (tag, length and content). */
  get raw(): Buffer {
    const v = this.block.valueBeforeDecodeView;
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }

  /** Content octets of a primitive element. */
  get content(): Buffer {
    const vb = (this.block as asn1js.Primitive).valueBlock as { valueHexView?: Uint8Array };
    if (vb.valueHexView === undefined) {
      // Constructed OCTET STRING (BER): concatenate the pieces.
      return Buffer.concat(this.children.map((c) => c.content));
    }
    const v = vb.valueHexView;
    return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }

  get oid(): string {
    if (!this.isUniversal(6)) throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: expected an OBJECT IDENTIFIER');
    return (this.block as asn1js.ObjectIdentifier).valueBlock.toString();
  }

  get integer(): bigint {
    if (!this.isUniversal(2)) throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: expected an INTEGER');
    const bytes = this.content;
    let n = 0n;
    for (const b of bytes) n = (n << 8n) | BigInt(b);
    if (bytes.length && bytes[0] & 0x80) n -= 1n << BigInt(bytes.length * 8);
    return n;
  }

  /** UTCTime or GeneralizedTime as a Date. */
  get time(): Date {
    if (this.isUniversal(23)) return (this.block as asn1js.UTCTime).toDate();
    if (this.isUniversal(24)) return (this.block as asn1js.GeneralizedTime).toDate();
    throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: expected a time');
  }
}
