import { GitsignError } from '../errors';
import { gitFailure, gitNotRun } from './failure';
import { objectIdMatches } from './objectHash';
import { type PipedProcess, spawnPiped } from './spawnPiped';

/**
 * One `git cat-file --batch` process for many objects: raw bytes as Buffers, never decoded, and no
 * process start per object.
 */
export interface RawObject {
  sha: string;
  type: string;
  raw: Buffer;
}

/** The line `git cat-file --batch` answers before an object's bytes: ID, type, size ("<name> missing" otherwise). */
export const BATCH_HEADER = /^([0-9a-f]{40}|[0-9a-f]{64}) (\S+) (\d+)$/;

export class CatFile {
  private readonly proc: PipedProcess;
  /** Received bytes not read yet: `buf`, then the chunks after it (joined only when `buf` runs short, so each byte is copied about once). */
  private buf: Buffer = Buffer.alloc(0);
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  /** Requests not written yet: sent in one write when this turn of the event loop ends. */
  private requests = '';
  private waiting: (() => void) | null = null;
  private ended = false;
  private stderr = '';
  /** Set when git could not be started at all. */
  private spawnError: NodeJS.ErrnoException | null = null;

  constructor(cwd?: string) {
    this.proc = spawnPiped('git', ['cat-file', '--batch'], { cwd });
    this.proc.stdout.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.chunkBytes += d.length;
      this.wake();
    });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.proc.on('close', () => {
      this.ended = true;
      this.wake();
    });
    this.proc.on('error', (err: NodeJS.ErrnoException) => {
      this.spawnError = err;
      this.ended = true;
      this.wake();
    });
    // git may exit at once (outside a repository) while requests are still being written: the write
    // then fails with EPIPE, which is not the error to report; git's own message (stderr) is.
    this.proc.stdin.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  /** Moves every received chunk into `buf`. */
  private join(): void {
    if (this.chunks.length === 0) return;
    this.buf = this.buf.length === 0 && this.chunks.length === 1 ? this.chunks[0] : Buffer.concat([this.buf, ...this.chunks]);
    this.chunks = [];
    this.chunkBytes = 0;
  }

  private async need(n: number): Promise<void> {
    while (this.buf.length + this.chunkBytes < n) {
      if (this.ended) throw this.spawnError ? gitNotRun(this.spawnError) : gitFailure('git cat-file ended early', this.stderr);
      await new Promise<void>((r) => (this.waiting = r));
    }
    if (this.buf.length < n) this.join();
  }

  private async line(): Promise<string> {
    for (let searched = 0; ; ) {
      const nl = this.buf.indexOf(0x0a, searched);
      if (nl !== -1) {
        const text = this.buf.toString('utf8', 0, nl);
        this.buf = this.buf.subarray(nl + 1);
        return text;
      }
      searched = this.buf.length;
      await this.need(this.buf.length + 1);
    }
  }

  /** Reads one object by any name git understands (SHA, ref, rev^{commit}); null when missing. */
  async read(name: string): Promise<RawObject | null> {
    this.request(name);
    return this.response();
  }

  /**
   * Objects for a stream of names, in order, with up to `window` requests in flight: git looks up
   * the next objects while we verify this one instead of waiting for each round trip. Requests are
   * topped up once half the window is answered, not after every answer: each write of names wakes
   * git, which then answers them back to back (corpus, 128 in flight: 91 writes became 22, and the
   * run 3% shorter).
   */
  async *readAll(names: AsyncIterable<string>, window = 64): AsyncGenerator<{ name: string; object: RawObject | null }> {
    const it = names[Symbol.asyncIterator]();
    const inFlight: string[] = [];
    let exhausted = false;
    const fill = async (): Promise<void> => {
      while (!exhausted && inFlight.length < window) {
        const next = await it.next();
        if (next.done) exhausted = true;
        else {
          this.request(next.value);
          inFlight.push(next.value);
        }
      }
    };
    await fill();
    while (inFlight.length > 0) {
      const name = inFlight.shift() as string;
      yield { name, object: await this.response() };
      if (inFlight.length <= window / 2) await fill();
    }
  }

  private request(name: string): void {
    if (/[\n\r]/.test(name)) throw new GitsignError('USAGE', 'object names cannot contain newlines');
    // One write (one system call) for all the names asked for in this turn of the event loop, not one
    // per name; written before the next turn, so no name waits for the one after it.
    if (this.requests === '') {
      setImmediate(() => {
        const text = this.requests;
        this.requests = '';
        if (text) this.proc.stdin.write(text);
      });
    }
    this.requests += `${name}\n`;
  }

  private async response(): Promise<RawObject | null> {
    const header = await this.line();
    const m = BATCH_HEADER.exec(header);
    if (!m) return null; // "<name> missing" or "ambiguous"
    const size = Number(m[3]);
    await this.need(size + 1);
    // Its own memory, exactly its size: not a view that keeps the chunk alive, nor a slice of Buffer's
    // shared pool (a worker would be sent the whole pool with it).
    const raw = Buffer.allocUnsafeSlow(size);
    this.buf.copy(raw, 0, 0, size);
    this.buf = this.buf.subarray(size + 1);
    if (!objectIdMatches(m[1], m[2], raw)) {
      throw new GitsignError('GIT', `git read bytes for ${m[1]} that are not that object (they hash to another ID): the repository's object store is corrupt or was tampered with (git fsck names what is wrong)`);
    }
    return { sha: m[1], type: m[2], raw };
  }

  close(): void {
    const text = this.requests;
    this.requests = '';
    if (text) this.proc.stdin.end(text);
    else this.proc.stdin.end();
  }
}
