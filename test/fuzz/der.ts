/**
 * The fuzzer's own ASN.1 reader and writer, independent of src/asn1: a lenient BER tree with the
 * offsets of every element (to aim mutations and name the region they hit) and a minimal-DER writer
 * (to rebuild a structure after a field was replaced). The judge reads accepted mutants with it, so a
 * bug in the product's reader cannot hide itself.
 */
export interface Node {
  /** Identifier octets (tag), as received. */
  id: Buffer;
  tagClass: number; // 0 universal, 1 application, 2 context, 3 private
  tagNumber: number;
  constructed: boolean;
  /** Offsets in the parsed buffer. */
  start: number;
  cStart: number;
  cEnd: number;
  end: number;
  content: Buffer;
  children?: Node[];
}

export class DerError extends Error {}

const MAX_DEPTH = 40;

function readNode(buf: Buffer, pos: number, limit: number, depth: number): Node {
  if (depth > MAX_DEPTH) throw new DerError('too deep');
  const start = pos;
  if (pos >= limit) throw new DerError('truncated');
  const first = buf[pos++];
  let tagNumber = first & 0x1f;
  if (tagNumber === 0x1f) {
    tagNumber = 0;
    for (let n = 0; ; n++) {
      if (pos >= limit || n > 4) throw new DerError('bad tag');
      const b = buf[pos++];
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if (!(b & 0x80)) break;
    }
  }
  const id = buf.subarray(start, pos);
  if (pos >= limit) throw new DerError('truncated length');
  const l0 = buf[pos++];
  const constructed = (first & 0x20) !== 0;
  let cStart: number;
  let cEnd: number;
  let end: number;
  let children: Node[] | undefined;
  if (l0 === 0x80) {
    // Indefinite length (BER): children up to an end-of-contents marker.
    if (!constructed) throw new DerError('indefinite primitive');
    cStart = pos;
    children = [];
    for (;;) {
      if (pos + 1 >= limit) throw new DerError('no end-of-contents');
      if (buf[pos] === 0 && buf[pos + 1] === 0) break;
      const c = readNode(buf, pos, limit, depth + 1);
      children.push(c);
      pos = c.end;
    }
    cEnd = pos;
    end = pos + 2;
  } else {
    let len = l0;
    if (l0 & 0x80) {
      const n = l0 & 0x7f;
      if (n > 4 || pos + n > limit) throw new DerError('bad length');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + buf[pos++];
    }
    cStart = pos;
    cEnd = pos + len;
    end = cEnd;
    if (cEnd > limit) throw new DerError('length beyond its container');
    if (constructed) {
      // Lenient: a constructed element whose contents are not elements is kept as opaque bytes.
      try {
        children = [];
        for (let p = cStart; p < cEnd; ) {
          const c = readNode(buf, p, cEnd, depth + 1);
          children.push(c);
          p = c.end;
        }
      } catch {
        children = undefined;
      }
    }
  }
  return { id, tagClass: first >> 6, tagNumber, constructed, start, cStart, cEnd, end, content: buf.subarray(cStart, cEnd), children };
}

/** The whole buffer as one element (trailing bytes are an error). */
export function parseDer(buf: Buffer): Node {
  const n = readNode(buf, 0, buf.length, 0);
  if (n.end !== buf.length) throw new DerError('trailing bytes');
  return n;
}

export function tryParseDer(buf: Buffer): Node | undefined {
  try {
    return parseDer(buf);
  } catch {
    return undefined;
  }
}

/** Every element, depth first, with its path of child indices. */
export function walk(n: Node, visit: (node: Node, path: number[]) => void, path: number[] = []): void {
  visit(n, path);
  n.children?.forEach((c, i) => walk(c, visit, [...path, i]));
}

export function lengthOctets(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let l = len; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(id: Buffer | number, content: Buffer): Buffer {
  const tag = typeof id === 'number' ? Buffer.from([id]) : id;
  return Buffer.concat([tag, lengthOctets(content.length), content]);
}

/**
 * An editable copy of a parsed tree: `content` for primitives, `children` for constructed elements.
 * encode() writes minimal DER, so an edited field gets correct lengths up to the root.
 */
export interface Edit {
  id: Buffer;
  content?: Buffer;
  children?: Edit[];
  /** Bytes written as they are, in place of the whole element (a mutant that is not DER). */
  raw?: Buffer;
}

export function toEdit(n: Node): Edit {
  return n.children ? { id: Buffer.from(n.id), children: n.children.map(toEdit) } : { id: Buffer.from(n.id), content: Buffer.from(n.content) };
}

export function encode(e: Edit): Buffer {
  if (e.raw) return e.raw;
  const body = e.children ? Buffer.concat(e.children.map(encode)) : (e.content ?? Buffer.alloc(0));
  return tlv(e.id, body);
}

/** The element at a path of child indices. */
export function at<T extends { children?: T[] }>(root: T, path: number[]): T | undefined {
  let n: T | undefined = root;
  for (const i of path) n = n?.children?.[i];
  return n;
}

/** Content of an OBJECT IDENTIFIER in dotted form. */
export function oidString(content: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  for (const b of content) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

export function oidContent(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [];
  for (const v of [a * 40 + b, ...rest]) {
    const group: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) group.unshift((x & 0x7f) | 0x80);
    out.push(...group);
  }
  return Buffer.from(out);
}

export const isSeq = (n: Node | undefined): boolean => n?.id.length === 1 && n.id[0] === 0x30;
export const isSet = (n: Node | undefined): boolean => n?.id.length === 1 && n.id[0] === 0x31;
export const isCtx = (n: Node | undefined, num: number): boolean => n !== undefined && n.tagClass === 2 && n.tagNumber === num;
export const isUniversal = (n: Node | undefined, num: number): boolean => n !== undefined && n.tagClass === 0 && n.tagNumber === num;
