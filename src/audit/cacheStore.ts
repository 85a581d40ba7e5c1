import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRegularFile } from '../files/regularFile';
import { writeAtomic } from '../trust/safeFiles';

/**
 * The files of the audit result cache: `GITDIR/gitsign/audit-cache/CONTEXT/seg-*.jsonl`, one directory
 * per context (what a result depends on besides the object: see cachedVerifier.ts), 0700 and ours.
 *
 * A segment is written whole by one audit (a temporary file renamed into place), never appended to,
 * so two audits at once each add their own; compaction merges segments into a new one before deleting
 * them, and a segment that vanishes under a reader is a miss. A segment is a header line (format,
 * context, MAC) and lines `OBJECT JSON`; the MAC is an HMAC-SHA256 over the context and every byte
 * after the header, with a per-user key kept outside the repository (the user's cache directory): a
 * repository that arrives with its .git (a tarball, a restored CI cache) cannot bring results of its
 * own. A segment whose MAC fails is ignored whole; a line that does not parse is a miss, never a result.
 *
 * The records of audits (record.ts) live beside the segments as `record-*.jsonl`, one per audit key,
 * replaced whole; their MAC also covers their name, so one record cannot stand in for another.
 */
const FORMAT = 1;
/** Segments before they are merged into one. */
const MAX_SEGMENTS = 8;
/** Bytes of one segment read at most; a larger file is ignored (and merged away). */
const MAX_SEGMENT_BYTES = 32 << 20;
/** Entries kept in one context: the merge keeps the newest. */
const MAX_ENTRIES = 200_000;
/** Contexts kept (a new trust root or gitsign-ts version starts one); the least recently written go first. */
const MAX_CONTEXTS = 4;
const SEGMENT = /^seg-[0-9a-z-]+\.jsonl$/;
const RECORD = /^record-[0-9a-f]{32}\.jsonl$/;
/** Records of audits kept per context (one per range base, ref, trust root and repository state): the least recently written go. */
const MAX_RECORDS = 8;
/** Bytes of a record read at most (a report line per commit: ~100,000 commits). */
const MAX_RECORD_BYTES = 64 << 20;
const CONTEXT = /^[0-9a-f]{32}$/;
const OBJECT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const KEY_BYTES = 32;
/** Segments are not fsync'ed: one lost or torn in a crash fails its MAC and is a miss (a cold run's time, nothing else). */
const NOT_DURABLE = { durable: false };
/** Objects searched for in the segments' text before they are mapped instead (each search reads them all); a question about more maps them at once. */
const SEARCHES_BEFORE_INDEX = 8;
/** Lines decoded ahead per turn of the event loop. */
const AHEAD_CHUNK = 512;


/** A directory of ours, not a link: anything else and the cache is not used. */
function ownDirectory(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  return Boolean(st && st.isDirectory() && !st.isSymbolicLink() && (process.getuid === undefined || st.uid === process.getuid()));
}

function ensureDirectory(path: string): boolean {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch {
    return false;
  }
  return ownDirectory(path);
}

/** A regular file's bytes, read without following a link, or null (missing, not a file, too large). */
function readRegular(path: string, max: number): Buffer | null {
  const r = readRegularFile(path, max, { noFollow: true });
  return r.ok ? r.bytes : null;
}

/**
 * The per-user MAC key, made on first use (32 random bytes, 0600): written under a temporary name and
 * linked into place, so two first audits agree on one key. Null when there is no place for it.
 */
export function macKey(dir: string | null): Buffer | null {
  if (dir === null || !ensureDirectory(dir)) return null;
  const path = join(dir, 'audit-cache.key');
  let key = readRegular(path, KEY_BYTES);
  if (key === null) {
    const tmp = join(dir, `audit-cache.key.${process.pid}.${randomBytes(6).toString('hex')}`);
    try {
      writeFileSync(tmp, randomBytes(KEY_BYTES), { flag: 'wx', mode: 0o600 });
      linkSync(tmp, path);
    } catch {
      // Another audit linked its key first (EEXIST): that one is read below.
    } finally {
      rmSync(tmp, { force: true });
    }
    key = readRegular(path, KEY_BYTES);
  }
  return key && key.length === KEY_BYTES ? key : null;
}

export interface CacheLine {
  object: string;
  /** The JSON of the result, exactly as MACed. */
  json: string;
}

/** One context's results on disk: read at the first question, written once at the end; and its audits' records. */
export class CacheStore {
  /** Results by object, from segments whose MAC holds (the newest segment's when several have one). */
  private readonly lines = new Map<string, string>();
  private readonly segments: string[] = [];
  private readonly added: CacheLine[] = [];
  private readonly used = new Set<string>();
  /** Segments are read at the first question (an audit resumed from its record asks few, or none), and mapped by object only for many. */
  private loaded = false;
  private indexed = false;
  /** Objects searched for in the segments' text so far (find). */
  private searches = 0;
  /** The bodies of the segments whose MAC holds, oldest first. */
  private readonly bodies: string[] = [];

