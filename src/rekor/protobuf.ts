import { GitsignError } from '../errors';

/**
 * The few protobuf wire-format pieces needed for Rekor's TransparencyLogEntry (which gitsign embeds in
 * binary form; @sigstore/protobuf-specs only has JSON codecs).
 */
export type Field = { num: number; wire: 0; value: bigint } | { num: number; wire: 2; value: Buffer };

function bad(what: string): GitsignError {
  return new GitsignError('MALFORMED_SIGNATURE', `malformed embedded log entry: ${what}`);
}

export function readFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (pos >= buf.length) throw bad('truncated varint');
      const b = buf[pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
    throw bad('varint too long');
  };
  while (pos < buf.length) {
    const key = varint();
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (num === 0) throw bad('field number 0');
    if (wire === 0) {
      out.push({ num, wire: 0, value: varint() });
    } else if (wire === 2) {
      const len = Number(varint());
      if (pos + len > buf.length) throw bad('truncated field');
      out.push({ num, wire: 2, value: buf.subarray(pos, pos + len) });
      pos += len;
    } else {
      throw bad(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function varintBytes(n: bigint): number[] {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, n);
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v) b |= 0x80;
    bytes.push(b);
  } while (v);
  return bytes;
}

/** Encodes fields in the order given (callers give field-number order, as Go's proto.Marshal does). */
export function writeFields(fields: Field[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of fields) {
    parts.push(Buffer.from(varintBytes(BigInt((f.num << 3) | f.wire))));
    if (f.wire === 0) {
      parts.push(Buffer.from(varintBytes(f.value)));
    } else {
      parts.push(Buffer.from(varintBytes(BigInt(f.value.length))), f.value);
    }
  }
  return Buffer.concat(parts);
}
