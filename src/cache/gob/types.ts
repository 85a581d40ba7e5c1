import { type GobReader, type GobWriter, malformed } from './wire';

/**
 * gob's type descriptors. A stream defines each of its types once, in a message holding the
 * negated type id and a wireType (a Go struct whose fields say which kind of type it is); values
 * then name their type by id. Ids below 64 are Go's predefined types (encoding/gob type.go).
 */
export const BOOL = 1;
export const INT = 2;
export const UINT = 3;
export const FLOAT = 4;
export const BYTES = 5;
export const STRING = 6;
export const COMPLEX = 7;
export const INTERFACE = 8;
/** The lowest id a stream may define (Go's firstUserId). */
export const FIRST_USER_ID = 64;
/** Type ids are Go int32s. */
const MAX_TYPE_ID = 2 ** 31 - 1;

const PREDEFINED: Record<number, string> = { [BOOL]: 'bool', [INT]: 'int', [UINT]: 'uint', [FLOAT]: 'float', [BYTES]: 'bytes', [STRING]: 'string', [COMPLEX]: 'complex', [INTERFACE]: 'interface' };

export function typeName(id: number): string {
  return PREDEFINED[id] ?? `type ${id}`;
}

/** A type as the peer defined it. GobEncoder, BinaryMarshaler and TextMarshaler types travel as bytes ("encoded"). */
export type WireType =
  | { kind: 'struct'; name: string; fields: { name: string; id: number }[] }
  | { kind: 'slice'; name: string; elem: number }
  | { kind: 'array'; name: string; elem: number; len: number }
  | { kind: 'map'; name: string; key: number; elem: number }
  | { kind: 'encoded'; name: string };

/** A Go type on our side, as gob sees it: the few kinds gitsign's cache types use. */
export type Kind = 'bool' | 'int' | 'uint' | 'string' | 'bytes' | StructType;

export interface StructType {
  /** Go's name for the type ("" for an anonymous struct, as net/rpc's empty reply body). */
  name: string;
  fields: readonly { name: string; kind: Kind }[];
}

export const PREDEFINED_IDS: Record<Exclude<Kind, StructType>, number> = { bool: BOOL, int: INT, uint: UINT, string: STRING, bytes: BYTES };

/**
 * A struct value: fields numbered from 0, each sent as the delta from the previous field's number,
 * then its value; a zero delta ends the struct. `read` is called with each field's number, which
 * is at most `fieldCount - 1`.
 */
export function readFields(r: GobReader, fieldCount: number, read: (field: number) => void): void {
  let field = -1;
  for (;;) {
    const delta = r.count(fieldCount - 1 - field, 'a field delta');
    if (delta === 0) return;
    field += delta;
    read(field);
  }
}

function typeId(r: GobReader): number {
  const id = r.int();
  if (id <= 0n || id > BigInt(MAX_TYPE_ID)) throw malformed(`type id ${id} is out of range`);
  return Number(id);
}

/** CommonType {Name string; Id typeId}: the name (the id repeats the message's and is not used). */
function readCommon(r: GobReader): string {
  let name = '';
  readFields(r, 2, (f) => {
    if (f === 0) name = r.string();
    else typeId(r);
  });
  return name;
}

/** The element of structType.Field: fieldType {Name string; Id typeId}. */
function readFieldType(r: GobReader): { name: string; id: number } {
  let name = '';
  let id = 0;
  readFields(r, 2, (f) => {
    if (f === 0) name = r.string();
    else id = typeId(r);
  });
  if (!name || !id) throw malformed('a struct field has no name or no type');
  return { name, id };
}

/** The body of a type-definition message: wireType {ArrayT, SliceT, StructT, MapT, GobEncoderT, BinaryMarshalerT, TextMarshalerT}. */
export function readTypeDefinition(r: GobReader, maxFields: number): WireType {
  let out: WireType | undefined;
  readFields(r, 7, (kind) => {
    if (out) throw malformed('a type definition describes more than one type');
    let name = '';
    switch (kind) {
      case 0: {
        let elem = 0;
        let len = 0n;
        readFields(r, 3, (f) => {
          if (f === 0) name = readCommon(r);
          else if (f === 1) elem = typeId(r);
          else len = r.int();
        });
        if (!elem) throw malformed('an array type has no element type');
        if (len < 0n || len > BigInt(MAX_TYPE_ID)) throw malformed(`an array length ${len} is out of range`);
        out = { kind: 'array', name, elem, len: Number(len) };
        break;
      }
      case 1: {
        let elem = 0;
        readFields(r, 2, (f) => {
          if (f === 0) name = readCommon(r);
          else elem = typeId(r);
        });
        if (!elem) throw malformed('a slice type has no element type');
        out = { kind: 'slice', name, elem };
        break;
      }
      case 2: {
        const fields: { name: string; id: number }[] = [];
        readFields(r, 2, (f) => {
          if (f === 0) name = readCommon(r);
          else {
            const n = r.count(maxFields, 'a struct field count');
            for (let i = 0; i < n; i++) fields.push(readFieldType(r));
          }
        });
        out = { kind: 'struct', name, fields };
        break;
      }
      case 3: {
        let key = 0;
        let elem = 0;
        readFields(r, 3, (f) => {
          if (f === 0) name = readCommon(r);
          else if (f === 1) key = typeId(r);
          else elem = typeId(r);
        });
        if (!key || !elem) throw malformed('a map type has no key or element type');
        out = { kind: 'map', name, key, elem };
        break;
      }
      default:
        readFields(r, 1, () => (name = readCommon(r)));
        out = { kind: 'encoded', name };
    }
  });
  if (!out) throw malformed('a type definition describes no type');
  return out;
}

/** The body of a type-definition message for a struct type: its id, its name, and each field's name and type id. */
export function writeStructDefinition(w: GobWriter, id: number, name: string, fields: readonly { name: string; id: number }[]): void {
  w.int(-id);
  w.uint(3); // wireType.StructT
  w.uint(1); // structType.CommonType
  if (name) {
    w.uint(1);
    w.string(name);
    w.uint(1);
  } else {
    w.uint(2); // an empty name is a zero value, left out
  }
  w.int(id);
  w.uint(0);
  if (fields.length > 0) {
    w.uint(1); // structType.Field
    w.uint(fields.length);
    for (const f of fields) {
      w.uint(1);
      w.string(f.name);
      w.uint(1);
      w.int(f.id);
      w.uint(0);
    }
  }
  w.uint(0);
  w.uint(0);
}
