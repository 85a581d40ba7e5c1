/**
 * A small DER writer: every function returns the complete encoding of one element, so structures are
 * built bottom-up from Buffers and the bytes that get signed are exactly the bytes that get sent.
 */
export type DerBytes = Buffer;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): DerBytes {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export const seq = (...items: DerBytes[]): DerBytes => tlv(0x30, Buffer.concat(items));

/** SET OF in DER order (elements sorted by their encodings). */
export const setOf = (...items: DerBytes[]): DerBytes => tlv(0x31, Buffer.concat([...items].sort(Buffer.compare)));

export const nul = (): DerBytes => Buffer.from([0x05, 0x00]);

export const bool = (v: boolean): DerBytes => Buffer.from([0x01, 0x01, v ? 0xff : 0x00]);

/** INTEGER from a non-negative bigint or number, or from unsigned big-endian bytes. */
export function int(v: bigint | number | Buffer): DerBytes {
  let bytes: Buffer;
  if (Buffer.isBuffer(v)) {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    bytes = v.subarray(i);
    if (bytes.length === 0) bytes = Buffer.from([0]);
  } else {
    let n = BigInt(v);
    if (n < 0n) throw new Error('negative INTEGER not supported');
    const hex = n.toString(16);
    bytes = Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
  }
  if (bytes[0] & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(0x02, bytes);
}

export function oid(dotted: string): DerBytes {
  const parts = dotted.split('.').map((p) => BigInt(p));
  const out: number[] = [];
  const push = (n: bigint): void => {
    const chunk: number[] = [Number(n & 0x7fn)];
    for (n >>= 7n; n > 0n; n >>= 7n) chunk.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  push(parts[0] * 40n + parts[1]);
  parts.slice(2).forEach(push);
  return tlv(0x06, Buffer.from(out));
}

export const octets = (b: Buffer): DerBytes => tlv(0x04, b);
export const bits = (b: Buffer, unused = 0): DerBytes => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
export const utf8 = (s: string): DerBytes => tlv(0x0c, Buffer.from(s, 'utf8'));
export const ia5 = (s: string): DerBytes => tlv(0x16, Buffer.from(s, 'ascii'));
export const printable = (s: string): DerBytes => tlv(0x13, Buffer.from(s, 'ascii'));

/** Context-specific EXPLICIT [n] wrapper (constructed). */
export const explicit = (n: number, inner: DerBytes): DerBytes => tlv(0xa0 | n, inner);

/** Context-specific IMPLICIT [n] primitive with raw content. */
export const implicitPrimitive = (n: number, content: Buffer): DerBytes => tlv(0x80 | n, content);

/** Context-specific IMPLICIT [n] constructed with the given children. */
export const implicitConstructed = (n: number, ...items: DerBytes[]): DerBytes => tlv(0xa0 | n, Buffer.concat(items));

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 rule), whole seconds, Z. */
export function time(d: Date): DerBytes {
  const y = d.getUTCFullYear();
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(0x17, Buffer.from(pad(y % 100) + rest, 'ascii'));
  return generalizedTime(d);
}

export function generalizedTime(d: Date): DerBytes {
  const s = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return tlv(0x18, Buffer.from(s, 'ascii'));
}

/** AlgorithmIdentifier with absent parameters (ECDSA) or NULL parameters (RSA, hashes in some places). */
export const algorithm = (dotted: string, nullParams = false): DerBytes => (nullParams ? seq(oid(dotted), nul()) : seq(oid(dotted)));
