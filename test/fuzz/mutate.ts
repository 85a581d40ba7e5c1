import { type Node, encode, lengthOctets, parseDer, toEdit, type Edit, walk } from './der';
import type { Rng } from './prng';

/**
 * Mutation operators. Each returns the mutant and a one-line description (for reports and
 * reproducers); the choice of operator and position comes only from the case's Rng.
 */
export interface Mutant<T = Buffer> {
  value: T;
  op: string;
}

const INTERESTING = [0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0x82, 0xff, 0x30, 0x31, 0x04, 0x05, 0x06, 0xa0, 0xa1, 0x0a, 0x20, 0x2d, 0x3d];

/** A byte-level change at a position in [lo, hi) of buf. */
export function byteMutation(rng: Rng, buf: Buffer, lo = 0, hi = buf.length): Mutant {
  if (hi <= lo) return { value: Buffer.concat([buf, Buffer.from([0])]), op: 'append 00' };
  const at = rng.range(lo, hi - 1);
  const op = rng.weighted([
    [5, 'bitflip'],
    [2, 'set'],
    [1, 'interesting'],
    [2, 'insert'],
    [2, 'delete'],
    [1, 'truncate'],
    [1, 'duplicate'],
  ] as const);
  switch (op) {
    case 'bitflip': {
      const bit = rng.int(8);
      const b = Buffer.from(buf);
      b[at] ^= 1 << bit;
      return { value: b, op: `bitflip @${at} bit ${bit}` };
    }
    case 'set':
    case 'interesting': {
      let v = op === 'set' ? rng.int(256) : rng.pick(INTERESTING);
      if (v === buf[at]) v ^= 0xff;
      const b = Buffer.from(buf);
      b[at] = v;
      return { value: b, op: `set @${at} ${buf[at].toString(16)}->${v.toString(16)}` };
    }
    case 'insert': {
      const v = rng.chance(0.5) ? rng.pick(INTERESTING) : rng.int(256);
      return { value: Buffer.concat([buf.subarray(0, at), Buffer.from([v]), buf.subarray(at)]), op: `insert @${at} ${v.toString(16)}` };
    }
    case 'delete':
      return { value: Buffer.concat([buf.subarray(0, at), buf.subarray(at + 1)]), op: `delete @${at}` };
    case 'truncate':
      return { value: buf.subarray(0, at), op: `truncate @${at}` };
    case 'duplicate': {
      const len = rng.range(1, Math.min(16, hi - at));
      return { value: Buffer.concat([buf.subarray(0, at + len), buf.subarray(at, at + len), buf.subarray(at + len)]), op: `duplicate ${len}B @${at}` };
    }
  }
}

/** The length octets of an element rewritten (off by one, zero, long/non-minimal form, indefinite, huge). */
export function lengthEdit(rng: Rng, buf: Buffer, n: Node): Mutant {
  const lenStart = n.start + n.id.length;
  const len = n.cEnd - n.cStart;
  const kind = rng.pick(['+1', '-1', 'zero', 'non-minimal', 'indefinite', 'huge', 'random'] as const);
  let octets: Buffer;
  switch (kind) {
    case '+1':
      octets = lengthOctets(len + 1);
      break;
    case '-1':
      octets = lengthOctets(Math.max(0, len - 1));
      break;
    case 'zero':
      octets = Buffer.from([0]);
      break;
    case 'non-minimal':
      octets = Buffer.from([0x84, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff]);
      break;
    case 'indefinite':
      octets = Buffer.from([0x80]);
      break;
    case 'huge':
      octets = Buffer.from([0x84, 0xff, 0xff, 0xff, 0xf0]);
      break;
    case 'random':
      octets = rng.chance(0.5) ? Buffer.from([rng.int(256)]) : Buffer.from([0x82, rng.int(256), rng.int(256)]);
      break;
  }
  const tail = kind === 'indefinite' && n.constructed ? Buffer.concat([buf.subarray(n.cStart, n.end), Buffer.from([0, 0])]) : buf.subarray(n.cStart);
  const rest = kind === 'indefinite' && n.constructed ? buf.subarray(n.end) : Buffer.alloc(0);
  return { value: Buffer.concat([buf.subarray(0, lenStart), octets, tail, rest]), op: `length ${kind} of element @${n.start} (len ${len})` };
}

