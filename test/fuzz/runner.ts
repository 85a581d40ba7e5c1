import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CaseSummary, ToMain, ToWorker, WorkerSetup } from './worker';

/**
 * Runs cases [from, to) of a seed on worker threads: hands out chunks of case numbers, watches each
 * running case (a thread stuck longer than the watchdog is terminated, its case reported as a hang,
 * and a fresh worker takes the rest), saves every failing mutant with its reproducer, and counts.
 */
export interface FuzzOptions {
  seed: number;
  from: number;
  to: number;
  /** Run only these case numbers (reproducers). */
  only?: number[];
  workers: number;
  /** A case's own deadline inside the worker (async hangs). */
  deadlineMs: number;
  /** A thread stuck this long on one case is terminated (sync hangs). */
  watchdogMs: number;
  outDir?: string;
  /** The harness's own check that hangs are caught (see worker.ts). */
  selfTestHang?: WorkerSetup['selfTestHang'];
  progress?: (done: number, total: number) => void;
}

export interface ClassCounts {
  cases: number;
  rejected: Record<string, number>;
  accepted: Record<string, number>;
  failures: number;
}

export interface Failure {
  n: number;
  cls: string;
  subject: string;
  op: string;
  kind: string;
  why: string;
  file?: string;
}

export interface FuzzResult {
  seed: number;
  cases: number;
  ms: number;
  /** CPU time of the whole process (all threads), user + system: on an idle machine, wall ~ cpu / cores. */
  cpuMs: number;
  workers: number;
  setupMs: number[];
  baseline: string[];
  classes: Record<string, ClassCounts>;
  failures: Failure[];
  /** A few accepted mutants of each allowed class, for review. */
  acceptedExamples: Record<string, { n: number; cls: string; op: string }[]>;
  outDir: string;
}

const CHUNK = 20;

