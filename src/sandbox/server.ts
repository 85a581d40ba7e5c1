import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename } from 'node:path';
import { encodePem } from '../cms/pem';
import { GitsignError } from '../errors';
import { envFile, shellQuote } from './env';
import { FaultPlan, Faults } from './faults';
import { CertificateAuthority, type SctDelivery } from './fulcio/ca';
import { CtLog } from './fulcio/ctlog';
import { FulcioService } from './fulcio/service';
import { requestTarget } from '../net/requestTarget';
import { DISCARD_CAP, declaresTooMuch, Router, send, sendJson, type Request } from './http/router';
import { OidcIssuer } from './oidc/issuer';
import type { Claims } from './oidc/jwt';
import { DEFAULT_CLIENT_ID, DEFAULT_SUBJECT } from './oidc/token';
import { TransparencyLog } from './rekor/log';
import { indexKeysOfLoggedBody } from './rekor/proposedEntry';
import { RekorService } from './rekor/service';
import { EntryStore, loadEntries } from './rekor/store';
import { ed25519LogId } from './rekor/v2LogId';
import { RekorV2Service } from './rekor/v2Service';
import { noteExistingEntries, noteMissingDirectories, removeAddedEntries, removeCreatedDirectories } from './state/created';
import { prepareSandboxDir } from './state/dir';
import { writeFileAtomic } from './state/fsutil';
import { acquireLock } from './state/lock';
import { loadOrCreateMaterial, type Material } from './state/material';
import { sandboxPaths, type SandboxPaths } from './state/paths';
import { STATUS_PATH, type RuntimeInfo } from './state/runtime';
import { trustedRootJson } from './trustedRoot';
import { TimestampAuthority } from './tsa/authority';
import { TsaService } from './tsa/service';
import { keepTimestampFresh, publishTufRepository } from './tuf/publish';
import { mountTufRepository, TUF_PATH } from './tuf/serve';

/**
 * Starts the whole sandbox on one 127.0.0.1 port: OIDC issuer under /auth, Fulcio, Rekor and the TSA
 * under /api, its TUF repository under /tuf. Writes DIR/trusted_root.json (also the TUF target),
 * DIR/root.json (the TUF root), DIR/env, the PEM files clients need and DIR/sandbox.json.
 */
export const HOST = '127.0.0.1';
export const ISSUER_PATH = '/auth';
/** Rekor's checkpoint signer name: the host, as public Rekor uses its hostname. */
const CHECKPOINT_NAME = HOST;

export interface SandboxOptions {
  dir: string;
  port: number;
  subject?: string;
  issuerClaims?: Claims;
  /** Hostile mode (`--fault`): the services answer wrongly on purpose. */
  faults?: FaultPlan;
  /** How Fulcio gives out SCTs: embedded (public-good) or detached, as a Fulcio whose CA cannot embed them. */
  fulcioSct?: SctDelivery;
}

export interface RunningSandbox {
  url: string;
  issuer: string;
  /** The identity its logins sign in. */
  subject: string;
  port: number;
  paths: SandboxPaths;
  env: string;
  createdKeys: boolean;
  /** The TUF repository's newest root version. */
  tufRootVersion: number;
  entries: number;
  /** Bytes of a torn, never-acknowledged last log record that were cut off at start. */
  repairedBytes: number;
  close(): Promise<void>;
}

/** The sandbox as a Sigstore trusted root, before the TUF repository's rotations add to it. */
export function sandboxTrustedRoot(material: Material, url: string): Record<string, unknown> {
  return trustedRootJson(material, url, ed25519LogId(CHECKPOINT_NAME, material.rekorV2.pub));
}

const alreadyRunningFix = (paths: SandboxPaths): string =>
  `use it (. ${shellQuote(paths.env)}) or stop it first (gitsign sandbox down --dir ${shellQuote(paths.dir)})`;

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** The port cannot be had (taken, or privileged): the caller may try any free port instead. */
export class PortUnavailable extends GitsignError {}

