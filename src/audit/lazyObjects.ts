import { spawnSync } from 'node:child_process';
import { BATCH_HEADER, type RawObject } from '../git/catFile';
import { objectIdMatches } from '../git/objectHash';

/**
 * Objects read only when something needs their bytes. An audit answered from its cache judges most
 * commits from the cached facts alone; only a policy that pins a certificate claim needs the object,
 * whose certificate holds it. The first such need reads every registered object not read yet in one
 * `git cat-file --batch` per CHUNK (what an uncached audit reads anyway), so a policy that pins claims
 * costs a few processes, not one per commit, and one that pins none reads nothing.
 */
const CHUNK = 4096;
/** Bytes one batch answer may hold; more and those objects read as missing (a claim then matches nothing). */
const MAX_BATCH_BYTES = 1 << 30;

export class LazyObjects {
  private readonly pending = new Set<string>();
  private readonly loaded = new Map<string, RawObject | null>();

  constructor(private readonly cwd?: string) {}

  /** The object's bytes when first asked for (null: missing or unreadable); registers it for the shared read. */
  loader(sha: string): () => RawObject | null {
    if (!this.loaded.has(sha)) this.pending.add(sha);
    return () => {
      if (!this.loaded.has(sha)) this.readPending(sha);
      return this.loaded.get(sha) ?? null;
    };
  }

  private readPending(sha: string): void {
    this.pending.add(sha);
    const names = [...this.pending];
    this.pending.clear();
    for (const name of names) this.loaded.set(name, null);
    for (let i = 0; i < names.length; i += CHUNK) this.readBatch(names.slice(i, i + CHUNK));
  }

  /** One `git cat-file --batch` for these object IDs; a failed or odd answer leaves them missing. */
  private readBatch(names: string[]): void {
    const r = spawnSync('git', ['cat-file', '--batch'], { cwd: this.cwd, input: `${names.join('\n')}\n`, maxBuffer: MAX_BATCH_BYTES, stdio: ['pipe', 'pipe', 'ignore'] });
    const out = r.stdout;
    if (r.error || !Buffer.isBuffer(out)) return;
    let at = 0;
    for (const name of names) {
      const nl = out.indexOf(0x0a, at);
      if (nl === -1) return;
      const m = BATCH_HEADER.exec(out.toString('latin1', at, nl));
      at = nl + 1;
      if (!m) continue; // "<name> missing"
      const size = Number(m[3]);
      if (m[1] !== name || at + size > out.length) return;
      const raw = out.subarray(at, at + size);
      // Bytes that are not the object named (a tampered object store) stay missing: nothing is read from them.
      if (objectIdMatches(name, m[2], raw)) this.loaded.set(name, { sha: name, type: m[2], raw });
      at += size + 1;
    }
  }
}