  private constructor(
    private readonly dir: string,
    private readonly context: string,
    private readonly key: Buffer,
  ) {}

  /** The store of a context under GITDIR/gitsign/AREA (audit-cache: results; audit-paths: changed paths), or null when it cannot be used safely. */
  static open(gitDir: string, context: string, key: Buffer | null, area: 'audit-cache' | 'audit-paths' = 'audit-cache'): CacheStore | null {
    if (key === null || !CONTEXT.test(context)) return null;
    const base = join(gitDir, 'gitsign');
    const root = join(base, area);
    const dir = join(root, context);
    if (!ensureDirectory(dir) || !ownDirectory(base) || !ownDirectory(root)) return null;
    return new CacheStore(dir, context, key);
  }

  private mac(body: string | Buffer, record?: string): string {
    const h = createHmac('sha256', this.key).update(`${this.context}\n`);
    // A record's MAC covers its name (which says what it is the record of): one cannot stand for another.
    if (record !== undefined) h.update(`record ${record}\n`);
    return h.update(body).digest('hex');
  }

  private segment(lines: string[]): string {
    const body = lines.map((l) => `${l}\n`).join('');
    return `${JSON.stringify({ gitsignAuditCache: FORMAT, context: this.context, mac: this.mac(body) })}\n${body}`;
  }

  /** The body of the record of this name (record.ts), when it is ours and whole; else null. */
  readRecord(name: string): string | null {
    if (!RECORD.test(name)) return null;
    const bytes = readRegular(join(this.dir, name), MAX_RECORD_BYTES);
    return bytes === null ? null : this.body(bytes, name);
  }

