import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';
import { GitsignError, toGitsignError } from '../../errors';
import { type AnswerLimit, formatBytes } from '../../net/answerLimits';
import { callDeadlineMs, NETWORK_TIMEOUT_SETTING } from '../../net/deadline';

/**
 * One unary gRPC call over a unix socket (the SPIFFE Workload API), on node:http2: the request is one
 * length-prefixed message, the answer must be one uncompressed message followed by grpc-status 0.
 * The peer is any process that could bind the socket: its answer is capped, the call has one deadline
 * (connecting and every byte of the answer), and each way it can fail is one sentence.
 */
export interface UnaryCall {
  /** The service, for sentences: "SPIFFE Workload API". */
  service: string;
  socketPath: string;
  /** "/Service/Method". */
  method: string;
  /** Extra request headers (gRPC metadata). */
  metadata: Record<string, string>;
  /** The encoded request message. */
  message: Buffer;
  limit: AnswerLimit;
}

/** gRPC status codes by number, for sentences. */
const STATUS = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

/** A header as text (node gives :status as a number). */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v: unknown = headers[name];
  return v === undefined ? undefined : Array.isArray(v) ? v.join(',') : String(v);
}

/** grpc-message is percent-encoded; a peer's malformed encoding is shown as sent. */
function statusMessage(raw: string | undefined): string {
  if (!raw) return '';
  let text = raw;
  try {
    text = decodeURIComponent(raw);
  } catch {
    /* as sent */
  }
  return `: ${text.replace(/\s+/g, ' ').slice(0, 300)}`;
}

/** The one message of a complete answer body (5-byte prefix: compressed flag, big-endian length). */
function onlyMessage(body: Buffer, service: string): Buffer {
  if (body.length < 5) throw new GitsignError('TOKEN', `${service} answered without a message`);
  if (body[0] !== 0) throw new GitsignError('TOKEN', `${service} answered with a compressed message, which was not offered`);
  const length = body.readUInt32BE(1);
  if (5 + length !== body.length) throw new GitsignError('TOKEN', `${service} answered with a malformed message frame`);
  return body.subarray(5);
}

/** The answer's one message, or why there is none: the HTTP status, the gRPC status, the framing. */
function answerOf(headers: IncomingHttpHeaders | undefined, trailers: IncomingHttpHeaders | undefined, body: Buffer, where: string): Buffer {
  const fail = (why: string, code: 'NETWORK' | 'TOKEN' = 'NETWORK'): GitsignError => new GitsignError(code, `${where}: ${why}`);
  if (!headers) throw fail('it ended the call without an answer');
  const status = header(headers, ':status');
  if (status !== '200') throw fail(`it answered with HTTP status ${status?.slice(0, 10) ?? '(none)'}`);
  if (!header(headers, 'content-type')?.startsWith('application/grpc')) throw fail('it answered with something other than gRPC');
  // A "trailers-only" answer carries the status in the headers.
  const end = trailers ?? headers;
  const grpcStatus = header(end, 'grpc-status');
  if (grpcStatus === undefined) throw fail('it ended the answer without a gRPC status');
  if (grpcStatus !== '0') {
    const name = STATUS[Number(grpcStatus)] ?? 'an unknown status';
    throw fail(`it refused the call with gRPC status ${grpcStatus.slice(0, 10)} (${name})${statusMessage(header(end, 'grpc-message'))}`, 'TOKEN');
  }
  return onlyMessage(body, where);
}

export function grpcUnary(call: UnaryCall): Promise<Buffer> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http2 = require('node:http2') as typeof import('node:http2');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net');
  const where = `${call.service} at ${call.socketPath}`;
  const deadlineMs = callDeadlineMs();
  return new Promise((resolve, reject) => {
    let settled = false;
    let session: ClientHttp2Session | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: GitsignError | null, answer?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.destroy();
      if (err) reject(err);
      else resolve(answer as Buffer);
    };
    const fail = (why: string, code: 'NETWORK' | 'TOKEN' = 'NETWORK'): void => finish(new GitsignError(code, `${where}: ${why}`));
    timer = setTimeout(() => fail(`no complete answer within ${deadlineMs / 1000} s (the agent is down or too slow); ${NETWORK_TIMEOUT_SETTING} (seconds) sets this limit`), deadlineMs);

    session = http2.connect('http://localhost', { createConnection: () => net.connect(call.socketPath), maxSessionMemory: 1 });
    session.on('error', (err: NodeJS.ErrnoException) => fail(`cannot talk to it (${err.code ?? err.message})`));
    session.on('goaway', () => fail('it closed the connection before answering'));
    const frame = Buffer.alloc(5 + call.message.length);
    frame.writeUInt32BE(call.message.length, 1);
    call.message.copy(frame, 5);
    const stream = session.request({
      ':method': 'POST',
      ':path': call.method,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${Math.min(deadlineMs, 99_999_999)}m`, // at most 8 digits
      'user-agent': 'gitsign',
      ...call.metadata,
    });
    stream.on('error', (err: NodeJS.ErrnoException) => fail(`the call failed (${err.code ?? err.message})`));
    let headers: IncomingHttpHeaders | undefined;
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > call.limit.bytes) return fail(`sent more than ${formatBytes(call.limit.bytes)}, too much for ${call.limit.what}`);
      chunks.push(chunk);
    });
    stream.on('close', () => fail('it closed the call before the answer was complete'));
    stream.on('end', () => {
      if (settled) return;
      try {
        finish(null, answerOf(headers, trailers, Buffer.concat(chunks), where));
      } catch (err) {
        finish(toGitsignError(err));
      }
    });
    stream.end(frame);
  });
}
