import { parentPort, workerData } from 'node:worker_threads';
import { buildWorld, closeWorld, runCase, type World } from './cases';
import { type CaseReport, failureOf } from './outcome';

/**
 * A fuzzing worker thread: builds its world once, then runs the case numbers the main thread hands
 * out, announcing each before it starts (so a case that hangs the thread is known and reported) and
 * bounding each with a deadline (a case whose promise never settles is reported as a hang).
 */
export interface WorkerSetup {
  seed: number;
  deadlineMs: number;
  /** The harness's own check: this case hangs the thread (sync) or never settles (async). */
  selfTestHang?: { n: number; kind: 'sync' | 'async' };
}

export interface CaseSummary {
  n: number;
  family: string;
  cls: string;
  subject: string;
  op: string;
  outcome: 'accepted' | 'rejected' | 'thrown' | 'hang';
  code?: string;
  message?: string;
  allowed?: string[];
  failure?: { kind: string; why: string };
  artifact?: { ext: string; bytes: Uint8Array };
  ms: number;
}

export type ToMain = { t: 'ready'; baseline: string[]; setupMs: number } | { t: 'start'; n: number } | { t: 'done'; summary: CaseSummary } | { t: 'next' };
export type ToWorker = { t: 'cases'; from: number; to: number } | { t: 'stop' };

const setup = workerData as WorkerSetup;
let stray: string[] = [];

// A rejection or exception nobody awaited belongs to the case that was running.
process.on('unhandledRejection', (err) => stray.push(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
process.on('uncaughtException', (err) => stray.push(`uncaught exception: ${err?.stack ?? String(err)}`));

function post(m: ToMain): void {
  parentPort!.postMessage(m);
}

export function summarize(n: number, r: CaseReport, ms: number): CaseSummary {
  const failure = failureOf(r);
  const o = r.outcome;
  return {
    n,
    family: r.family,
    cls: r.cls,
    subject: r.subject,
    op: r.op,
    outcome: o.kind,
    code: o.kind === 'rejected' ? o.code : undefined,
    message: o.kind === 'accepted' ? undefined : o.message,
    allowed: r.verdict?.allowed,
    failure,
    artifact: failure && r.artifact ? { ext: r.artifact.ext, bytes: r.artifact.bytes } : undefined,
    ms,
  };
}

async function runOne(world: World, n: number): Promise<CaseSummary> {
  const started = Date.now();
  stray = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), setup.deadlineMs)));
  const hang = setup.selfTestHang?.n === n ? setup.selfTestHang.kind : undefined;
  if (hang === 'sync') for (;;);
  try {
    const work = hang === 'async' ? new Promise<never>(() => undefined) : runCase(world, setup.seed, n);
    const r = await Promise.race([work, deadline]);
    if (r === 'hang') {
      world.sandbox.peer.reset();
      return { n, family: '?', cls: '?', subject: '?', op: '?', outcome: 'hang', failure: { kind: 'hang', why: `no result within ${setup.deadlineMs} ms` }, ms: Date.now() - started };
    }
    if (stray.length) r.extraFailure = stray.join('; ');
    return summarize(n, r, Date.now() - started);
  } catch (err) {
    // The harness itself failed on this case: reported, never hidden.
    return { n, family: '?', cls: 'harness', subject: '?', op: '?', outcome: 'thrown', failure: { kind: 'harness', why: (err as Error)?.stack ?? String(err) }, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const world = await buildWorld();
  post({ t: 'ready', baseline: world.baselineProblems, setupMs: Date.now() - t0 });
  parentPort!.on('message', async (m: ToWorker) => {
    if (m.t === 'stop') {
      await closeWorld(world);
      process.exit(0);
    }
    for (let n = m.from; n < m.to; n++) {
      post({ t: 'start', n });
      post({ t: 'done', summary: await runOne(world, n) });
    }
    post({ t: 'next' });
  });
  post({ t: 'next' });
}

main().catch((err) => {
  post({ t: 'ready', baseline: [`worker setup failed: ${(err as Error)?.stack ?? String(err)}`], setupMs: -1 });
  process.exit(1);
});
