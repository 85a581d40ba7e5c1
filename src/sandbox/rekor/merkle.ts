import { createHash } from 'node:crypto';

/**
 * An RFC 6962 Merkle tree over the log's leaves. Hashes of complete, aligned power-of-two subtrees are
 * kept level by level, so any root, inclusion proof or consistency proof for any tree size costs
 * O(log^2 n) hashes.
 */
const EMPTY_ROOT = createHash('sha256').digest();

export function leafHash(data: Buffer): Buffer {
  return createHash('sha256').update(Buffer.from([0])).update(data).digest();
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(Buffer.from([1])).update(left).update(right).digest();
}

/** The largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class MerkleTree {
  /** levels[h][i] = hash of leaves [i * 2^h, (i + 1) * 2^h). */
  private readonly levels: Buffer[][] = [[]];

  get size(): number {
    return this.levels[0].length;
  }

  append(leaf: Buffer): void {
    let index = this.levels[0].length;
    this.levels[0].push(leaf);
    for (let h = 0; index % 2 === 1; h++) {
      const parent = nodeHash(this.levels[h][index - 1], this.levels[h][index]);
      if (!this.levels[h + 1]) this.levels[h + 1] = [];
      this.levels[h + 1].push(parent);
      index = (index - 1) / 2;
    }
  }

  leaf(index: number): Buffer {
    return this.levels[0][index];
  }

  /** MTH(D[start : start + n]). */
  private subtree(start: number, n: number): Buffer {
    if (n === 1) return this.levels[0][start];
    if ((n & (n - 1)) === 0 && start % n === 0) {
      const h = Math.log2(n);
      const cached = this.levels[h]?.[start / n];
      if (cached) return cached;
    }
    const k = splitPoint(n);
    return nodeHash(this.subtree(start, k), this.subtree(start + k, n - k));
  }

  root(size = this.size): Buffer {
    this.checkSize(size);
    return size === 0 ? EMPTY_ROOT : this.subtree(0, size);
  }

  /** PATH(m, D[size]) of RFC 6962 section 2.1.1, leaf to root. */
  inclusionProof(index: number, size = this.size): Buffer[] {
    this.checkSize(size);
    if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
    const path = (m: number, start: number, n: number): Buffer[] => {
      if (n === 1) return [];
      const k = splitPoint(n);
      return m < k ? [...path(m, start, k), this.subtree(start + k, n - k)] : [...path(m - k, start + k, n - k), this.subtree(start, k)];
    };
    return path(index, 0, size);
  }

  /** PROOF(m, D[n]) of RFC 6962 section 2.1.2. */
  consistencyProof(m: number, n = this.size): Buffer[] {
    this.checkSize(n);
    if (m < 1 || m > n) throw new RangeError(`no consistency proof from size ${m} to ${n}`);
    const sub = (m0: number, start: number, n0: number, complete: boolean): Buffer[] => {
      if (m0 === n0) return complete ? [] : [this.subtree(start, n0)];
      const k = splitPoint(n0);
      return m0 <= k
        ? [...sub(m0, start, k, complete), this.subtree(start + k, n0 - k)]
        : [...sub(m0 - k, start + k, n0 - k, false), this.subtree(start, k)];
    };
    return sub(m, 0, n, true);
  }

  private checkSize(size: number): void {
    if (!Number.isInteger(size) || size < 0 || size > this.size) throw new RangeError(`tree size ${size} is not available (size ${this.size})`);
  }
}
