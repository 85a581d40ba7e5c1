import { GitsignError } from '../../errors';

/**
 * encoding/gob's primitive encodings (Go's encoding/gob documentation, "Encoding details"): an
 * unsigned integer below 128 is one byte; a larger one is its byte count, negated, in one byte,
 * then its bytes big-endian (at most 8). A signed integer is an unsigned one whose low bit says
 * whether the rest is complemented. Strings and byte slices are a length, then the bytes. Every
 * read is bounded by the message it comes from: a count or length can never run past its end.
 */

/** The one error for bytes that are not the gob we accept; `what` says which rule they broke. */
export function malformed(what: string): GitsignError {
  return new GitsignError('CACHE_PROTOCOL', `the credential cache peer sent a malformed message: ${what}`);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export class GobReader {
  constructor(
    private readonly buf: Buffer,
    private pos = 0,
    private readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  get done(): boolean {
    return this.pos === this.end;
  }

  private byte(): number {
    if (this.pos >= this.end) throw malformed('it ends inside a value');
    return this.buf[this.pos++];
  }

  uint(): bigint {
    const first = this.byte();
    if (first < 0x80) return BigInt(first);
    const n = 256 - first;
    if (n > 8) throw malformed(`an integer claims ${n} bytes (at most 8)`);
    if (n > this.remaining) throw malformed('it ends inside an integer');
    let v = 0n;
    for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(this.buf[this.pos++]);
    return v;
  }

  int(): bigint {
    const u = this.uint();
    return u & 1n ? ~(u >> 1n) : u >> 1n;
  }

  /** An unsigned integer used as a count or length: at most `max`. */
  count(max: number, what: string): number {
    const v = this.uint();
    if (v > BigInt(max)) throw malformed(`${what} ${v} is more than ${max}`);
    return Number(v);
  }

  /** A count of things that each take at least a byte of what is left after the count itself. */
  countWithin(what: string): number {
    const v = this.uint();
    if (v > BigInt(this.remaining)) throw malformed(`${what} ${v} is more than the ${this.remaining} bytes left`);
    return Number(v);
  }

  bytes(): Buffer {
    const n = this.countWithin('a length');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    try {
      return UTF8.decode(this.bytes());
    } catch (err) {
      if (err instanceof GitsignError) throw err;
      throw malformed('a string is not UTF-8');
    }
  }
}

/** Builds one message; the same encodings in the other direction. */
export class GobWriter {
  private readonly parts: Buffer[] = [];

  uint(v: bigint | number): void {
    let x = BigInt(v);
    if (x < 0n || x >= 1n << 64n) throw new RangeError(`gob uint out of range: ${x}`);
    if (x < 0x80n) {
      this.parts.push(Buffer.of(Number(x)));
      return;
    }
    const bytes: number[] = [];
    for (; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
    this.parts.push(Buffer.of(256 - bytes.length, ...bytes));
  }

  int(v: bigint | number): void {
    const x = BigInt(v);
    this.uint(x < 0n ? (~x << 1n) | 1n : x << 1n);
  }

  bytes(b: Buffer): void {
    this.uint(b.length);
    this.parts.push(b);
  }

  string(s: string): void {
    this.bytes(Buffer.from(s, 'utf8'));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
