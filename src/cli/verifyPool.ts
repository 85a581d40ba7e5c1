import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RawObject } from '../git/catFile';
import type { RenderedOutcome } from './verifyOutput';
import type { WorkerSetup } from './verifyWorker';

/**
 * Verifies objects on worker threads, one per core: most of the work is ECDSA P-384 and P-256
 * verification, which a single thread cannot spread. Results come back in submission order.
 */
function workerFile(): string {
  // Bundled: dist/verifyWorker.js next to dist/commands.js; compiled by tsc: next to this file.
  const candidates = [join(__dirname, 'verifyWorker.js'), join(__dirname, '..', 'cli', 'verifyWorker.js')];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`verification worker not found (looked for ${candidates.join(', ')})`);
  return found;
}

export class VerifyPool {
  private readonly workers: Worker[];
  private readonly waiting = new Map<number, (r: RenderedOutcome) => void>();
  private next = 0;
  private broken: string | null = null;

  constructor(size: number, setup: WorkerSetup) {
    const file = workerFile();
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(file, { workerData: setup });
      w.on('message', (m: RenderedOutcome & { id: number }) => {
        const resolve = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        resolve?.(m);
      });
      w.on('error', (err) => {
        this.broken = `gitsign: verification worker failed: ${err.message}\n`;
        for (const resolve of this.waiting.values()) resolve({ ok: false, out: '', err: this.broken });
        this.waiting.clear();
      });
      return w;
    });
  }

  verify(object: RawObject): Promise<RenderedOutcome> {
    if (this.broken) return Promise.resolve({ ok: false, out: '', err: this.broken });
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.workers[id % this.workers.length].postMessage({ id, object });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
