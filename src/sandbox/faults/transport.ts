import type { ServerResponse } from 'node:http';
import { sendJson, type Request, type Router } from '../http/router';
import { delegate } from './delegate';
import type { FaultKind, Service } from './kinds';

/**
 * The transport faults: every route a service mounts answers with the fault instead of the service
 * (which never sees the request). The body of oversized and slow-drip is JSON whitespace (for the TSA,
 * under its reply's content type): whatever a client buffers, it never becomes an answer.
 */
const OVERSIZED_BYTES = 2 ** 30;
const DRIP_INTERVAL_MS = 2_000;
const CHUNK = Buffer.alloc(64 * 1024, 0x20);

const contentType = (service: Service): string => (service === 'tsa' ? 'application/timestamp-reply' : 'application/json');

/** 1 GiB, chunked (no Content-Length to refuse up front), written as fast as the client reads. */
function oversized(res: ServerResponse, service: Service): void {
  res.writeHead(200, { 'Content-Type': contentType(service) });
  let sent = 0;
  const pump = (): void => {
    while (sent < OVERSIZED_BYTES) {
      if (res.destroyed) return;
      sent += CHUNK.length;
      if (!res.write(CHUNK)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** Headers at once, then one byte every DRIP_INTERVAL_MS until the client or the sandbox hangs up. */
function slowDrip(res: ServerResponse, service: Service): void {
  res.writeHead(200, { 'Content-Type': contentType(service) });
  res.write(' ');
  const timer = setInterval(() => res.write(' '), DRIP_INTERVAL_MS).unref();
  res.on('close', () => clearInterval(timer));
}

function answer(kind: FaultKind, service: Service, req: Request, res: ServerResponse): void {
  if (kind === 'http-5xx') return sendJson(res, 503, { code: 503, message: `service unavailable (gitsign sandbox fault ${kind})` });
  if (kind === 'connection-reset') return void req.raw.socket.resetAndDestroy();
  if (kind === 'oversized') return oversized(res, service);
  if (kind === 'slow-drip') return slowDrip(res, service);
  throw new Error(`${kind} is not a transport fault`);
}

/** The router a service mounts on: its routes answer with the transport fault, when there is one. */
export function faultyRoutes(router: Router, service: Service, kind: FaultKind | undefined): Router {
  if (!kind) return router;
  const view: Router = delegate(router, {
    on: (method, pattern) => {
      router.on(method, pattern, (req, res) => answer(kind, service, req, res));
      return view;
    },
  });
  return view;
}
