import { parentPort, workerData } from 'node:worker_threads';
import type { Config } from '../config/config';
import type { RawObject } from '../git/catFile';
import { type IdentityRequest, verifyGitObject } from '../verify/gitObject';
import { type VerifyFlags, type VerifySettings, verifySettings } from '../verify/settings';
import { type RenderedOutcome, renderFailure, renderOutcome } from './verifyOutput';

/**
 * A verification worker of `gitsign audit` and `gitsign policy init` (verifyPool.ts): it loads its
 * own trust root once and answers each object with the text to print, so the main thread only reads
 * git and judges.
 * Every object gets an answer: whatever one object throws is that object's result, never the worker's end.
 */
export interface WorkerSetup {
  cfg: Config;
  flags: VerifyFlags;
  identity: IdentityRequest;
  render: { json: boolean; heading: boolean };
}

/** Several objects per message (verifyPool.ts BATCH), answered together in the same order. */
export interface WorkerRequest {
  jobs: { id: number; object: RawObject }[];
}

export interface WorkerAnswer {
  answers: { id: number; result: RenderedOutcome }[];
}

const setup = workerData as WorkerSetup;
let settings: Promise<VerifySettings> | undefined;

async function answer(object: RawObject): Promise<RenderedOutcome> {
  try {
    settings ??= verifySettings(setup.cfg, setup.flags);
    // Structured cloning turns the Buffer into a plain Uint8Array.
    object.raw = Buffer.from(object.raw.buffer, object.raw.byteOffset, object.raw.byteLength);
    return renderOutcome(object, await verifyGitObject(object, await settings, setup.identity), setup.render);
  } catch (err) {
    return renderFailure(object, err, setup.identity, setup.render);
  }
}

let answered: (() => void) | undefined;

/** `then` runs once, after the first answer is sent (verifyPool saves the worker's code cache there). */
export function afterFirstAnswer(then: () => void): void {
  answered = then;
}

parentPort?.on('message', async ({ jobs }: WorkerRequest) => {
  const reply: WorkerAnswer = { answers: [] };
  for (const { id, object } of jobs) reply.answers.push({ id, result: await answer(object) });
  parentPort?.postMessage(reply);
  const then = answered;
  answered = undefined;
  then?.();
});
