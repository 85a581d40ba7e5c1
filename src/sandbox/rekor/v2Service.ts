import type { ServerResponse } from 'node:http';
import { BodyTooLarge, readBody, sendJson, type Request, type Router } from '../http/router';
import type { TransparencyLog } from './log';
import { MAX_BODY } from './service';
import { hashedRekordV2FromRequest, V2RequestRejected } from './v2Request';

/**
 * Rekor v2's write API (rekor-tiles) over a second sandbox log: POST /api/v2/log/entries answers 201
 * with the TransparencyLogEntry in protobuf JSON, proven by an inclusion proof and a signed checkpoint.
 * There is no SET and no integrated time: v2 entries are timed by RFC 3161 timestamps. Errors are
 * gRPC-gateway bodies ({code, message, details}); code 3 is INVALID_ARGUMENT.
 */
const invalid = (res: ServerResponse, message: string): void => sendJson(res, 400, { code: 3, message, details: [] });

export class RekorV2Service {
  constructor(private readonly log: TransparencyLog) {}

  mount(router: Router): void {
    router.on('POST', '/api/v2/log/entries', (req, res) => this.create(req, res));
  }

  private async create(req: Request, res: ServerResponse): Promise<void> {
    let request: unknown;
    try {
      request = JSON.parse((await readBody(req.raw, MAX_BODY)).toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLarge) return sendJson(res, 413, { code: 8, message: 'request too large', details: [] }, { Connection: 'close' });
      return invalid(res, 'the request is not valid JSON');
    }
    let body: Buffer;
    try {
      body = hashedRekordV2FromRequest(request);
    } catch (err) {
      if (err instanceof V2RequestRejected) return invalid(res, err.message);
      throw err;
    }
    // An identical entry is answered as Tessera deduplicates: with the entry already logged.
    const { index } = await this.log.add(body, []);
    sendJson(res, 201, this.entry(index));
  }

  private entry(index: number): Record<string, unknown> {
    const p = this.log.inclusion(index);
    return {
      logIndex: String(index),
      logId: { keyId: this.log.logId.toString('base64') },
      kindVersion: { kind: 'hashedrekord', version: '0.0.2' },
      integratedTime: '0',
      inclusionProof: {
        logIndex: String(index),
        rootHash: p.rootHash.toString('base64'),
        treeSize: String(p.treeSize),
        hashes: p.hashes.map((h) => h.toString('base64')),
        checkpoint: { envelope: p.checkpoint },
      },
      canonicalizedBody: this.log.bodyAt(index).toString('base64'),
    };
  }
}
