import type { ServerResponse } from 'node:http';
import { encodePem } from '../../cms/pem';
import { BodyTooLarge, readBody, send, sendJson, type Request, type Router } from '../http/router';
import type { TimestampAuthority } from './authority';
import { MalformedRequest, parseTimeStampRequest } from './request';

/**
 * The timestamp authority's HTTP API (sigstore timestamp-authority paths): POST /api/v1/timestamp with
 * application/timestamp-query answers application/timestamp-reply; GET .../certchain gives the PEM chain.
 * A request that is not a TimeStampReq at all is a 400 with a JSON error; a well-formed one the TSA
 * declines gets an RFC 3161 rejection (status 2 with a failure reason).
 */
const MAX_BODY = 64 * 1024;

export class TsaService {
  constructor(private readonly tsa: TimestampAuthority) {}

  mount(router: Router): void {
    router
      .on('POST', '/api/v1/timestamp', (req, res) => this.timestamp(req, res))
      .on('GET', '/api/v1/timestamp/certchain', (_req, res) =>
        send(res, 200, encodePem('CERTIFICATE', this.tsa.leafDer) + encodePem('CERTIFICATE', this.tsa.rootDer), { 'Content-Type': 'application/pem-certificate-chain' }),
      );
  }

  private async timestamp(req: Request, res: ServerResponse): Promise<void> {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    let body: Buffer;
    try {
      body = await readBody(req.raw, MAX_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendJson(res, 413, { code: 413, message: `Request Entity Too Large. Limit set to ${err.limit}` }, { Connection: 'close' });
      throw err;
    }
    if (type !== 'application/timestamp-query') {
      return sendJson(res, 415, { code: 415, message: `unsupported content type ${JSON.stringify(type)}: expected application/timestamp-query` });
    }
    try {
      const parsed = parseTimeStampRequest(body);
      send(res, 200, this.tsa.timestamp(parsed), { 'Content-Type': 'application/timestamp-reply' });
    } catch (err) {
      if (err instanceof MalformedRequest) return sendJson(res, 400, { code: 400, message: `error parsing timestamp request: ${err.message}` });
      throw err;
    }
  }
}
