import { GitsignError } from '../errors';

/**
 * A time limit on part of a login: a promise that rejects when it passes (to race against), and a
 * signal aborted at the same moment, so pending requests, waits and terminal reads end with it. A
 * limit set within another ends when the outer one does.
 */
export interface Deadline {
  promise: Promise<never>;
  signal: AbortSignal;
  clear(): void;
}

export function deadline(ms: number, message: string, within?: AbortSignal): Deadline {
  const ac = new AbortController();
  let fail: (err: GitsignError) => void = () => undefined;
  const promise = new Promise<never>((_, reject) => (fail = reject));
  promise.catch(() => undefined);
  // Rejected before the signal aborts, so a race sees this reason, not a failure the abort causes.
  const end = (err: GitsignError): void => {
    fail(err);
    ac.abort();
  };
  const timer = setTimeout(() => end(new GitsignError('TOKEN', message)), ms);
  const onOuter = (): void => end(new GitsignError('TOKEN', 'the login was abandoned'));
  if (within?.aborted) onOuter();
  else within?.addEventListener('abort', onOuter);
  return {
    promise,
    signal: ac.signal,
    clear: () => {
      clearTimeout(timer);
      within?.removeEventListener('abort', onOuter);
    },
  };
}
