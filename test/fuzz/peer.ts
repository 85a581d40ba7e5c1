import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Router, sendJson, type Request } from '../../src/sandbox/http/router';
import { OidcIssuer } from '../../src/sandbox/oidc/issuer';
import { DEFAULT_SUBJECT } from '../../src/sandbox/oidc/token';
import { mintIdToken } from '../../src/sandbox/oidc/token';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';
import { readMaterial, type Material } from '../../src/sandbox/state/material';

/**
 * The fuzzer's servers, all in the worker's process: the local Sigstore sandbox (Fulcio, Rekor v1
 * and v2, TSA), an OIDC issuer whose URL is the front's, and a front on 127.0.0.1 that forwards every
 * request and hands the answers chosen by the current case's plan to a mutator before the client
 * sees them. The product talks only to the front.
 */
export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Plan {
  /** Which request's answer to mutate (the first that matches and that mutate() takes). */
  match: (method: string, path: string) => boolean;
  /** The mutated answer, or undefined to let this one through and wait for the next match. */
  mutate: (answer: Answer) => Answer | undefined;
}

export interface PlanRecord {
  original?: Answer;
  mutated?: Answer;
}

const HOST = '127.0.0.1';

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => resolve((server.address() as AddressInfo).port));
  });
}

function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

function forward(port: number, method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const h = { ...headers, host: `${HOST}:${port}` };
    const req = request({ host: HOST, port, method, path: url, headers: h }, (res) => {
      readAll(res).then((b) => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 502, headers: out, body: b });
      }, reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export class Peer {
  readonly dir: string;
  sandbox!: RunningSandbox;
  material!: Material;
  front!: Server;
  oidc!: Server;
  frontUrl = '';
  trustedRootPath = '';
  private plans: Plan[] = [];
  records: PlanRecord[] = [];
  private fulcioKey: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

  private constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'gitsign-fuzz-'));
  }

  static async start(): Promise<Peer> {
    const p = new Peer();
    p.sandbox = await startSandbox({ dir: join(p.dir, 'sandbox'), port: 0 });
    p.material = readMaterial(p.sandbox.paths.keys)!;
    p.trustedRootPath = p.sandbox.paths.trustedRoot;
    readFileSync(p.trustedRootPath); // written by startSandbox
    p.front = createServer((req, res) => {
      readAll(req)
        .then(async (body) => {
          const url = req.url ?? '/';
          const path = url.split('?')[0];
          const port = path.startsWith('/auth/') || path === '/auth' ? (p.oidc.address() as AddressInfo).port : p.sandbox.port;
          let answer = await forward(port, req.method ?? 'GET', url, req.headers, body);
          const i = p.plans.findIndex((pl) => pl.match(req.method ?? 'GET', path));
          const mutated = i === -1 ? undefined : p.plans[i].mutate(answer);
          if (mutated) {
            p.plans.splice(i, 1);
            p.records.push({ original: answer, mutated });
            answer = mutated;
          }
          res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
          res.end(answer.body);
        })
        .catch(() => {
          if (!res.headersSent) res.writeHead(502);
          res.end();
        });
    });
    p.front.keepAliveTimeout = 1000;
    const frontPort = await listen(p.front);
    p.frontUrl = `http://${HOST}:${frontPort}`;
    // The OIDC issuer claims the front's URL, so discovery, tokens and the configured issuer agree.
    const router = new Router();
    new OidcIssuer(`${p.frontUrl}/auth`, p.material.oidc.key, p.material.oidc.pub, p.material.oidc.kid, { subject: DEFAULT_SUBJECT }).mount(router, '/auth');
    p.oidc = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const found = router.match(req.method ?? 'GET', url.pathname);
      if (!found || found === 'method') return sendJson(res, 404, { error: 'not found' });
      const r: Request = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, params: found.params, headers: req.headers, raw: req };
      Promise.resolve()
        .then(() => found.handler(r, res))
        .catch(() => sendJson(res, 500, { error: 'internal' }));
    });
    await listen(p.oidc);
    return p;
  }

  /** Mutations for the next matching requests of one case; cleared by reset(). */
  plan(...plans: Plan[]): void {
    this.plans = plans;
    this.records = [];
  }

  reset(): void {
    this.plans = [];
    this.records = [];
  }

  /** An ID token the sandbox's Fulcio accepts. */
  fulcioToken(subject = DEFAULT_SUBJECT): string {
    return mintIdToken({ issuer: this.sandbox.issuer, subject }, this.material.oidc.key, this.material.oidc.kid);
  }

  get issuerUrl(): string {
    return `${this.frontUrl}/auth`;
  }

  ephemeralKey(): { privateKey: KeyObject; publicKey: KeyObject } {
    this.fulcioKey ??= generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return this.fulcioKey;
  }

  async close(): Promise<void> {
    this.front.closeAllConnections();
    this.oidc.closeAllConnections();
    await Promise.all([new Promise((r) => this.front.close(r)), new Promise((r) => this.oidc.close(r)), this.sandbox.close()]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
