/**
 * The gob codec of the credential cache against Go itself: the vectors in test/fixtures/gob-vectors.json
 * are the exact bytes Go's net/rpc client and server wrote for gitsign's calls (test/go/cachepeer
 * vectors). Our decoder reads Go's bytes, in one piece and as they trickle in; our encoder writes
 * Go's client bytes exactly, and Go's own decoder (cachepeer decode) reads what we write. Then
 * hostile streams: each broken rule gives the CACHE_PROTOCOL error and its sentence, never anything
 * else, and random damage to Go's bytes never gives another kind of error.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GitsignError } from '../src/errors';
import { GobDecoder, type StructValue } from '../src/cache/gob/decoder';
import { GobEncoder } from '../src/cache/gob/encoder';
import { INTERFACE, STRING, type StructType, writeStructDefinition } from '../src/cache/gob/types';
import { GobWriter } from '../src/cache/gob/wire';
import { CONFIG, CREDENTIAL, EMPTY, encodeCall, encodeReply, GET_CREDENTIAL, GET_CREDENTIAL_REQUEST, type GoConfig, type Reply, REQUEST_HEADER, RESPONSE_HEADER, STORE_CREDENTIAL, STORE_CREDENTIAL_REQUEST, type WireCredential } from '../src/cache/rpc';
import { jsonLines, runGo } from './helpers/goPeer';
import { ROOT } from './helpers/paths';

interface CredentialJson {
  privateKey: string;
  cert: string;
  chain: string;
}
interface Message {
  method: string;
  seq: number;
  error?: string;
  body: unknown;
  end: number;
}
interface Vectors {
  go: string;
  id: string;
  config: Record<string, string | number | boolean>;
  credential: CredentialJson;
  loginCredential: CredentialJson;
  requests: { stream: string; messages: Message[] };
  responses: { stream: string; messages: Message[] };
}

const V = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'gob-vectors.json'), 'utf8')) as Vectors;
const requestStream = Buffer.from(V.requests.stream, 'hex');
const responseStream = Buffer.from(V.responses.stream, 'hex');

const wire = (c: CredentialJson): WireCredential => ({ privateKey: Buffer.from(c.privateKey), cert: Buffer.from(c.cert), chain: Buffer.from(c.chain) });
const credentialJson = (v: StructValue): CredentialJson => ({ privateKey: String(v.PrivateKey), cert: String(v.Cert), chain: String(v.Chain) });

/** Go's JSON of a Config (numbers) as our decoded values (bigints), and back. */
function goConfigOf(json: Record<string, string | number | boolean>): GoConfig {
  const out: GoConfig = {};
  for (const f of CONFIG.fields) {
    const v = json[f.name];
    out[f.name] = typeof v === 'number' ? BigInt(v) : v;
  }
  return out;
}
function configJson(v: StructValue): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'bigint' ? Number(x) : x]));
}

const ARGUMENTS: Record<string, StructType> = { [GET_CREDENTIAL]: GET_CREDENTIAL_REQUEST, [STORE_CREDENTIAL]: STORE_CREDENTIAL_REQUEST };

/** Every call in `stream`, in cachepeer decode's shape; `chunks` feeds the bytes in pieces. */
function decodeCalls(chunks: Buffer[], after?: (done: number) => void): unknown[] {
  const dec = new GobDecoder();
  const out: unknown[] = [];
  let header: StructValue | null = null;
  for (const chunk of chunks) {
    dec.push(chunk);
    for (;;) {
      header ??= dec.next(REQUEST_HEADER)?.value ?? null;
      if (!header) break;
      const argType = ARGUMENTS[header.ServiceMethod as string] ?? null;
      const arg = dec.next(argType);
      if (!arg) break;
      const v = arg.value;
      let body: unknown = null;
      if (v && argType === GET_CREDENTIAL_REQUEST) body = { id: v.ID, config: v.Config ? configJson(v.Config as StructValue) : null };
      if (v && argType === STORE_CREDENTIAL_REQUEST) body = { id: v.ID, credential: v.Credential ? credentialJson(v.Credential as StructValue) : null };
      out.push({ method: header.ServiceMethod, seq: Number(header.Seq), body });
      header = null;
    }
    after?.(out.length);
  }
  return out;
}