export function runFuzz(opts: FuzzOptions): Promise<FuzzResult> {
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), 'gitsign-fuzz-out-'));
  mkdirSync(outDir, { recursive: true });
  const queue: [number, number][] = [];
  if (opts.only) for (const n of opts.only) queue.push([n, n + 1]);
  else for (let a = opts.from; a < opts.to; a += CHUNK) queue.push([a, Math.min(opts.to, a + CHUNK)]);
  const total = queue.reduce((s, [a, b]) => s + b - a, 0);
  const result: FuzzResult = { seed: opts.seed, cases: 0, ms: 0, cpuMs: 0, workers: opts.workers, setupMs: [], baseline: [], classes: {}, failures: [], acceptedExamples: {}, outDir };
  let respawns = 0;

  return new Promise((resolve, reject) => {
    interface Slot {
      worker: Worker;
      chunk?: [number, number];
      current?: number;
      startedAt?: number;
      killed?: boolean;
      done?: boolean;
    }
    const slots = new Set<Slot>();
    let finished = false;

    const record = (s: CaseSummary): void => {
      result.cases++;
      const c = (result.classes[s.cls] ??= { cases: 0, rejected: {}, accepted: {}, failures: 0 });
      c.cases++;
      if (s.failure) {
        c.failures++;
        const f: Failure = { n: s.n, cls: s.cls, subject: s.subject, op: s.op, kind: s.failure.kind, why: s.failure.why };
        const base = join(outDir, `seed${opts.seed}-case${s.n}`);
        if (s.artifact) {
          f.file = `${base}.${s.artifact.ext}`;
          writeFileSync(f.file, Buffer.from(s.artifact.bytes));
        }
        writeFileSync(`${base}.txt`, `${JSON.stringify({ ...f, outcome: s.outcome, code: s.code, message: s.message, reproduce: `npm run fuzz -- --seed ${opts.seed} --case ${s.n}` }, null, 2)}\n`);
        result.failures.push(f);
      } else if (s.outcome === 'accepted') {
        for (const a of s.allowed ?? ['(none)']) {
          c.accepted[a] = (c.accepted[a] ?? 0) + 1;
          const ex = (result.acceptedExamples[a] ??= []);
          // Spread over classes: at most one example per mutation class, five in all.
          if (ex.length < 5 && !ex.some((e) => e.cls === s.cls)) ex.push({ n: s.n, cls: s.cls, op: s.op });
        }
      } else if (s.outcome === 'rejected') {
        c.rejected[s.code ?? '?'] = (c.rejected[s.code ?? '?'] ?? 0) + 1;
      }
      opts.progress?.(result.cases, total);
      if (result.cases >= total) finish();
    };

    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearInterval(watchdog);
      for (const s of slots) {
        s.done = true;
        s.worker.postMessage({ t: 'stop' } satisfies ToWorker);
        setTimeout(() => void s.worker.terminate(), 5000).unref();
      }
      result.ms = Date.now() - started;
      const cpu = process.cpuUsage(cpu0);
      result.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
      result.failures.sort((a, b) => a.n - b.n);
      resolve(result);
    };

    const lost = (slot: Slot, kind: 'hang' | 'crash', why: string): void => {
      slots.delete(slot);
      if (slot.current !== undefined) {
        const n = slot.current;
        record({ n, family: '?', cls: 'unknown (thread lost)', subject: '?', op: '?', outcome: kind === 'hang' ? 'hang' : 'thrown', failure: { kind, why }, ms: Date.now() - (slot.startedAt ?? 0) });
        if (slot.chunk && n + 1 < slot.chunk[1]) queue.unshift([n + 1, slot.chunk[1]]);
      } else if (slot.chunk) {
        queue.unshift(slot.chunk);
      }
      if (finished) return;
      if (++respawns > 100) return reject(new Error('more than 100 worker threads lost; giving up'));
      spawn();
    };

    const spawn = (): void => {
      const worker = new Worker(join(__dirname, 'worker.js'), { workerData: { seed: opts.seed, deadlineMs: opts.deadlineMs, selfTestHang: opts.selfTestHang } satisfies WorkerSetup });
      const slot: Slot = { worker };
      slots.add(slot);
      worker.on('message', (m: ToMain) => {
        switch (m.t) {
          case 'ready':
            if (m.setupMs < 0) {
              finished = true;
              for (const s of slots) void s.worker.terminate();
              return reject(new Error(m.baseline.join('\n')));
            }
            result.setupMs.push(m.setupMs);
            if (result.baseline.length === 0) result.baseline = m.baseline;
            break;
          case 'next': {
            slot.current = undefined;
            const chunk = queue.shift();
            slot.chunk = chunk;
            if (chunk) worker.postMessage({ t: 'cases', from: chunk[0], to: chunk[1] } satisfies ToWorker);
            break;
          }
          case 'start':
            slot.current = m.n;
            slot.startedAt = Date.now();
            break;
          case 'done':
            slot.current = undefined;
            record(m.summary);
            break;
        }
      });
      worker.on('error', (err) => {
        if (!slot.killed && !slot.done) lost(slot, 'crash', `worker thread died: ${err?.stack ?? String(err)}`);
      });
      worker.on('exit', (code) => {
        if (!slot.killed && !slot.done && slots.has(slot)) lost(slot, 'crash', `worker thread exited with ${code}`);
      });
    };

    const watchdog = setInterval(() => {
      for (const s of [...slots]) {
        if (s.current !== undefined && s.startedAt !== undefined && Date.now() - s.startedAt > opts.watchdogMs) {
          s.killed = true;
          void s.worker.terminate();
          lost(s, 'hang', `the thread was stuck on this case for ${opts.watchdogMs} ms (synchronous hang) and was terminated`);
        }
      }
    }, 500);

    if (total === 0) return finish();
    for (let i = 0; i < Math.min(opts.workers, queue.length); i++) spawn();
  });
}
