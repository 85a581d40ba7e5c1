import { BOOL, BYTES, COMPLEX, FIRST_USER_ID, FLOAT, INT, INTERFACE, type Kind, PREDEFINED_IDS, readFields, readTypeDefinition, STRING, type StructType, typeName, UINT, type WireType } from './types';
import { GobReader, malformed } from './wire';

/**
 * One direction of a gob stream, as Go's gob.Decoder reads it: messages (a length, then that many
 * bytes), each a type definition or a value; definitions hold for the rest of the stream. Values
 * are read into the Go types we expect by field name, as Go does: fields we do not know are read
 * and dropped, fields we expect but the peer's type lacks keep their zero value, and a field whose
 * type differs from ours is refused. Every length, count, type id, definition count and nesting
 * level is bounded, so hostile bytes cost at most the bytes sent: an error, never a hang or a crash.
 */
interface GobLimits {
  /** The largest message accepted (a credential is about 3 KiB, a Config about 1 KiB). */
  maxMessageBytes: number;
  /** Type definitions one stream may make (gitsign's calls need six). */
  maxTypes: number;
  /** Fields one struct type may have. */
  maxFields: number;
  /** How deep values may nest (gitsign's go two levels). */
  maxDepth: number;
}

const DEFAULT_LIMITS: GobLimits = { maxMessageBytes: 64 * 1024, maxTypes: 32, maxFields: 256, maxDepth: 16 };

type Value = string | Buffer | boolean | bigint | StructValue | null;
export interface StructValue {
  [field: string]: Value;
}

/** The zero value of each kind; a struct field (a pointer in gitsign's types) is nil. */
function zero(kind: Kind): Value {
  switch (kind) {
    case 'bool':
      return false;
    case 'int':
    case 'uint':
      return 0n;
    case 'string':
      return '';
    case 'bytes':
      return Buffer.alloc(0);
    default:
      return null;
  }
}

export class GobDecoder {
  /** What arrived and is not read yet, kept as it came (joined once per message, so dripped bytes cost no copying each). */
  private chunks: Buffer[] = [];
  private size = 0;
  private readonly types = new Map<number, WireType>();

  constructor(private readonly limits: GobLimits = DEFAULT_LIMITS) {}

  /** Bytes are waiting: a message has begun. */
  get pending(): boolean {
    return this.size > 0;
  }

