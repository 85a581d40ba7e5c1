import type { StructValue } from './decoder';
import { FIRST_USER_ID, type Kind, PREDEFINED_IDS, type StructType, writeStructDefinition } from './types';
import { GobWriter } from './wire';

/**
 * One direction of a gob stream, as Go's gob.Encoder writes it: the first value of a type is
 * preceded by the definitions of that type and of the struct types inside it not yet sent (the
 * type first, then its fields' types, depth first, as Go sends them), each under a new id; then the
 * value. Fields holding their zero value are left out, as Go leaves them out. Go numbers types per
 * process, not per stream; a fresh Go process gives the same ids as this encoder (65 up), which
 * makes a byte-for-byte comparison with Go's output possible in the tests.
 */
type EncodableValue = { [field: string]: string | Buffer | boolean | bigint | number | EncodableValue | null | undefined };

function frame(message: Buffer): Buffer {
  const w = new GobWriter();
  w.uint(message.length);
  return Buffer.concat([w.toBuffer(), message]);
}

function isZero(kind: Kind, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (typeof kind !== 'string') return false; // a non-nil pointer to a struct is sent, even an empty one
  if (kind === 'bytes') return (v as Buffer).length === 0;
  return v === '' || v === false || v === 0 || v === 0n;
}

export class GobEncoder {
  private readonly ids = new Map<StructType, number>();
  private nextId = FIRST_USER_ID + 1;

  /** `value` as gob messages: the definitions its types still need on this stream, then the value. */
  encode(type: StructType, value: EncodableValue | StructValue): Buffer {
    const out = this.define(type);
    const w = new GobWriter();
    w.int(this.ids.get(type) as number);
    this.struct(type, value as EncodableValue, w);
    out.push(frame(w.toBuffer()));
    return Buffer.concat(out);
  }

  private idOf = (kind: Kind): number => (typeof kind === 'string' ? PREDEFINED_IDS[kind] : (this.ids.get(kind) as number));

  private define(type: StructType): Buffer[] {
    const fresh: StructType[] = [];
    const assign = (t: StructType): void => {
      if (this.ids.has(t)) return;
      this.ids.set(t, this.nextId++);
      fresh.push(t);
      for (const f of t.fields) if (typeof f.kind !== 'string') assign(f.kind);
    };
    assign(type);
    return fresh.map((t) => {
      const w = new GobWriter();
      writeStructDefinition(w, this.ids.get(t) as number, t.name, t.fields.map((f) => ({ name: f.name, id: this.idOf(f.kind) })));
      return frame(w.toBuffer());
    });
  }

  private struct(type: StructType, value: EncodableValue, w: GobWriter): void {
    let last = -1;
    type.fields.forEach((f, i) => {
      const v = value[f.name];
      if (isZero(f.kind, v)) return;
      w.uint(i - last);
      last = i;
      if (typeof f.kind !== 'string') return this.struct(f.kind, v as EncodableValue, w);
      switch (f.kind) {
        case 'bool':
          return w.uint(1);
        case 'int':
          return w.int(v as bigint | number);
        case 'uint':
          return w.uint(v as bigint | number);
        case 'string':
          return w.string(v as string);
        case 'bytes':
          return w.bytes(v as Buffer);
      }
    });
    w.uint(0);
  }
}
