import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { GitsignError } from '../errors';
import type { RawObject } from '../git/catFile';
import { type RenderedOutcome, renderFailure } from './verifyOutput';
import type { WorkerAnswer, WorkerRequest, WorkerSetup } from './verifyWorker';

/**
 * Verifies objects on worker threads, one per core: most of the work is ECDSA P-384 and P-256
 * verification, which a single thread cannot spread. Each object gets its own answer whatever happens
 * to another: a worker that dies is replaced, and the objects it held are verified again one at a time
 * on a worker of their own, so only an object that stops a worker by itself is reported (VERIFIER_FAILED).
 */
function workerFile(): string {
  // Bundled: dist/verifyWorker.js next to dist/commands.js; compiled by tsc: next to this file.
  const candidates = [join(__dirname, 'verifyWorker.js'), join(__dirname, '..', 'cli', 'verifyWorker.js')];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new GitsignError('INTERNAL', `verification worker not found (looked for ${candidates.join(', ')})`);
  return found;
}

/**
 * What a worker thread runs: the worker file through its V8 code cache (codeCache.ts, next to it),
 * saved once the worker has answered its first objects, when the verification path is compiled.
 */
function workerScript(file: string): string {
  const helper = join(dirname(file), 'codeCache.js');
  // A compiler flag this process changed is the worker's too: its cache is then still read and made under the defaults.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const flag = (require(helper) as typeof import('./codeCache')).compilerFlagChange();
  const tell = flag ? `cc.setCompilerFlag(${JSON.stringify(flag.set)}, ${JSON.stringify(flag.unset)}); ` : '';
  return `const cc = require(${JSON.stringify(helper)}); ${tell}const w = cc.runCached(${JSON.stringify(file)}, { saveAtExit: false }); w.exports.afterFirstAnswer(w.saveCache);`;
}

interface Job {
  id: number;
  object: RawObject;
  resolve: (r: RenderedOutcome) => void;
}

interface Slot {
  worker: Worker;
  /** Objects sent to this worker and not answered yet. */
  held: Map<number, Job>;
  /** Why it stopped, from its 'error' event ('exit' follows). */
  why?: string;
}

/** Regular workers that may die in a row, with no answer from any worker in between, before no more are started. */
const MAX_BARREN_DEATHS = 4;

/**
 * Objects sent to a worker in one message (and answered in one): a message costs both threads a
 * wake-up and a (de)serialization, whatever it holds. Small enough that answers keep coming while the
 * other objects of the window are verified.
 */
const BATCH = 16;

function deathReason(err: unknown): string {
  return (err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'ran out of memory' : 'failed';
}

export class VerifyPool {
  private readonly script = workerScript(workerFile());
  private readonly regular: Slot[] = [];
  /** Objects held by a worker that died: each is verified again alone, in order. */
  private readonly suspects: Job[] = [];
  /** The worker that verifies one suspect at a time. */
  private isolation: Slot | null = null;
  private barrenDeaths = 0;
  private gaveUp: string | null = null;
  private closing = false;
  private next = 0;
  /** Objects asked for in this turn of the event loop, sent together when it ends. */
  private queued: Job[] = [];

  constructor(size: number, private readonly setup: WorkerSetup) {
    for (let i = 0; i < size; i++) this.regular.push(this.spawn());
  }

  verify(object: RawObject): Promise<RenderedOutcome> {
    return new Promise((resolve) => {
      if (this.queued.length === 0) setImmediate(() => this.dispatch());
      this.queued.push({ id: this.next++, object, resolve });
    });
  }

  /** The queued objects, each to the worker holding the fewest, in messages of up to BATCH objects. */
  private dispatch(): void {
    const jobs = this.queued;
    this.queued = [];
    if (this.closing) return;
    const outgoing = new Map<Slot, Job[]>();
    for (const job of jobs) {
      if (this.regular.length === 0) {
        this.fail(job, this.gaveUp ?? 'no verification worker is running');
        continue;
      }
      const slot = this.regular.reduce((a, b) => (b.held.size < a.held.size ? b : a));
      slot.held.set(job.id, job);
      const list = outgoing.get(slot) ?? [];
      outgoing.set(slot, list);
      list.push(job);
    }
    for (const [slot, list] of outgoing) {
      for (let i = 0; i < list.length; i += BATCH) this.send(slot, list.slice(i, i + BATCH));
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    const all = this.isolation ? [...this.regular, this.isolation] : this.regular;
    await Promise.all(all.map((s) => s.worker.terminate()));
  }

  private send(slot: Slot, jobs: Job[]): void {
    const request: WorkerRequest = { jobs: jobs.map((j) => ({ id: j.id, object: j.object })) };
    slot.worker.postMessage(request);
  }

  private fail(job: Job, message: string): void {
    job.resolve(renderFailure(job.object, new GitsignError('VERIFIER_FAILED', message), this.setup.identity, this.setup.render));
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script, { eval: true, workerData: this.setup }), held: new Map() };
    slot.worker.on('message', (m: WorkerAnswer) => {
      for (const { id, result } of m.answers) {
        const job = slot.held.get(id);
        if (!job) continue;
        slot.held.delete(id);
        this.barrenDeaths = 0;
        job.resolve(result);
      }
      if (slot === this.isolation) this.runSuspect();
    });
    slot.worker.on('error', (err) => (slot.why = deathReason(err)));
    // An answer that cannot be read would leave its object waiting forever: end the worker, so it is reported.
    slot.worker.on('messageerror', () => void slot.worker.terminate());
    slot.worker.on('exit', (code) => this.died(slot, slot.why ?? `stopped (exit code ${code})`));
    return slot;
  }

  private died(slot: Slot, why: string): void {
    if (this.closing) return;
    const held = [...slot.held.values()];
    slot.held.clear();
    if (slot === this.isolation) {
      // It held one object only: that object is what stopped it.
      this.isolation = null;
      for (const job of held) this.fail(job, `the verifier stopped while checking this object alone (its worker ${why}); it is not verified`);
    } else {
      this.regular.splice(this.regular.indexOf(slot), 1);
      this.suspects.push(...held);
      if (++this.barrenDeaths < MAX_BARREN_DEATHS) this.regular.push(this.spawn());
      else this.gaveUp = `verification workers keep stopping (the last one ${why}); not verified`;
    }
    this.runSuspect();
  }

  /** The next suspect, alone on the isolation worker, once the previous one is answered. */
  private runSuspect(): void {
    if (this.isolation?.held.size) return;
    if (this.gaveUp) {
      for (const job of this.suspects.splice(0)) this.fail(job, this.gaveUp);
      return;
    }
    const job = this.suspects.shift();
    if (!job) return;
    this.isolation ??= this.spawn();
    this.isolation.held.set(job.id, job);
    this.send(this.isolation, [job]);
  }
}
