import type { Socket } from 'node:net';
import { GitsignError } from '../errors';
import { encode, MAX_REQUEST_BYTES, parseRequest, ProtocolError, type Request, type Response } from './protocol';

/**
 * One client connection: read one request line (bounded in size and time), answer one line, close.
 * Nothing a client sends can throw out of here: truncated, huge, binary or idle connections get an
 * error line (when still writable) and are closed. The time bound is a deadline from the accept, not
 * an inactivity timer: a client dripping a byte now and then must not hold a slot for ever.
 */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

/** --connection-timeout SECONDS (fractions allowed, 0.1 to 600) in milliseconds; undefined when not given. */
export function parseConnectionTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(seconds >= 0.1 && seconds <= 600)) throw new GitsignError('USAGE', `--connection-timeout: ${JSON.stringify(value)} is not a number of seconds from 0.1 to 600`);
  return Math.round(seconds * 1000);
}

export type Handler = (request: Request) => Response;

export function serveConnection(socket: Socket, handle: Handler, timeoutMs = DEFAULT_CONNECTION_TIMEOUT_MS): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const finish = (response: Response): void => {
    if (done) return;
    done = true;
    clearTimeout(deadline);
    socket.removeAllListeners('data');
    if (socket.writable) socket.end(encode(response));
    else socket.destroy();
    // A peer that never reads its answer or never closes its side must not hold the connection open.
    setTimeout(() => socket.destroy(), timeoutMs).unref();
  };
  const fail = (err: unknown): void => {
    const e = err instanceof ProtocolError ? err : new ProtocolError('bad_request', 'the request could not be handled');
    finish({ ok: false, error: e.code, message: e.message });
  };
  const deadline = setTimeout(() => fail(new ProtocolError('bad_request', 'no complete request in time')), timeoutMs);
  deadline.unref();
  socket.on('error', () => socket.destroy()); // ECONNRESET, EPIPE: the client went away
  socket.on('close', () => clearTimeout(deadline));
  socket.on('data', (chunk: Buffer) => {
    const nl = chunk.indexOf(0x0a);
    const take = nl === -1 ? chunk : chunk.subarray(0, nl);
    size += take.length;
    if (size > MAX_REQUEST_BYTES) return fail(new ProtocolError('too_large', `a request is at most ${MAX_REQUEST_BYTES} bytes`));
    chunks.push(take);
    if (nl === -1) return;
    try {
      finish(handle(parseRequest(Buffer.concat(chunks))));
    } catch (err) {
      fail(err);
    }
  });
  socket.on('end', () => fail(new ProtocolError('bad_request', 'the request ended before its newline')));
}