/** Why the port cannot be had, as a sentence with the fix. */
function listenError(port: number, err: unknown): GitsignError {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `port ${port} on ${HOST}`;
  const fix = 'start with --port 0 (any free port) or another --port';
  if (code === 'EADDRINUSE') return new PortUnavailable('CONFIG', `${where} is already in use by another program: ${fix}`);
  if (code === 'EACCES') return new PortUnavailable('CONFIG', `${where} needs privileges this user lacks: ${fix} (above 1023)`);
  return new GitsignError('CONFIG', `cannot listen on ${HOST}:${port} (${code ?? (err as Error).message}): ${fix}`);
}

export async function startSandbox(opts: SandboxOptions): Promise<RunningSandbox> {
  // A start that fails takes away what it added (see ./state/created), so a taken port or a damaged
  // file leaves the disk as it was.
  const additions = noteMissingDirectories(opts.dir);
  let paths: SandboxPaths | undefined;
  let release: (() => void) | undefined;
  let store: EntryStore | undefined;
  let storeV2: EntryStore | undefined;
  let listening: Server | undefined;
  try {
    paths = sandboxPaths(prepareSandboxDir(opts.dir));
    release = acquireLock(paths.lock, paths.dir, 'a sandbox is already running on', alreadyRunningFix(paths));
    noteExistingEntries(additions, basename(paths.lock));
    const router = new Router();
    const server = createServer((req, res) => {
      // Malformed requests get a 4xx and the server goes on (node itself answers unparsable HTTP with 400/431).
      const url = requestTarget(req.url);
      if (!url) return sendJson(res, 400, { code: 400, message: 'Bad Request: the request target is not a URL' }, { Connection: 'close' });
      if (declaresTooMuch(req, DISCARD_CAP)) return sendJson(res, 413, { code: 413, message: `Request Entity Too Large. Limit set to ${DISCARD_CAP}` }, { Connection: 'close' });
      const found = router.match(req.method ?? 'GET', url.pathname);
      if (found === undefined) return sendJson(res, 404, { code: 404, message: 'Not Found' });
      if (found === 'method') return sendJson(res, 405, { code: 405, message: 'Method Not Allowed' });
      const request: Request = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, params: found.params, headers: req.headers, raw: req };
      Promise.resolve()
        .then(() => found.handler(request, res))
        .catch(() => {
          if (!res.headersSent) sendJson(res, 500, { code: 500, message: 'internal error' });
          else res.destroy();
        });
    });
    server.keepAliveTimeout = 5_000;
    // The port first: a taken port ends the start before any key is made or file written.
    let port: number;
    try {
      port = await listen(server, opts.port);
      listening = server;
    } catch (err) {
      throw listenError(opts.port, err);
    }

    const { material, created } = loadOrCreateMaterial(paths.keys);
    const loaded = loadEntries(paths.log);
    store = await EntryStore.open(paths.log);
    const log = new TransparencyLog(store, material.rekor.key, material.rekor.pub, material.treeId, CHECKPOINT_NAME);
    const keyCache = new Map<string, string[]>();
    for (const e of loaded.entries) log.restore(e, indexKeysOfLoggedBody(e.body, keyCache));
    // The Rekor v2 log: its own tree, file and Ed25519 key; checkpoints name the bare host.
    const loadedV2 = loadEntries(paths.logV2);
    storeV2 = await EntryStore.open(paths.logV2);
    const v2LogId = ed25519LogId(CHECKPOINT_NAME, material.rekorV2.pub);
    const logV2 = new TransparencyLog(storeV2, material.rekorV2.key, material.rekorV2.pub, material.treeId, CHECKPOINT_NAME, { logId: v2LogId, origin: CHECKPOINT_NAME });
    for (const e of loadedV2.entries) logV2.restore(e, []);

    const url = `http://${HOST}:${port}`;
    const issuerUrl = url + ISSUER_PATH;
    const subject = opts.subject ?? DEFAULT_SUBJECT;

    const faults = new Faults(opts.faults ?? new FaultPlan(), material);
    const issuer = new OidcIssuer(issuerUrl, material.oidc.key, material.oidc.pub, material.oidc.kid, { subject, extraClaims: opts.issuerClaims });
    issuer.mount(faults.routes(router, 'oidc'), ISSUER_PATH);
    const ctlog = new CtLog(material.ctlog.key, material.ctlog.pub);
    const ca = new CertificateAuthority(material.fulcioIntermediate.key, material.fulcioIntermediate.pub, material.fulcioRoot.cert, material.fulcioIntermediate.cert, ctlog, opts.fulcioSct);
    new FulcioService(faults.certificateAuthority(ca, ctlog), issuerUrl, new Map([[material.oidc.kid, material.oidc.pub]])).mount(faults.routes(router, 'fulcio'));
    new RekorService(faults.log(log, 1)).mount(faults.routes(router, 'rekor'));
    new RekorV2Service(faults.log(logV2, 2)).mount(faults.routes(router, 'rekor'));
    const tsa = new TimestampAuthority(material.tsaLeaf.key, material.tsaLeaf.cert, material.tsaRoot.cert);
    new TsaService(faults.timestampAuthority(tsa)).mount(faults.routes(router, 'tsa'));
    mountTufRepository(router, paths.tufRepo);
    router.on('GET', '/ping', (_req, res) => send(res, 200, 'pong', { 'Content-Type': 'text/plain' }));
    // Who answers on this port, so `status`, `token` and `down` act only on the sandbox of their DIR
    // (a stale lock's pid may since belong to another program).
    const answeringPaths = paths;
    router.on('GET', STATUS_PATH, (_req, res) => sendJson(res, 200, { pid: process.pid, dir: answeringPaths.dir }, { 'Cache-Control': 'no-store' }));

    const spkiPem = (k: typeof material.rekor.pub): string => encodePem('PUBLIC KEY', k.export({ type: 'spki', format: 'der' }));
    const tufOptions = { paths, baseTrustedRoot: sandboxTrustedRoot(material, url) };
    const tuf = publishTufRepository(tufOptions);
    writeFileAtomic(paths.fulcioChain, encodePem('CERTIFICATE', material.fulcioIntermediate.cert) + encodePem('CERTIFICATE', material.fulcioRoot.cert));
    writeFileAtomic(paths.tsaChain, encodePem('CERTIFICATE', material.tsaLeaf.cert) + encodePem('CERTIFICATE', material.tsaRoot.cert));
    writeFileAtomic(paths.rekorPub, spkiPem(material.rekor.pub));
    writeFileAtomic(paths.ctfePub, spkiPem(material.ctlog.pub));
    const env = envFile({ baseUrl: url, issuer: issuerUrl, clientId: DEFAULT_CLIENT_ID, tufUrl: url + TUF_PATH, paths });
    writeFileAtomic(paths.env, env);
    const runtime: RuntimeInfo = { url, issuer: issuerUrl, pid: process.pid, subject, faults: (opts.faults ?? new FaultPlan()).items() };
    writeFileAtomic(paths.runtime, JSON.stringify(runtime, null, 2) + '\n');

    const stopTufRenewal = keepTimestampFresh(tufOptions, tuf);
    const openStore = store;
    const openStoreV2 = storeV2;
    let closing: Promise<void> | undefined;
    return {
      url,
      issuer: issuerUrl,
      subject,
      port,
      paths,
      env,
      createdKeys: created,
      tufRootVersion: tuf.rootVersion,
      entries: loaded.entries.length,
      repairedBytes: loaded.discardedBytes + loadedV2.discardedBytes,
      close: () =>
        (closing ??= (async () => {
          stopTufRenewal();
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
            // Requests under way get a moment to finish; then every connection goes.
            setTimeout(() => server.closeAllConnections(), 2_000).unref();
          });
          await log.drain();
          await logV2.drain();
          await openStore.close();
          await openStoreV2.close();
          release?.();
        })()),
    };
  } catch (err) {
    // A failure after listening (a damaged TUF key file, an unwritable file): the port is let go too,
    // and what this start added is taken away (while the lock is held), then the directories it made.
    listening?.close();
    listening?.closeAllConnections();
    await store?.close().catch(() => undefined);
    await storeV2?.close().catch(() => undefined);
    if (release && paths) {
      try {
        removeAddedEntries(additions, basename(paths.lock));
      } catch {
        /* the start's own error is the one to report */
      }
    }
    release?.();
    removeCreatedDirectories(additions);
    throw err;
  }
}
