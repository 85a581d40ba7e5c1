import type { Socket } from 'node:net';
import { GitsignError, toGitsignError } from '../errors';
import { GobDecoder, type StructValue } from './gob/decoder';
import { GobEncoder } from './gob/encoder';
import type { StructType } from './gob/types';
import { credentialFrom, encodeReply, GET_CREDENTIAL, GET_CREDENTIAL_REQUEST, type GoConfig, type Reply, REQUEST_HEADER, STORE_CREDENTIAL, STORE_CREDENTIAL_REQUEST, type WireCredential } from './rpc';

/**
 * One client connection, served as Go's net/rpc server serves it: calls one after another, each
 * answered with its method and sequence number. Nothing a client sends can throw out of here:
 * malformed, oversized, truncated or idle input gets an error reply (when still writable) and the
 * connection is closed, since a gob stream cannot be trusted past an error. Two clocks: a request
 * must arrive whole within the request timeout of its first byte (of the accept, for the first) —
 * a deadline, not an inactivity timer, so dripping bytes does not hold a slot; between calls a
 * connection may stay idle for the idle timeout, long enough for a Go gitsign to log in by itself
 * between its GetCredential and its StoreCredential on the same connection. No clock runs while a
 * call is being handled (a login on a miss has its own deadline).
 */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 600_000;

/** A number of seconds from `min` to `max` (fractions allowed) given to `flag`, in milliseconds; undefined when not given. */
export function parseSeconds(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= min && seconds <= max)) throw new GitsignError('USAGE', `${flag}: ${JSON.stringify(value)} is not a number of seconds from ${min} to ${max}`);
  return Math.round(seconds * 1000);
}

export type Call = { method: 'get'; id: string; config: GoConfig | null } | { method: 'store'; id: string; credential: WireCredential | null };

export type Handler = (call: Call) => Promise<Reply>;

export interface Timeouts {
  requestMs: number;
  idleMs: number;
}

/** net/rpc's own words for a method it does not serve. */
function unknownMethod(method: string): string {
  const dot = method.lastIndexOf('.');
  if (dot < 0) return `rpc: service/method request ill-formed: ${method}`;
  if (method.slice(0, dot) !== 'Service') return `rpc: can't find service ${method}`;
  return `rpc: can't find method ${method}`;
}

const ARGUMENT: Record<string, StructType> = { [GET_CREDENTIAL]: GET_CREDENTIAL_REQUEST, [STORE_CREDENTIAL]: STORE_CREDENTIAL_REQUEST };

function callOf(method: string, arg: StructValue): Call {
  const id = arg.ID as string;
  if (method === GET_CREDENTIAL) return { method: 'get', id, config: (arg.Config as GoConfig | null) ?? null };
  const c = arg.Credential as StructValue | null;
  return { method: 'store', id, credential: c ? credentialFrom(c) : null };
}

export function serveConnection(socket: Socket, handle: Handler, timeouts: Timeouts): void {
  const decoder = new GobDecoder();
  const encoder = new GobEncoder();
  let header: { method: string; seq: bigint } | null = null;
  let phase: 'receiving' | 'idle' | 'busy' | 'closed' = 'receiving';
  let peerEnded = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number, expire: () => void): void => {
    clearTimeout(timer);
    timer = setTimeout(expire, ms);
    timer.unref();
  };
  const close = (last?: Buffer): void => {
    if (phase === 'closed') return;
    phase = 'closed';
    clearTimeout(timer);
    socket.removeAllListeners('data');
    if (!socket.writable) socket.destroy();
    else if (last) socket.end(last);
    else socket.end();
    // A peer that never reads its answer or never closes its side must not hold the connection open.
    setTimeout(() => socket.destroy(), timeouts.requestMs).unref();
  };
  /** The last reply: an error for the call being read (or for none), then the end. */
  const fail = (message: string): void => close(encodeReply(encoder, header?.method ?? '', header?.seq ?? 0n, { error: `gitsign-credential-cache: ${message}` }));
  const receiving = (): void => {
    phase = 'receiving';
    arm(timeouts.requestMs, () => fail(`no complete request within ${timeouts.requestMs / 1000} s`));
  };
  const idle = (): void => {
    phase = 'idle';
    arm(timeouts.idleMs, () => close());
  };

  /** Serves every complete call waiting, one at a time; then waits for more. */
  const pump = async (): Promise<void> => {
    while (phase === 'receiving' || phase === 'idle') {
      let method: string;
      let seq: bigint;
      let arg: { value: StructValue | null } | null;
      try {
        if (!header) {
          const h = decoder.next(REQUEST_HEADER);
          if (!h) break;
          header = { method: h.value!.ServiceMethod as string, seq: h.value!.Seq as bigint };
        }
        ({ method, seq } = header);
        arg = decoder.next(ARGUMENT[method] ?? null);
        if (!arg) break;
      } catch (err) {
        return fail(toGitsignError(err).message);
      }
      header = null;
      phase = 'busy';
      clearTimeout(timer);
      socket.pause();
      let reply: Reply;
      try {
        reply = ARGUMENT[method] ? await handle(callOf(method, arg.value!)) : { error: unknownMethod(method) };
      } catch (err) {
        reply = { error: `gitsign-credential-cache: ${toGitsignError(err).message}` };
      }
      if ((phase as string) === 'closed') return; // the client went away meanwhile
      socket.write(encodeReply(encoder, method, seq, reply));
      socket.resume();
      // Bytes of the next call already here start its deadline; none: the connection is idle.
      if (decoder.pending) receiving();
      else idle();
    }
    if (peerEnded && phase !== 'closed') {
      if (decoder.pending || header) fail('the connection ended inside a request');
      else close();
    }
  };

  receiving(); // the first request is due within the request timeout of the accept
  socket.on('error', () => socket.destroy()); // ECONNRESET, EPIPE: the client went away
  socket.on('close', () => {
    phase = 'closed';
    clearTimeout(timer);
  });
  socket.on('data', (chunk: Buffer) => {
    if (phase === 'closed') return;
    try {
      decoder.push(chunk);
    } catch (err) {
      return fail(toGitsignError(err).message);
    }
    if (phase === 'idle') receiving();
    if (phase !== 'busy') void pump(); // a call being handled: its reply first, then the pump goes on
  });
  socket.on('end', () => {
    peerEnded = true;
    if (phase !== 'busy') void pump();
  });
}
