import { GitsignError } from '../errors';

/**
 * Reads the SSH wire encoding (RFC 4251 section 5: uint32, string, mpint) from a buffer, bounds-checked:
 * every length is checked against what is left, so a hostile length can neither read past the end
 * nor make us allocate.
 */
export class WireReader {
  private pos = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}

  private fail(detail: string): never {
    throw new GitsignError('SSH_MALFORMED', `${this.what}: ${detail}`);
  }

  bytes(n: number): Buffer {
    if (n > this.buf.length - this.pos) this.fail('it ends too early');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  uint32(): number {
    return this.bytes(4).readUInt32BE(0);
  }

  string(): Buffer {
    return this.bytes(this.uint32());
  }

  /** A string that must be printable ASCII (algorithm and namespace names). */
  name(field: string): string {
    const b = this.string();
    if (b.length > 256 || !/^[\x21-\x7e]*$/.test(b.toString('latin1'))) this.fail(`its ${field} is not a name`);
    return b.toString('latin1');
  }

  /** A non-negative mpint, without its sign byte: the unsigned big-endian magnitude. */
  unsignedMpint(field: string): Buffer {
    const b = this.string();
    if (b.length === 0) return b;
    if (b[0] & 0x80) this.fail(`its ${field} is negative`);
    // RFC 4251: no unnecessary leading zero byte.
    if (b[0] === 0 && (b.length === 1 || !(b[1] & 0x80))) this.fail(`its ${field} has a needless leading zero`);
    return b[0] === 0 ? b.subarray(1) : b;
  }

  /** The reader must have used every byte. */
  end(): void {
    if (this.pos !== this.buf.length) this.fail(`${this.buf.length - this.pos} bytes follow its last field`);
  }
}

/** Writes an SSH string (length-prefixed). */
export function wireString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}
