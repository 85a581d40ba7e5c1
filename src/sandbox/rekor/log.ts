import { createHash, sign, type KeyObject } from 'node:crypto';
import { json } from '@sigstore/core';
import { spkiOf } from '../x509/build';
import { signCheckpoint } from './checkpoint';
import { leafHash, MerkleTree } from './merkle';
import type { EntryStore, StoredEntry } from './store';

/**
 * The transparency log: the Merkle tree over canonical bodies, the durable store, lookups by UUID and
 * by search key, and the signed views Rekor returns (LogEntryAnon with SET, inclusion proof and
 * checkpoint). Appends are group-committed: concurrent requests share one write and one fdatasync,
 * and each learns its index only once its entry is durable.
 */
export interface LogEntryAnon {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    inclusionProof: { checkpoint: string; hashes: string[]; logIndex: number; rootHash: string; treeSize: number };
    signedEntryTimestamp: string;
  };
}

interface Queued {
  body: Buffer;
  uuid: string;
  indexKeys: string[];
  storedKeys: string[];
  resolve: (index: number) => void;
  reject: (err: unknown) => void;
}

export type AddResult = { index: number; created: true } | { index: number; created: false };

export class TransparencyLog {
  readonly logId: Buffer;
  readonly treeIdHex: string;
  readonly origin: string;
  private readonly tree = new MerkleTree();
  private readonly bodies: Buffer[] = [];
  private readonly times: number[] = [];
  private readonly byUuid = new Map<string, number>();
  private readonly index = new Map<string, number[]>();
  private readonly pending = new Map<string, Promise<number>>();
  private queue: Queued[] = [];
  private flushing: Promise<void> | undefined;
  private cachedCheckpoint: { size: number; text: string } | undefined;

  constructor(
    private readonly store: EntryStore,
    private readonly key: KeyObject,
    readonly publicKey: KeyObject,
    readonly treeId: string,
    /** The checkpoint signer name (Rekor's hostname). */
    readonly name: string,
    /** Rekor v2 names its log by the C2SP key ID and its checkpoints by the bare name. */
    naming?: { logId: Buffer; origin: string },
  ) {
    this.logId = naming?.logId ?? createHash('sha256').update(spkiOf(publicKey)).digest();
    this.treeIdHex = BigInt(treeId).toString(16).padStart(16, '0');
    this.origin = naming?.origin ?? `${name} - ${treeId}`;
  }

  /** Replays entries read from disk (startup). Index keys are recomputed by the caller, plus those stored. */
  restore(entry: StoredEntry, indexKeys: string[]): void {
    this.integrate(entry.body, entry.integratedTime, [...indexKeys, ...(entry.keys ?? [])]);
  }

  get size(): number {
    return this.tree.size;
  }

  private integrate(body: Buffer, time: number, indexKeys: string[]): number {
    const i = this.tree.size;
    const leaf = leafHash(body);
    this.tree.append(leaf);
    this.bodies.push(body);
    this.times.push(time);
    this.byUuid.set(leaf.toString('hex'), i);
    for (const k of new Set(indexKeys)) {
      const list = this.index.get(k) ?? [];
      list.push(i);
      this.index.set(k, list);
    }
    return i;
  }

  /**
   * Adds a canonical body, or reports the index of the identical entry already logged. `storedKeys`
   * are the index keys a restart could not recompute from the body: they are written with it.
   */
  async add(body: Buffer, indexKeys: string[], storedKeys: string[] = []): Promise<AddResult> {
    const uuid = leafHash(body).toString('hex');
    const existing = this.byUuid.get(uuid);
    if (existing !== undefined) return { index: existing, created: false };
    const inFlight = this.pending.get(uuid);
    if (inFlight) return { index: await inFlight, created: false };
    const p = new Promise<number>((resolve, reject) => {
      this.queue.push({ body, uuid, indexKeys, storedKeys, resolve, reject });
    });
    this.pending.set(uuid, p);
    this.scheduleFlush();
    try {
      return { index: await p, created: true };
    } finally {
      this.pending.delete(uuid);
    }
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        const time = Math.floor(Date.now() / 1000);
        const records = batch.map((q, k) => ({ index: this.tree.size + k, integratedTime: time, body: q.body, keys: q.storedKeys }));
        try {
          await this.store.append(records);
        } catch (err) {
          for (const q of batch) q.reject(err);
          continue;
        }
        for (const q of batch) q.resolve(this.integrate(q.body, time, q.indexKeys));
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.queue.length) this.scheduleFlush();
    });
  }

  /** Waits until every accepted write is durable (shutdown). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  uuidAt(index: number): string {
    return this.tree.leaf(index).toString('hex');
  }

  entryId(index: number): string {
    return this.treeIdHex + this.uuidAt(index);
  }

  findUuid(uuid: string): number | undefined {
    return this.byUuid.get(uuid.toLowerCase());
  }

  search(key: string): number[] {
    return this.index.get(key.toLowerCase()) ?? [];
  }

  root(size = this.size): Buffer {
    return this.tree.root(size);
  }

  consistencyProof(first: number, last: number): Buffer[] {
    return this.tree.consistencyProof(first, last);
  }

  checkpoint(size = this.size): string {
    if (this.cachedCheckpoint?.size === size) return this.cachedCheckpoint.text;
    const text = signCheckpoint(this.name, this.origin, size, this.tree.root(size), this.key, this.logId);
    if (size === this.size) this.cachedCheckpoint = { size, text };
    return text;
  }

  bodyAt(index: number): Buffer {
    return this.bodies[index];
  }

  /** The entry's inclusion proof against the current tree, with the checkpoint that signs its root. */
  inclusion(index: number): { treeSize: number; rootHash: Buffer; hashes: Buffer[]; checkpoint: string } {
    const size = this.size;
    return { treeSize: size, rootHash: this.tree.root(size), hashes: this.tree.inclusionProof(index, size), checkpoint: this.checkpoint(size) };
  }

  /** The entry as Rekor returns it: { "<entry ID>": LogEntryAnon }, proven against the current tree. */
  entry(index: number): Record<string, LogEntryAnon> {
    const proof = this.inclusion(index);
    const anon = {
      body: this.bodies[index].toString('base64'),
      integratedTime: this.times[index],
      logID: this.logId.toString('hex'),
      logIndex: index,
    };
    const set = sign('sha256', Buffer.from(json.canonicalize(anon), 'utf8'), this.key);
    return {
      [this.entryId(index)]: {
        ...anon,
        verification: {
          inclusionProof: {
            checkpoint: proof.checkpoint,
            hashes: proof.hashes.map((h) => h.toString('hex')),
            logIndex: index,
            rootHash: proof.rootHash.toString('hex'),
            treeSize: proof.treeSize,
          },
          signedEntryTimestamp: set.toString('base64'),
        },
      },
    };
  }
}
