import { createHash } from 'node:crypto';
import { close, closeSync, constants, existsSync, fdatasync, fstatSync, fsyncSync, ftruncate, ftruncateSync, write } from 'node:fs';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { GitsignError } from '../../errors';
import { openOwnFile, readOwnFile, syncDirectory } from '../state/fsutil';

const writeAsync = promisify(write);
const fdatasyncAsync = promisify(fdatasync);
const ftruncateAsync = promisify(ftruncate);
const closeAsync = promisify(close);

/**
 * The log's entries on disk: one line per entry, `<json>\t<checksum>\n`, only ever appended. A batch is
 * written and fdatasync'ed before any of its entries is acknowledged. On open, a torn or half-written
 * last record (a crash mid-append, before the acknowledgement) is cut off; damage anywhere before it
 * means acknowledged entries were lost, and the sandbox refuses to start rather than serve another log.
 */
export interface StoredEntry {
  index: number;
  integratedTime: number;
  body: Buffer;
  /** Search keys the body cannot give back (a DSSE payload's digests); absent when there are none. */
  keys?: string[];
}

const checksum = (json: string): string => createHash('sha256').update(json).digest('hex').slice(0, 16);

export function encodeRecord(e: StoredEntry): Buffer {
  const json = JSON.stringify({ i: e.index, t: e.integratedTime, b: e.body.toString('base64'), ...(e.keys?.length ? { k: e.keys } : {}) });
  return Buffer.from(`${json}\t${checksum(json)}\n`);
}

function decodeRecord(line: string, expectedIndex: number): StoredEntry | undefined {
  const tab = line.lastIndexOf('\t');
  if (tab < 0) return undefined;
  const json = line.slice(0, tab);
  if (checksum(json) !== line.slice(tab + 1)) return undefined;
  try {
    const r = JSON.parse(json) as { i: unknown; t: unknown; b: unknown; k?: unknown };
    if (r.i !== expectedIndex || typeof r.t !== 'number' || typeof r.b !== 'string') return undefined;
    if (r.k !== undefined && !(Array.isArray(r.k) && r.k.every((k) => typeof k === 'string'))) return undefined;
    return { index: r.i, integratedTime: r.t, body: Buffer.from(r.b, 'base64'), ...(r.k ? { keys: r.k as string[] } : {}) };
  } catch {
    return undefined;
  }
}

export interface LoadResult {
  entries: StoredEntry[];
  /** Bytes of a torn last record that were cut off (0 when the file was clean). */
  discardedBytes: number;
}

/** Reads every complete record; truncates a torn tail in place. */
export function loadEntries(path: string): LoadResult {
  const data = readOwnFile(path);
  if (!data) return { entries: [], discardedBytes: 0 };
  const entries: StoredEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    const nl = data.indexOf(0x0a, offset);
    const end = nl < 0 ? data.length : nl;
    const entry = nl < 0 ? undefined : decodeRecord(data.subarray(offset, end).toString('utf8'), entries.length);
    if (!entry) {
      // Only the very last record may be bad: it was never acknowledged.
      if (nl >= 0 && nl + 1 < data.length) {
        throw new GitsignError('CONFIG', `sandbox log ${path} is damaged at record ${entries.length} (byte ${offset}); refusing to start`);
      }
      const fd = openOwnFile(path, constants.O_RDWR);
      try {
        ftruncateSync(fd, offset);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      return { entries, discardedBytes: data.length - offset };
    }
    entries.push(entry);
    offset = nl + 1;
  }
  return { entries, discardedBytes: 0 };
}

export class EntryStore {
  /** Set when a failed append could not be cut back: appending more would bury a torn record. */
  private broken = false;

  private constructor(
    private readonly fd: number,
    private length: number,
  ) {}

  static async open(path: string): Promise<EntryStore> {
    const created = !existsSync(path);
    const fd = openOwnFile(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT);
    if (created) syncDirectory(dirname(path));
    return new EntryStore(fd, fstatSync(fd).size);
  }

  /** Appends a batch durably; on failure the file is cut back so no partial record stays behind. */
  async append(entries: StoredEntry[]): Promise<void> {
    if (this.broken) throw new Error('the log file could not be repaired after a failed write; restart the sandbox');
    const data = Buffer.concat(entries.map(encodeRecord));
    try {
      let written = 0;
      while (written < data.length) {
        const { bytesWritten } = await writeAsync(this.fd, data, written, data.length - written);
        written += bytesWritten;
      }
      await fdatasyncAsync(this.fd);
      this.length += data.length;
    } catch (err) {
      try {
        await ftruncateAsync(this.fd, this.length);
      } catch {
        this.broken = true; // the next start cuts the torn tail
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await closeAsync(this.fd);
  }
}