function decodeReplies(stream: Buffer): unknown[] {
  const dec = new GobDecoder();
  dec.push(stream);
  const out: unknown[] = [];
  for (;;) {
    const h = dec.next(RESPONSE_HEADER)?.value;
    if (!h) break;
    const error = h.Error as string;
    const body = dec.next(error ? null : CREDENTIAL);
    assert.ok(body, 'a reply without its body');
    out.push({ method: h.ServiceMethod, seq: Number(h.Seq), ...(error ? { error } : {}), body: error ? null : credentialJson(body.value!) });
  }
  assert.equal(dec.pending, false);
  return out;
}

const withoutEnd = (messages: Message[]): unknown[] => messages.map(({ end: _end, ...m }) => m);

describe("Go's bytes, read by our decoder", () => {
  test('the calls of a Go net/rpc client (types once, a Config with every kind of field, a credential) decode to what Go read', () => {
    assert.deepEqual(decodeCalls([requestStream]), withoutEnd(V.requests.messages));
  });

  test('the calls decode as they arrive: each one complete exactly when its last byte has come, also byte by byte', () => {
    const ends = V.requests.messages.map((m) => m.end);
    let start = 0;
    const chunks = ends.map((end) => requestStream.subarray(start, (start = end)));
    const seen: number[] = [];
    decodeCalls(chunks, (done) => seen.push(done));
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
    const bytes = [...requestStream.subarray(0, ends[1])].map((b) => Buffer.of(b));
    const completedAt: number[] = [];
    let had = 0;
    decodeCalls(bytes, (done) => {
      had++;
      if (done > completedAt.length) completedAt.push(had);
    });
    assert.deepEqual(completedAt, [ends[0], ends[1]]);
  });

  test("the replies of Go's net/rpc server (a miss, a login's credential without a chain, an echo, a hit, an unknown method) decode to what Go read", () => {
    assert.deepEqual(decodeReplies(responseStream), withoutEnd(V.responses.messages));
  });
});

describe('our bytes, against Go', () => {
  function ourCalls(): Buffer {
    const enc = new GobEncoder();
    const get = (config: GoConfig | null): StructValue => ({ ID: V.id, Config: config });
    const cred = wire(V.credential);
    return Buffer.concat([
      encodeCall(enc, GET_CREDENTIAL, 0n, GET_CREDENTIAL_REQUEST, get(null)),
      encodeCall(enc, GET_CREDENTIAL, 1n, GET_CREDENTIAL_REQUEST, get(goConfigOf(V.config))),
      encodeCall(enc, STORE_CREDENTIAL, 2n, STORE_CREDENTIAL_REQUEST, { ID: V.id, Credential: { PrivateKey: cred.privateKey, Cert: cred.cert, Chain: cred.chain } }),
      encodeCall(enc, GET_CREDENTIAL, 3n, GET_CREDENTIAL_REQUEST, get(null)),
      encodeCall(enc, 'Service.Nope', 4n, GET_CREDENTIAL_REQUEST, get(null)),
    ]);
  }

  test("our calls are byte for byte what Go's net/rpc client wrote (definitions first, in Go's order, zero fields left out)", () => {
    assert.equal(ourCalls().toString('hex'), V.requests.stream);
  });

  test("Go's own decoder reads our calls, text that is not ASCII included", async () => {
    const enc = new GobEncoder();
    const id = 'hôst-☃@/home/dév/プロジェクト';
    const stream = Buffer.concat([ourCalls(), encodeCall(enc, GET_CREDENTIAL, 7n, GET_CREDENTIAL_REQUEST, { ID: id, Config: { Fulcio: 'https://fulcio.example/ü', AutocloseTimeout: -(2n ** 40n), RekorVersion: 2n ** 32n - 1n } })]);
    const r = await runGo(['decode', 'requests'], stream.subarray(ourCalls().length));
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const [line] = jsonLines(r.stdout) as { seq: number; body: { id: string; config: Record<string, unknown> } }[];
    assert.equal(line.seq, 7);
    assert.equal(line.body.id, id);
    assert.equal(line.body.config.Fulcio, 'https://fulcio.example/ü');
    assert.equal(line.body.config.AutocloseTimeout, -(2 ** 40));
    assert.equal(line.body.config.RekorVersion, 2 ** 32 - 1);
    const all = await runGo(['decode', 'requests'], ourCalls());
    assert.deepEqual(jsonLines(all.stdout), withoutEnd(V.requests.messages));
  });

  test("Go's own decoder reads our replies as it read Go's server's", async () => {
    const enc = new GobEncoder();
    const replies = V.responses.messages.map((m) => {
      const reply: Reply = m.error ? { error: m.error } : { credential: wire(m.body as CredentialJson) };
      return encodeReply(enc, m.method, BigInt(m.seq), reply);
    });
    const r = await runGo(['decode', 'responses'], Buffer.concat(replies));
    assert.equal(r.status, 0, r.stderr + r.stdout);
    assert.deepEqual(jsonLines(r.stdout), withoutEnd(V.responses.messages));
  });
});