/** A structural change of one element, re-encoded as DER up to the root (so only that element differs). */
export function structuralEdit(rng: Rng, buf: Buffer, root: Node, path: number[]): Mutant {
  const edit = toEdit(root);
  const parentPath = path.slice(0, -1);
  let parent: Edit = edit;
  for (const i of parentPath) parent = parent.children![i];
  const idx = path[path.length - 1];
  const target: Edit | undefined = path.length ? parent.children![idx] : edit;
  const kind = path.length ? rng.pick(['remove', 'duplicate', 'swap', 'retag', 'empty', 'wrap', 'constructed-bit'] as const) : rng.pick(['retag', 'wrap', 'trailing'] as const);
  const where = `element ${path.join('.') || 'root'}`;
  switch (kind) {
    case 'remove':
      parent.children!.splice(idx, 1);
      break;
    case 'duplicate':
      parent.children!.splice(idx, 0, structuredClone(target!));
      break;
    case 'swap': {
      const sibs = parent.children!;
      if (sibs.length < 2) return { value: encode(edit).subarray(0, -1), op: `truncate (no sibling) ${where}` };
      const j = (idx + 1 + rng.int(sibs.length - 1)) % sibs.length;
      [sibs[idx], sibs[j]] = [sibs[j], sibs[idx]];
      return { value: encode(edit), op: `swap ${where} with sibling ${j}` };
    }
    case 'retag': {
      const t = target!;
      const newTag = rng.pick([0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x30, 0x31, 0xa0, 0xa1, 0xa3, 0x80, 0x81]);
      const old = t.id[0];
      t.id = Buffer.from([newTag === old ? newTag ^ 0x01 : newTag]);
      // A primitive now marked constructed keeps its bytes; a constructed one marked primitive keeps its encoding.
      if (t.children && !(t.id[0] & 0x20)) {
        t.content = encodeChildren(t);
        delete t.children;
      } else if (!t.children && t.id[0] & 0x20) {
        t.content = t.content ?? Buffer.alloc(0);
        return { value: rawWithContent(edit), op: `retag ${where} ${old.toString(16)}->${t.id[0].toString(16)}` };
      }
      return { value: encode(edit), op: `retag ${where} ${old.toString(16)}->${t.id[0].toString(16)}` };
    }
    case 'empty':
      target!.children = target!.children ? [] : undefined;
      if (!target!.children) target!.content = Buffer.alloc(0);
      break;
    case 'wrap':
      if (path.length) parent.children![idx] = { id: Buffer.from([0x30]), children: [target!] };
      else return { value: encode({ id: Buffer.from([0x30]), children: [edit] }), op: `wrap root in SEQUENCE` };
      break;
    case 'constructed-bit':
      target!.id = Buffer.from(target!.id);
      target!.id[0] ^= 0x20;
      if (target!.children) {
        target!.content = encodeChildren(target!);
        delete target!.children;
      } else {
        return { value: rawWithContent(edit), op: `constructed bit of ${where}` };
      }
      break;
    case 'trailing':
      return { value: Buffer.concat([buf, rng.chance(0.5) ? Buffer.from([0, 0]) : rng.bytes(rng.range(1, 8))]), op: 'bytes after the root element' };
  }
  return { value: encode(edit), op: `${kind} ${where}` };
}

function encodeChildren(e: Edit): Buffer {
  return Buffer.concat((e.children ?? []).map(encode));
}

/** encode() for a tree where a primitive was marked constructed (its bytes are written as they are). */
function rawWithContent(e: Edit): Buffer {
  const body = e.children ? Buffer.concat(e.children.map(rawWithContent)) : (e.content ?? Buffer.alloc(0));
  return Buffer.concat([e.id, lengthOctets(body.length), body]);
}

