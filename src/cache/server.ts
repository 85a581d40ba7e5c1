import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { GitsignError, toGitsignError } from '../errors';
import { type Handler, serveConnection, type Timeouts } from './connection';
import { GobEncoder } from './gob/encoder';
import { loadPeerCheck, peerOf } from './peer';
import { encodeReply, type GoConfig, goQuote, type WireCredential } from './rpc';
import { CredentialStore } from './store';

/**
 * The gitsign-credential-cache daemon: serves Go gitsign's Service.GetCredential and
 * Service.StoreCredential (rpc.ts) on Unix sockets it listens on (its own path, or the ones
 * systemd passes), for connections from its own user only.
 */
export const MAX_CONNECTIONS = 64;

export interface CacheDaemon {
  servers: Server[];
  store: CredentialStore;
  /** Why connections are not checked by peer credentials, when they are not. */
  peerCheckUnavailable?: string;
  close(): Promise<void>;
}

/** A login for a miss whose call brought a Config (loginOnMiss.ts); absent, a miss is only a miss. */
type MissLogin = (requested: GoConfig) => Promise<WireCredential>;

export function handler(store: CredentialStore, login?: MissLogin): Handler {
  return async (call) => {
    if (call.method === 'store') {
      if (!call.credential) return { error: `no credential to store for ${goQuote(call.id)}` };
      try {
        store.put(call.id, call.credential);
      } catch (err) {
        if (err instanceof GitsignError) return { error: `not stored: ${err.message}` };
        throw err;
      }
      // Go's daemon echoes the credential; an empty one says the same without sending the key back.
      return { credential: null };
    }
    const found = store.get(call.id);
    if (found) return { credential: found };
    // Go's daemon's words for a miss, which its clients and ours take as "log in yourself".
    if (!call.config) return { error: `${goQuote(call.id)} not found` };
    if (!login) return { error: `${goQuote(call.id)} not found (this daemon does not log in: --no-login)` };
    let credential: WireCredential;
    try {
      credential = await login(call.config);
    } catch (err) {
      // toGitsignError: the login's own bundle file (dist/login.js) has its own GitsignError class.
      return { error: `${goQuote(call.id)} not found, and no login: ${toGitsignError(err).message}` };
    }
    store.put(call.id, credential);
    return { credential };
  };
}

/**
 * A connection from another user gets one error reply (for a Go client, the answer to its first
 * call) and is closed at once, whether or not it reads or closes its side: left half-open, such
 * connections used to fill every slot and lock the owner out.
 */
const FORBIDDEN = 'gitsign-credential-cache: this credential cache serves only its own user';

function refuse(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  // The reply is small: written at once into the socket's buffer, so the peer can still read it.
  socket.end(encodeReply(new GobEncoder(), '', 0n, { error: FORBIDDEN }));
  setImmediate(() => socket.destroy());
}

function acceptor(handle: Handler, uid: number, timeouts: Timeouts): { onConnection: (s: Socket) => void; unavailable?: string } {
  const peer = loadPeerCheck();
  const onConnection = (socket: Socket): void => {
    if ('addon' in peer) {
      let who;
      try {
        who = peerOf(peer.addon, socket);
      } catch {
        who = undefined;
      }
      if (!who || who.uid !== uid) return refuse(socket);
    }
    serveConnection(socket, handle, timeouts);
  };
  return 'addon' in peer ? { onConnection } : { onConnection, unavailable: peer.reason };
}

/** The socket's directory: created 0700, and tightened to 0700 if it is ours and looser. */
function prepareDirectory(dir: string, uid: number): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new GitsignError('CONFIG', `${dir} is not a directory`);
  if (st.uid !== uid) throw new GitsignError('CONFIG', `${dir} belongs to another user (uid ${st.uid})`);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** A socket file left by a daemon that died is removed; one that answers means a daemon is running. */
async function clearStaleSocket(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new GitsignError('CONFIG', `${path} exists and is not a socket`);
  const alive = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new GitsignError('CONFIG', `a credential cache is already listening on ${path}`);
  unlinkSync(path);
}

function listen(server: Server, target: string | { fd: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new GitsignError('CONFIG', `cannot listen on ${typeof target === 'string' ? target : `fd ${target.fd}`}: ${err.code ?? err.message}`)));
    server.listen(target, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      resolve();
    });
  });
}

export interface DaemonOptions {
  socketPath?: string;
  fds?: number[];
  /** How long a request may take to arrive whole, and how long a connection may wait between calls. */
  timeouts: Timeouts;
  /** Login on a miss; absent with --no-login. */
  login?: MissLogin;
}

export async function startDaemon(opts: DaemonOptions): Promise<CacheDaemon> {
  const uid = process.getuid?.() ?? -1;
  const store = new CredentialStore();
  const { onConnection, unavailable } = acceptor(handler(store, opts.login), uid, opts.timeouts);
  const servers: Server[] = [];
  const make = (): Server => {
    // Half-open: a client that ends its side early still gets the error line.
    const s = createServer({ allowHalfOpen: true }, onConnection);
    s.maxConnections = MAX_CONNECTIONS;
    servers.push(s);
    return s;
  };
  if (opts.fds && opts.fds.length > 0) {
    for (const fd of opts.fds) await listen(make(), { fd });
  } else if (opts.socketPath) {
    prepareDirectory(dirname(opts.socketPath), uid);
    await clearStaleSocket(opts.socketPath);
    // Created with no group or other bits from the start, then made 0600 explicitly.
    const umask = process.umask(0o177);
    try {
      await listen(make(), opts.socketPath);
    } finally {
      process.umask(umask);
    }
    chmodSync(opts.socketPath, 0o600);
  } else {
    throw new GitsignError('USAGE', 'no socket to listen on');
  }
  const ownPath = opts.fds?.length ? undefined : opts.socketPath;
  return {
    servers,
    store,
    peerCheckUnavailable: unavailable,
    close: async () => {
      store.clear();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      if (ownPath) {
        try {
          unlinkSync(ownPath);
        } catch {
          /* already gone */
        }
      }
    },
  };
}