/** One gob message holding what `build` writes. */
function message(build: (w: GobWriter) => void): Buffer {
  const w = new GobWriter();
  build(w);
  const body = w.toBuffer();
  const f = new GobWriter();
  f.uint(body.length);
  return Buffer.concat([f.toBuffer(), body]);
}
const define = (id: number, name: string, fields: { name: string; id: number }[]): Buffer => message((w) => writeStructDefinition(w, id, name, fields));
const REQUEST_DEF = define(65, 'Request', [
  { name: 'ServiceMethod', id: STRING },
  { name: 'Seq', id: 3 },
]);

function refusal(stream: Buffer, expect: StructType = REQUEST_HEADER): GitsignError {
  const dec = new GobDecoder();
  try {
    dec.push(stream);
    const got = dec.next(expect);
    assert.fail(`accepted: ${JSON.stringify(got, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  } catch (err) {
    assert.ok(err instanceof GitsignError, `not a GitsignError: ${String(err)}`);
    return err;
  }
}

describe('hostile streams', () => {
  const cases: [string, Buffer, RegExp, StructType?][] = [
    ['a message longer than the cap', Buffer.from('fd020001', 'hex'), /a message of 131073 bytes is more than the 65536 accepted$/],
    ['a length of nine bytes', Buffer.from('f7ffffffffffffffffff', 'hex'), /a message length claims 9 bytes \(at most 8\)$/],
    ['an empty message', Buffer.from('00', 'hex'), /a message is empty$/],
    ['a definition of a predefined id', define(6, 'X', []), /a type definition for id 6 \(defined ids are 64 and up\)$/],
    ['a type defined twice', Buffer.concat([REQUEST_DEF, REQUEST_DEF]), /type 65 is defined twice$/],
    ['too many definitions', Buffer.concat(Array.from({ length: 40 }, (_, i) => define(100 + i, '', []))), /more than 32 type definitions$/],
    ['a value of an undefined type', message((w) => w.int(90)), /type 90 is not defined$/],
    ['a value of a predefined type', message((w) => (w.int(STRING), w.uint(0), w.string('x'))), /the message holds a string, not a struct$/],
    ['a type id beyond int32', message((w) => w.int(2n ** 40n)), /type id 1099511627776 is out of range$/],
    ['a field delta past the fields', Buffer.concat([REQUEST_DEF, message((w) => (w.int(65), w.uint(5)))]), /a field delta 5 is more than 2$/],
    [
      'a field of the wrong type',
      Buffer.concat([define(65, 'Request', [{ name: 'ServiceMethod', id: 2 }]), message((w) => (w.int(65), w.uint(1), w.int(5), w.uint(0)))]),
      /field ServiceMethod is a int, not a string$/,
    ],
    ['a string that is not UTF-8', Buffer.concat([REQUEST_DEF, message((w) => (w.int(65), w.uint(1), w.bytes(Buffer.from([0xc3, 0x28])), w.uint(0)))]), /a string is not UTF-8$/],
    ['a length past the end', Buffer.concat([REQUEST_DEF, message((w) => (w.int(65), w.uint(1), w.uint(100), w.uint(0)))]), /a length 100 is more than the 1 bytes left$/],
    ['bytes after the value', Buffer.concat([REQUEST_DEF, message((w) => (w.int(65), w.uint(0), w.uint(0)))]), /a value has bytes after its end$/],
    ['an integer running past the message', Buffer.concat([REQUEST_DEF, message((w) => (w.int(65), w.uint(2), w.uint(0xf8)))]), /it ends inside an integer$|it ends inside a value$/],
    ['a struct of another type', Buffer.concat([define(65, 'Evil', [{ name: 'Payload', id: STRING }]), message((w) => (w.int(65), w.uint(0)))]), /a Evil arrived where a Request was expected$/],
    ['an interface field', Buffer.concat([define(65, 'Request', [{ name: 'X', id: INTERFACE }, { name: 'Seq', id: 3 }]), message((w) => (w.int(65), w.uint(1), w.string('main.T'), w.uint(0)))]), /an interface value \(not used by the cache\) arrived$/],
    [
      'values nested 40 deep',
      Buffer.concat([define(65, 'Request', [{ name: 'Seq', id: 3 }, { name: 'Next', id: 65 }]), message((w) => { w.int(65); for (let i = 0; i < 40; i++) w.uint(2); for (let i = 0; i <= 40; i++) w.uint(0); })]),
      /values nest more than 16 deep$/,
    ],
    [
      'a slice claiming more elements than bytes',
      Buffer.concat([define(65, 'Request', [{ name: 'Seq', id: 3 }, { name: 'List', id: 66 }]), message((w) => (w.int(-66), w.uint(2), w.uint(1), w.uint(2), w.int(66), w.uint(0), w.uint(1), w.int(2), w.uint(0), w.uint(0))), message((w) => (w.int(65), w.uint(2), w.uint(1_000_000), w.uint(0)))]),
      /a slice length 1000000 is more than the 1 bytes left$/,
    ],
    ['a credential where a header is expected', Buffer.concat([define(65, 'Credential', [{ name: 'Cert', id: 5 }]), message((w) => (w.int(65), w.uint(0)))]), /a Credential arrived where a Request was expected$/],
  ];
  for (const [what, stream, why] of cases) {
    test(`${what}: CACHE_PROTOCOL, one sentence`, () => {
      const err = refusal(stream);
      assert.equal(err.code, 'CACHE_PROTOCOL');
      assert.match(err.message, /^the credential cache peer sent a malformed message: /);
      assert.match(err.message, why);
      assert.doesNotMatch(err.message, /\n/);
    });
  }

  test('too much waiting unread at once is refused before it is buffered', () => {
    const dec = new GobDecoder();
    assert.throws(() => dec.push(Buffer.alloc(5 * 64 * 1024)), (e: unknown) => e instanceof GitsignError && e.code === 'CACHE_PROTOCOL' && /arrived unread/.test(e.message));
  });

  test("20,000 random damages to Go's bytes: each decodes or is refused with CACHE_PROTOCOL, nothing else", () => {
    let seed = 12345;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const counts = { decoded: 0, refused: 0 };
    for (let i = 0; i < 20_000; i++) {
      const damaged = Buffer.from(i % 2 ? requestStream : responseStream);
      for (let k = 0, n = 1 + rand(4); k < n; k++) damaged[rand(damaged.length)] = rand(256);
      const cut = rand(3) === 0 ? damaged.subarray(0, rand(damaged.length)) : damaged;
      try {
        if (i % 2) decodeCalls([cut]);
        else {
          const dec = new GobDecoder();
          dec.push(cut);
          while (dec.next(RESPONSE_HEADER) && dec.next(null));
        }
        counts.decoded++;
      } catch (err) {
        if (!(err instanceof GitsignError && err.code === 'CACHE_PROTOCOL')) throw err;
        counts.refused++;
      }
    }
    assert.ok(counts.refused > 100 && counts.decoded > 100, JSON.stringify(counts));
  });

  test('an empty struct reply body (net/rpc after an error) decodes into nothing', () => {
    const enc = new GobEncoder();
    const dec = new GobDecoder();
    dec.push(enc.encode(EMPTY, {}));
    assert.deepEqual(dec.next(null), { value: null });
  });
});