/** Every element of a DER buffer with its path (for aiming structural edits). */
export function elements(buf: Buffer): { root: Node; all: { node: Node; path: number[] }[] } {
  const root = parseDer(buf);
  const all: { node: Node; path: number[] }[] = [];
  walk(root, (node, path) => all.push({ node, path }));
  return { root, all };
}

/** A DER mutation anywhere in buf, or within one element: byte, length or structure. */
export function derMutation(rng: Rng, buf: Buffer, within?: { node: Node; path: number[] }): Mutant {
  const { root, all } = elements(buf);
  const scope = within ? all.filter((e) => e.path.length >= within.path.length && within.path.every((v, i) => e.path[i] === v)) : all;
  const kind = rng.weighted([
    [6, 'byte'],
    [2, 'length'],
    [2, 'structure'],
  ] as const);
  if (kind === 'byte') {
    const lo = within ? within.node.start : 0;
    const hi = within ? within.node.end : buf.length;
    return byteMutation(rng, buf, lo, hi);
  }
  const pick = rng.pick(scope);
  if (kind === 'length') return lengthEdit(rng, buf, pick.node);
  return structuralEdit(rng, buf, root, pick.path);
}

// ---- JSON ----

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path of a JSON value: [] is the root; keys and indices. */
export function jsonPaths(v: Json, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(path);
  if (Array.isArray(v)) v.forEach((c, i) => jsonPaths(c, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) jsonPaths(c, [...path, k], out);
  return out;
}

export function jsonGet(v: Json, path: (string | number)[]): Json {
  let x: Json = v;
  for (const p of path) x = (x as Record<string | number, Json>)?.[p] as Json;
  return x;
}

function jsonSet(v: Json, path: (string | number)[], value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const copy = structuredClone(v);
  let x = copy as Record<string | number, Json>;
  for (const p of path.slice(0, -1)) x = x[p] as Record<string | number, Json>;
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(x)) x.splice(last as number, 1);
    else delete x[last];
  } else {
    x[last] = value;
  }
  return copy;
}

export const pathText = (path: (string | number)[]): string => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('') || '(root)';

const looksBase64 = (s: string): boolean => s.length >= 8 && /^[A-Za-z0-9+/_-]+={0,2}$/.test(s) && !/^\d+$/.test(s);
const looksHex = (s: string): boolean => s.length >= 16 && /^[0-9a-fA-F]+$/.test(s) && s.length % 2 === 0;

