import type { Socket } from 'node:net';
import { encode, MAX_REQUEST_BYTES, parseRequest, ProtocolError, type Request, type Response } from './protocol';

/**
 * One client connection: read one request line (bounded in size and time), answer one line, close.
 * Nothing a client sends can throw out of here: truncated, huge, binary or idle connections get an
 * error line (when still writable) and are closed.
 */
export const IDLE_TIMEOUT_MS = 5_000;

export type Handler = (request: Request) => Response;

export function serveConnection(socket: Socket, handle: Handler): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let done = false;
  const finish = (response: Response): void => {
    if (done) return;
    done = true;
    socket.removeAllListeners('data');
    if (socket.writable) socket.end(encode(response));
    else socket.destroy();
    // A peer that never reads its answer must not hold the connection open.
    setTimeout(() => socket.destroy(), IDLE_TIMEOUT_MS).unref();
  };
  const fail = (err: unknown): void => {
    const e = err instanceof ProtocolError ? err : new ProtocolError('bad_request', 'the request could not be handled');
    finish({ ok: false, error: e.code, message: e.message });
  };
  socket.on('error', () => socket.destroy()); // ECONNRESET, EPIPE: the client went away
  socket.setTimeout(IDLE_TIMEOUT_MS, () => fail(new ProtocolError('bad_request', 'no complete request in time')));
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