  /** Writes the record of this name (replacing the last one), and keeps only the most recently written few; never fails the audit. */
  writeRecord(name: string, body: string): void {
    try {
      // Encoded once: measured, sizing and MACing the text again cost more than writing it.
      const bytes = Buffer.from(body);
      if (!RECORD.test(name) || bytes.length > MAX_RECORD_BYTES - 4096) return;
      const head = Buffer.from(`${JSON.stringify({ gitsignAuditCache: FORMAT, context: this.context, record: name, mac: this.mac(bytes, name) })}\n`);
      writeAtomic(join(this.dir, name), Buffer.concat([head, bytes]), NOT_DURABLE);
      const records = readdirSync(this.dir)
        .filter((n) => RECORD.test(n))
        .map((n) => ({ n, t: lstatSync(join(this.dir, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
        .sort((a, b) => b.t - a.t);
      for (const r of records.slice(MAX_RECORDS)) if (r.n !== name) rmSync(join(this.dir, r.n), { force: true });
    } catch {
      // The next run judges every commit again: time, nothing else.
    }
  }

  /** The body of a segment (or of the record `record`) of this context whose MAC holds, or null. */
  private body(bytes: Buffer, record?: string): string | null {
    const nl = bytes.indexOf(0x0a);
    if (nl === -1) return null;
    let head: unknown;
    try {
      head = JSON.parse(bytes.subarray(0, nl).toString('utf8'));
    } catch {
      return null;
    }
    const h = head as { gitsignAuditCache?: unknown; context?: unknown; mac?: unknown; record?: unknown };
    if (typeof head !== 'object' || head === null || h.gitsignAuditCache !== FORMAT || h.context !== this.context || typeof h.mac !== 'string' || h.record !== record) return null;
    // MACed as bytes: the body is decoded to text only once it is known to be ours.
    const body = bytes.subarray(nl + 1);
    const want = Buffer.from(this.mac(body, record), 'hex');
    const got = Buffer.from(h.mac, 'hex');
    return got.length === want.length && timingSafeEqual(got, want) ? body.toString('utf8') : null;
  }

  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((n) => SEGMENT.test(n)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      this.segments.push(name);
      const bytes = readRegular(join(this.dir, name), MAX_SEGMENT_BYTES);
      const body = bytes === null ? null : this.body(bytes);
      if (body !== null) this.bodies.push(body);
    }
  }

  /** Every line in a map by object, the newest segment's where several have one: for runs that ask about many objects. */
  private index(): void {
    this.load();
    if (this.indexed) return;
    this.indexed = true;
    for (const body of this.bodies) {
      for (const line of body.split('\n')) {
        const space = line.indexOf(' ');
        const object = line.slice(0, space);
        if (space !== -1 && OBJECT.test(object)) this.lines.set(object, line.slice(space + 1));
      }
    }
  }

  /** The object's line as index() would map it, found in the segments' text without mapping them (a run that asks about few objects). */
  private find(object: string): string | undefined {
    // A search reads every segment's text: past a few, mapping them once costs less.
    if (!this.indexed && ++this.searches > SEARCHES_BEFORE_INDEX) this.index();
    if (this.indexed) return this.lines.get(object);
    this.load();
    if (!OBJECT.test(object)) return undefined;
    for (let i = this.bodies.length - 1; i >= 0; i--) {
      const body = this.bodies[i];
      const inner = body.lastIndexOf(`\n${object} `);
      const at = inner !== -1 ? inner + 1 : body.startsWith(`${object} `) ? 0 : -1;
      if (at === -1) continue;
      const end = body.indexOf('\n', at);
      return body.slice(at + object.length + 1, end === -1 ? undefined : end);
    }
    return undefined;
  }

  /** How many of these objects have a result: sizes the verifier for the rest. */
  holds(objects: readonly string[]): number {
    if (objects.length > SEARCHES_BEFORE_INDEX) this.index();
    return objects.reduce((n, o) => n + (this.find(o) !== undefined ? 1 : 0), 0);
  }

  /**
   * The lines as `decode` makes them. With `ahead`, decoded in the background (a few hundred per turn
   * of the event loop, which stays free for git's answers) so that `get` finds most already decoded;
   * else each when asked for (a run that asks about few objects). The lines do not change once read,
   * so neither do their values.
   */
  decoded<T>(decode: (json: string) => T, ahead: boolean): { get(object: string): T | undefined } {
    const decoded = new Map<string, T>();
    if (ahead) {
      this.index();
      const lines = this.lines.entries();
      const step = (): void => {
        for (let i = 0; i < AHEAD_CHUNK; i++) {
          const next = lines.next();
          if (next.done) return;
          decoded.set(next.value[0], decode(next.value[1]));
        }
        setImmediate(step).unref();
      };
      setImmediate(step).unref();
    }
    return {
      get: (object) => {
        const json = this.get(object);
        if (json === undefined) return undefined;
        return decoded.has(object) ? (decoded.get(object) as T) : decode(json);
      },
    };
  }

  /** The JSON of the object's result, or undefined. */
  get(object: string): string | undefined {
    const json = this.find(object);
    if (json !== undefined) this.used.add(object);
    return json;
  }

  put(object: string, json: string): void {
    if (!OBJECT.test(object) || json.includes('\n')) return;
    this.added.push({ object, json });
  }

  /** Writes this run's new results as one segment, merges when there are many; never fails the audit. */
  flush(): void {
    try {
      if (this.added.length === 0) return;
      this.load();
      const fresh = this.added.map(({ object, json }) => `${object} ${json}`);
      if (this.segments.length + 1 > MAX_SEGMENTS) this.compact(fresh);
      else writeAtomic(join(this.dir, segmentName()), this.segment(fresh), NOT_DURABLE);
      this.pruneContexts();
    } catch {
      // A cache that cannot be written costs the next run time, nothing else.
    }
  }

  /** One segment for all: this run's results first, then the ones this run used, then the rest, up to the cap. */
  private compact(fresh: string[]): void {
    this.index();
    const seen = new Set(this.added.map((a) => a.object));
    const kept: string[] = [];
    let bytes = 0;
    // The merged segment must stay readable: within the entry cap and the size a segment is read at.
    const keep = (line: string): boolean => {
      const size = Buffer.byteLength(line) + 1;
      if (kept.length >= MAX_ENTRIES || bytes + size > MAX_SEGMENT_BYTES - 4096) return false;
      kept.push(line);
      bytes += size;
      return true;
    };
    for (const line of fresh) if (!keep(line)) break;
    const older = [...this.lines.keys()].sort((a, b) => Number(this.used.has(b)) - Number(this.used.has(a)));
    for (const object of older) if (!seen.has(object) && !keep(`${object} ${this.lines.get(object) as string}`)) break;
    writeAtomic(join(this.dir, segmentName()), this.segment(kept), NOT_DURABLE);
    for (const name of this.segments) rmSync(join(this.dir, name), { force: true });
    for (const name of readdirSync(this.dir)) if (name.includes('.tmp-') && isStale(join(this.dir, name))) rmSync(join(this.dir, name), { force: true });
  }

  private pruneContexts(): void {
    const root = join(this.dir, '..');
    const contexts = readdirSync(root)
      .filter((n) => CONTEXT.test(n) && n !== this.context)
      .map((n) => ({ n, t: lstatSync(join(root, n), { throwIfNoEntry: false }) }))
      .filter((c) => c.t?.isDirectory())
      .sort((a, b) => (b.t?.mtimeMs ?? 0) - (a.t?.mtimeMs ?? 0));
    for (const c of contexts.slice(MAX_CONTEXTS - 1)) rmSync(join(root, c.n), { recursive: true, force: true });
  }
}

let sequence = 0;
function segmentName(): string {
  return `seg-${Date.now().toString(36)}-${process.pid.toString(36)}-${(sequence++).toString(36)}-${randomBytes(4).toString('hex')}.jsonl`;
}

/** A temporary file left by an audit that died (an hour old). */
function isStale(path: string): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs > 3600_000;
  } catch {
    return false;
  }
}
