/**
 * The fuzzer's own protobuf wire-format reader and writer (independent of src/rekor/protobuf), for
 * the embedded Rekor TransparencyLogEntry: read into fields, edit, write back. Varints are read in
 * any length, as protobuf readers do; written in minimal form.
 */
export type Wire = 0 | 1 | 2 | 5;

export interface PField {
  num: number;
  wire: Wire;
  /** Varint value (wire 0), fixed bytes (1, 5), or the bytes (2). */
  int?: bigint;
  bytes?: Buffer;
}

export class ProtoError extends Error {}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let v = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= buf.length) throw new ProtoError('truncated varint');
    const b = buf[pos++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v & 0xffffffffffffffffn, pos];
  }
  throw new ProtoError('varint too long');
}

export function readProto(buf: Buffer): PField[] {
  const out: PField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    pos = p;
    const num = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (num === 0) throw new ProtoError('field number 0');
    if (wire === 0) {
      const [v, q] = readVarint(buf, pos);
      out.push({ num, wire, int: v });
      pos = q;
    } else if (wire === 2) {
      const [len, q] = readVarint(buf, pos);
      if (len > BigInt(buf.length - q)) throw new ProtoError('length beyond the message');
      out.push({ num, wire, bytes: buf.subarray(q, q + Number(len)) });
      pos = q + Number(len);
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw new ProtoError('truncated fixed field');
      out.push({ num, wire, bytes: buf.subarray(pos, pos + n) });
      pos += n;
    } else {
      throw new ProtoError(`wire type ${wire}`);
    }
  }
  return out;
}

export function varint(v: bigint): Buffer {
  const out: number[] = [];
  let x = BigInt.asUintN(64, v);
  do {
    let b = Number(x & 0x7fn);
    x >>= 7n;
    if (x) b |= 0x80;
    out.push(b);
  } while (x);
  return Buffer.from(out);
}

export function writeProto(fields: PField[]): Buffer {
  return Buffer.concat(
    fields.map((f) => {
      const key = varint((BigInt(f.num) << 3n) | BigInt(f.wire));
      if (f.wire === 0) return Buffer.concat([key, varint(f.int ?? 0n)]);
      if (f.wire === 2) return Buffer.concat([key, varint(BigInt(f.bytes?.length ?? 0)), f.bytes ?? Buffer.alloc(0)]);
      return Buffer.concat([key, f.bytes ?? Buffer.alloc(f.wire === 1 ? 8 : 4)]);
    }),
  );
}
