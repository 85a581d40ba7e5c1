import { lstatSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadPeerCheck, type PeerCheck, peerOf } from './peer';
import { type CacheKey, encode, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type Response, type WireCredential } from './protocol';
import { checkSocketPath, type PathProblem } from './safePath';

/**
 * gitsign's side of the credential cache. Every call is bounded by a short timeout and never throws:
 * a missing, dead, hung or foreign daemon only means "no cached credential", and a commit goes on with
 * a fresh login. Nothing is sent to, and nothing is read from, a daemon of another user: the kernel
 * says who listens on the connected socket (SO_PEERCRED, getpeereid) before the request is written.
 * Without the peercred addon, the socket is used only if no other user can change the path to it
 * (see safePath.ts); checking the file's owner alone would leave a check-then-connect race.
 */
export const CLIENT_TIMEOUT_MS = 1_000;

/** refused: the cache is another user's or could be (worth telling the user), not merely absent. */
export type CacheResult<T> = { ok: true; value: T } | { ok: false; why: string; refused?: boolean };

export interface CacheClientOptions {
  timeoutMs?: number;
  /** How the daemon's user is checked; the addon when it loads. */
  peerCheck?: PeerCheck;
  /** Told (once per client) why a cache was not trusted. */
  onRefused?: (why: string) => void;
}

/** A cheap look before connecting: a socket file of ours (the peer check then says who listens). */
function checkSocketFile(path: string, uid: number): PathProblem | null {
  try {
    const st = lstatSync(path);
    if (!st.isSocket()) return { why: `${path} is not a socket`, refused: true };
    if (st.uid !== uid) return { why: `${path} belongs to uid ${st.uid}, not us`, refused: true };
    return null;
  } catch (err) {
    return { why: `${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, refused: false };
  }
}

/** Why the daemon at the other end of `socket` is not ours, or null when it is. */
function foreignDaemon(peer: PeerCheck, socket: Socket, path: string, uid: number): string | null {
  if (!('addon' in peer)) return null; // the path was checked instead
  let who;
  try {
    who = peerOf(peer.addon, socket);
  } catch (err) {
    return `cannot tell who listens on ${path} (${(err as Error).message})`;
  }
  return who.uid === uid ? null : `the daemon on ${path} runs as uid ${who.uid}, not as us (uid ${uid})`;
}

function call(path: string, request: object, timeoutMs: number, peer: PeerCheck): Promise<CacheResult<Response>> {
  const uid = process.getuid?.();
  if (uid === undefined) return Promise.resolve({ ok: false, why: 'this system does not tell who owns a socket', refused: true });
  const bad = 'addon' in peer ? checkSocketFile(path, uid) : checkSocketPath(path, uid);
  if (bad) return Promise.resolve({ ok: false, ...bad });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = (r: CacheResult<Response>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = connect(path);
    const timer = setTimeout(() => done({ ok: false, why: `no answer within ${timeoutMs} ms` }), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, why: err.code ?? err.message }));
    socket.once('connect', () => {
      const foreign = foreignDaemon(peer, socket, path, uid);
      if (foreign) return done({ ok: false, why: foreign, refused: true });
      // Only now is anything read (the stream stays paused without a 'data' listener) or written.
      socket.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_REQUEST_BYTES) return done({ ok: false, why: 'answer too large' });
        chunks.push(c);
        const all = Buffer.concat(chunks);
        const nl = all.indexOf(0x0a);
        if (nl === -1) return;
        try {
          done({ ok: true, value: JSON.parse(all.subarray(0, nl).toString('utf8')) as Response });
        } catch {
          done({ ok: false, why: 'the answer is not JSON' });
        }
      });
      socket.on('end', () => done({ ok: false, why: 'the daemon closed the connection without an answer' }));
      socket.write(encode({ v: PROTOCOL_VERSION, ...request } as never));
    });
  });
}

export class CacheClient {
  private readonly timeoutMs: number;
  private readonly peerCheck: PeerCheck;
  private readonly onRefused?: (why: string) => void;
  private warned = false;

  constructor(
    readonly socketPath: string,
    options: CacheClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? CLIENT_TIMEOUT_MS;
    this.peerCheck = options.peerCheck ?? loadPeerCheck();
    this.onRefused = options.onRefused;
  }

  private async call(request: object): Promise<CacheResult<Response>> {
    const r = await call(this.socketPath, request, this.timeoutMs, this.peerCheck);
    if (!r.ok && r.refused && !this.warned) {
      this.warned = true;
      this.onRefused?.(r.why);
    }
    return r;
  }

  /** The daemon's version and entry count (`gitsign doctor`). */
  async ping(): Promise<CacheResult<{ version?: string; entries?: number }>> {
    const r = await this.call({ op: 'ping' });
    if (!r.ok) return r;
    if (!r.value.ok) return { ok: false, why: `${r.value.error}: ${r.value.message}` };
    return { ok: true, value: { version: r.value.version, entries: r.value.entries } };
  }

  async get(key: CacheKey): Promise<CacheResult<WireCredential | null>> {
    const r = await this.call({ op: 'get', key });
    if (!r.ok) return r;
    if (!r.value.ok) return { ok: false, why: `${r.value.error}: ${r.value.message}` };
    return { ok: true, value: r.value.credential ?? null };
  }

  async store(key: CacheKey, credential: WireCredential): Promise<CacheResult<null>> {
    const r = await this.call({ op: 'store', key, credential });
    if (!r.ok) return r;
    return r.value.ok ? { ok: true, value: null } : { ok: false, why: `${r.value.error}: ${r.value.message}` };
  }
}