  /** Adds what the peer sent; more than a few messages' worth waiting unread is refused. */
  push(chunk: Buffer): void {
    if (this.size + chunk.length > 4 * this.limits.maxMessageBytes) throw malformed(`more than ${4 * this.limits.maxMessageBytes} bytes arrived unread`);
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /**
   * The next value, read as `expect` (null: read and dropped, as net/rpc drops a body it has no use
   * for). Null when its bytes have not all arrived; definitions before it are kept meanwhile.
   */
  next(expect: StructType | null): { value: StructValue | null } | null {
    for (;;) {
      const message = this.message();
      if (!message) return null;
      const r = new GobReader(message);
      const id = r.int();
      if (id < 0n) {
        this.define(-id, r);
        continue;
      }
      const value = this.topLevel(id, r, expect);
      if (!r.done) throw malformed('a value has bytes after its end');
      return { value };
    }
  }

  /** One whole message, taken from the buffer; null while incomplete. */
  private message(): Buffer | null {
    if (this.size === 0) return null;
    // The length prefix (at most 9 bytes) in the first chunk.
    if (this.chunks[0].length < 9 && this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    const b = this.chunks[0];
    const prefix = b[0] < 0x80 ? 1 : 1 + (256 - b[0]);
    if (prefix > 9) throw malformed(`a message length claims ${prefix - 1} bytes (at most 8)`);
    if (b.length < prefix) return null;
    const length = new GobReader(b.subarray(0, prefix)).uint();
    if (length === 0n) throw malformed('a message is empty');
    if (length > BigInt(this.limits.maxMessageBytes)) throw malformed(`a message of ${length} bytes is more than the ${this.limits.maxMessageBytes} accepted`);
    const end = prefix + Number(length);
    if (this.size < end) return null;
    const all = this.chunks.length === 1 ? b : Buffer.concat(this.chunks);
    this.chunks = all.length > end ? [all.subarray(end)] : [];
    this.size -= end;
    return all.subarray(prefix, end);
  }

  private define(id: bigint, r: GobReader): void {
    if (id < BigInt(FIRST_USER_ID) || id >= 2n ** 31n) throw malformed(`a type definition for id ${id} (defined ids are 64 and up)`);
    if (this.types.has(Number(id))) throw malformed(`type ${id} is defined twice`);
    if (this.types.size >= this.limits.maxTypes) throw malformed(`more than ${this.limits.maxTypes} type definitions`);
    const type = readTypeDefinition(r, this.limits.maxFields);
    if (!r.done) throw malformed('a type definition has bytes after its end');
    this.types.set(Number(id), type);
  }

  private wire(id: number): WireType {
    const t = this.types.get(id);
    if (!t) throw malformed(`${typeName(id)} is not defined`);
    return t;
  }

  /** Go sends only structs as messages of their own here (other values carry a singleton prefix we never accept). */
  private topLevel(id: bigint, r: GobReader, expect: StructType | null): StructValue | null {
    if (id < BigInt(FIRST_USER_ID)) throw malformed(`the message holds a ${typeName(Number(id))}, not a struct`);
    if (id >= 2n ** 31n) throw malformed(`type id ${id} is out of range`);
    const t = this.wire(Number(id));
    if (t.kind !== 'struct') throw malformed(`the message holds a ${t.kind}, not a struct`);
    return this.struct(t, expect, r, 0);
  }

  private struct(t: Extract<WireType, { kind: 'struct' }>, expect: StructType | null, r: GobReader, depth: number): StructValue | null {
    if (depth > this.limits.maxDepth) throw malformed(`values nest more than ${this.limits.maxDepth} deep`);
    let out: StructValue | null = null;
    if (expect) {
      // As Go: a struct type sharing no field with ours is another type, not ours with fields left out.
      if (expect.fields.length > 0 && t.fields.length > 0 && !t.fields.some((f) => expect.fields.some((e) => e.name === f.name))) {
        throw malformed(`a ${t.name || 'struct'} arrived where a ${expect.name} was expected`);
      }
      out = {};
      for (const f of expect.fields) out[f.name] = zero(f.kind);
    }
    readFields(r, t.fields.length, (i) => {
      const field = t.fields[i];
      const ours = expect?.fields.find((f) => f.name === field.name);
      if (ours && out) out[field.name] = this.as(ours.kind, field.id, r, depth + 1, field.name);
      else this.skip(field.id, r, depth + 1);
    });
    return out;
  }

  private as(kind: Kind, id: number, r: GobReader, depth: number, name: string): Value {
    if (typeof kind !== 'string') {
      const t = this.wire(id);
      if (t.kind !== 'struct') throw malformed(`field ${name} is a ${t.kind}, not a struct`);
      return this.struct(t, kind, r, depth);
    }
    if (id !== PREDEFINED_IDS[kind]) throw malformed(`field ${name} is a ${typeName(id)}, not a ${kind}`);
    switch (kind) {
      case 'bool':
        return r.uint() !== 0n;
      case 'int':
        return r.int();
      case 'uint':
        return r.uint();
      case 'string':
        return r.string();
      case 'bytes':
        return Buffer.from(r.bytes());
    }
  }

  /** Reads a value of any type the peer defined and drops it; every element takes at least a byte, so counts are bounded by what is left. */
  private skip(id: number, r: GobReader, depth: number): void {
    if (depth > this.limits.maxDepth) throw malformed(`values nest more than ${this.limits.maxDepth} deep`);
    switch (id) {
      case BOOL:
      case INT:
      case UINT:
      case FLOAT:
        r.uint();
        return;
      case COMPLEX:
        r.uint();
        r.uint();
        return;
      case BYTES:
      case STRING:
        r.bytes();
        return;
      case INTERFACE:
        throw malformed('an interface value (not used by the cache) arrived');
    }
    const t = this.wire(id);
    switch (t.kind) {
      case 'struct':
        this.struct(t, null, r, depth);
        return;
      case 'encoded':
        r.bytes();
        return;
      case 'map': {
        const n = r.countWithin('a map size');
        for (let i = 0; i < n; i++) {
          this.skip(t.key, r, depth + 1);
          this.skip(t.elem, r, depth + 1);
        }
        return;
      }
      default: {
        const n = r.countWithin(`a ${t.kind} length`);
        if (t.kind === 'array' && n !== t.len) throw malformed(`an array of ${t.len} elements arrived with ${n}`);
        for (let i = 0; i < n; i++) this.skip(t.elem, r, depth + 1);
      }
    }
  }
}