/** A change of one JSON value: removed, retyped, edited; strings in base64 or hex are edited as bytes. */
export function jsonMutation(rng: Rng, doc: Json, paths = jsonPaths(doc).filter((p) => p.length > 0)): Mutant<Json> & { path: (string | number)[] } {
  const path = rng.pick(paths);
  const v = jsonGet(doc, path);
  const where = pathText(path);
  const set = (nv: Json | undefined, op: string): Mutant<Json> & { path: (string | number)[] } => ({ value: jsonSet(doc, path, nv), op: `${where}: ${op}`, path });
  const kind = rng.weighted([
    [2, 'remove'],
    [1, 'null'],
    [2, 'retype'],
    [6, 'edit'],
    [1, 'unknown-member'],
  ] as const);
  if (kind === 'remove') return set(undefined, 'removed');
  if (kind === 'null') return set(null, 'null');
  if (kind === 'unknown-member') {
    const parentPath = v && typeof v === 'object' && !Array.isArray(v) ? path : path.slice(0, -1);
    const parent = jsonGet(doc, parentPath);
    if (parent && typeof parent === 'object' && !Array.isArray(parent)) {
      return { value: jsonSet(doc, [...parentPath, 'fuzzUnknownMember'], rng.pick([1, 'x', true, {}, [], null] as Json[])), op: `${pathText(parentPath)}: unknown member added`, path: [...parentPath, 'fuzzUnknownMember'] };
    }
  }
  if (kind === 'retype') {
    const nv = rng.pick([0, -1, 1e300, '', 'x', true, [], {}, '0', String(v)] as Json[]);
    return set(nv, `retyped to ${JSON.stringify(nv)}`);
  }
  // edit by type
  if (typeof v === 'number') {
    const nv = rng.pick([v + 1, v - 1, 0, -v, v * 1000, 2 ** 53, -(2 ** 63), v + 0.5, 1e21]);
    return set(nv, `${v} -> ${nv}`);
  }
  if (typeof v === 'string') {
    if (looksHex(v)) {
      const m = byteMutation(rng, Buffer.from(v, 'hex'));
      return set(m.value.toString('hex'), `hex bytes ${m.op}`);
    }
    if (looksBase64(v)) {
      const bytes = Buffer.from(v, 'base64');
      const r = rng.int(10);
      if (r === 0) return set(v.replace(/=+$/, ''), 'base64 padding removed');
      if (r === 1) return set(v.replace(/\+/g, '-').replace(/\//g, '_'), 'base64 to URL alphabet');
      if (r === 2) return set(`${v.slice(0, Math.floor(v.length / 2))}!${v.slice(Math.floor(v.length / 2))}`, 'junk character in base64');
      let der: Buffer | undefined;
      try {
        der = bytes[0] === 0x30 ? (parseDer(bytes), bytes) : undefined;
      } catch {
        der = undefined;
      }
      const m = der && rng.chance(0.5) ? derMutation(rng, der) : byteMutation(rng, bytes);
      return set(m.value.toString('base64'), `base64 bytes ${m.op}`);
    }
    const m = textMutation(rng, v);
    return set(m.value, m.op);
  }
  if (typeof v === 'boolean') return set(!v, `${v} -> ${!v}`);
  if (Array.isArray(v)) {
    if (v.length === 0) return set([null], 'empty array gets a null');
    const r = rng.int(3);
    if (r === 0) return set([...v, v[rng.int(v.length)]], 'array element duplicated');
    if (r === 1) return set(v.slice(1), 'first array element removed');
    return set([...v].reverse(), 'array reversed');
  }
  return set(v === null ? 'x' : {}, 'object emptied');
}

/** Text edits (checkpoints, PEM, URLs): characters and lines. */
export function textMutation(rng: Rng, s: string): Mutant<string> {
  const lines = s.split('\n');
  const r = rng.int(12);
  const at = s.length ? rng.int(s.length) : 0;
  switch (r) {
    case 0:
      return { value: s.slice(0, at) + s.slice(at + 1), op: `char deleted @${at}` };
    case 1: {
      const c = rng.pick(['\n', ' ', '\r', '\0', '\u001b', 'a', '0', '-', '\u00e9', '=']);
      return { value: s.slice(0, at) + c + s.slice(at), op: `char ${JSON.stringify(c)} inserted @${at}` };
    }
    case 2: {
      const code = s.charCodeAt(at) ^ (1 << rng.int(7));
      return { value: s.slice(0, at) + String.fromCharCode(code) + s.slice(at + 1), op: `char @${at} bit flipped` };
    }
    case 3: {
      const i = rng.int(lines.length);
      return { value: lines.filter((_, j) => j !== i).join('\n'), op: `line ${i} removed` };
    }
    case 4: {
      const i = rng.int(lines.length);
      return { value: [...lines.slice(0, i + 1), lines[i], ...lines.slice(i + 1)].join('\n'), op: `line ${i} duplicated` };
    }
    case 5:
      return { value: s.slice(0, at), op: `truncated @${at}` };
    case 6:
      return { value: s.replace(/\n/g, '\r\n'), op: 'CRLF line ends' };
    case 7:
      return { value: s + rng.pick(['\n', ' ', 'x', '\n\n']), op: 'text appended' };
    case 8:
      return { value: s.toUpperCase() === s ? s.toLowerCase() : s.toUpperCase(), op: 'case changed' };
    case 9:
      return { value: '', op: 'emptied' };
    case 10:
      return { value: s.repeat(2), op: 'doubled' };
    default: {
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      const copy = [...lines];
      [copy[i], copy[j]] = [copy[j], copy[i]];
      return { value: copy.join('\n'), op: `lines ${i} and ${j} swapped` };
    }
  }
}
