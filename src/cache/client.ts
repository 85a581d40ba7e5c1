import { lstatSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { oneLine, toGitsignError } from '../errors';
import { GobDecoder } from './gob/decoder';
import { GobEncoder } from './gob/encoder';
import type { StructType } from './gob/types';
import { malformed } from './gob/wire';
import { loadPeerCheck, type PeerCheck, peerOf } from './peer';
import { CREDENTIAL, credentialFrom, credentialValue, GET_CREDENTIAL, GET_CREDENTIAL_REQUEST, type GoConfig, encodeCall, RESPONSE_HEADER, STORE_CREDENTIAL, STORE_CREDENTIAL_REQUEST, type WireCredential } from './rpc';
import { checkSocketPath, type PathProblem } from './safePath';

/**
 * gitsign's side of the credential cache, in Go gitsign's protocol (rpc.ts), one call per
 * connection. Every call is bounded by a timeout and never throws: a missing, dead, hung, foreign
 * or babbling daemon only means "no cached credential", and a commit goes on with a fresh login.
 * Nothing is sent to, and nothing is read from, a daemon of another user: the kernel says who
 * listens on the connected socket (SO_PEERCRED, getpeereid) before the call is written. Without
 * the peercred addon, the socket is used only if no other user can change the path to it (see
 * safePath.ts); checking the file's owner alone would leave a check-then-connect race.
 */
export const CLIENT_TIMEOUT_MS = 1_000;

/**
 * refused: the cache is another user's or could be (worth telling the user), not merely absent.
 * answered: the daemon is alive and speaks the protocol; `why` is its error text (a miss is one).
 */
export type CacheResult<T> = { ok: true; value: T } | { ok: false; why: string; refused?: boolean; answered?: boolean };

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

interface Call {
  method: string;
  argType: StructType;
  arg: Parameters<typeof encodeCall>[4];
}

/** One call on a connection of its own: the reply's result, or why there is none. */
function call(path: string, c: Call, timeoutMs: number, peer: PeerCheck): Promise<CacheResult<WireCredential>> {
  const uid = process.getuid?.();
  if (uid === undefined) return Promise.resolve({ ok: false, why: 'this system does not tell who owns a socket', refused: true });
  const bad = 'addon' in peer ? checkSocketFile(path, uid) : checkSocketPath(path, uid);
  if (bad) return Promise.resolve({ ok: false, ...bad });
  return new Promise((resolve) => {
    const decoder = new GobDecoder();
    let header: { error: string } | null = null;
    let settled = false;
    const done = (r: CacheResult<WireCredential>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const socket = connect(path);
    const timer = setTimeout(() => done({ ok: false, why: `no answer within ${timeoutMs / 1000} s` }), timeoutMs);
    socket.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, why: err.code ?? err.message }));
    socket.once('connect', () => {
      const foreign = foreignDaemon(peer, socket, path, uid);
      if (foreign) return done({ ok: false, why: foreign, refused: true });
      // Only now is anything read (the stream stays paused without a 'data' listener) or written.
      socket.on('data', (chunk: Buffer) => {
        try {
          decoder.push(chunk);
          if (!header) {
            const h = decoder.next(RESPONSE_HEADER);
            if (!h) return;
            const v = h.value as { ServiceMethod: string; Seq: bigint; Error: string };
            if (v.Seq !== 0n || v.ServiceMethod !== c.method) throw malformed(`the reply is for call ${v.Seq} (${oneLine(v.ServiceMethod, 60)}), not for ours`);
            header = { error: v.Error };
          }
          const body = decoder.next(header.error ? null : CREDENTIAL);
          if (!body) return;
          if (header.error) done({ ok: false, why: oneLine(header.error), answered: true });
          else done({ ok: true, value: credentialFrom(body.value!) });
        } catch (err) {
          done({ ok: false, why: toGitsignError(err).message });
        }
      });
      socket.on('end', () => done({ ok: false, why: decoder.pending ? malformed('the connection ended inside a message').message : 'the daemon closed the connection without an answer' }));
      socket.write(encodeCall(new GobEncoder(), c.method, 0n, c.argType, c.arg));
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

  private async call(c: Call, timeoutMs = this.timeoutMs): Promise<CacheResult<WireCredential>> {
    const r = await call(this.socketPath, c, timeoutMs, this.peerCheck);
    if (!r.ok && r.refused && !this.warned) {
      this.warned = true;
      this.onRefused?.(r.why);
    }
    return r;
  }

  /**
   * Service.GetCredential: the credential cached under `id`. With `config`, a daemon that has none
   * may log in for it (then give `timeoutMs` for a person's login); without, a miss is an error reply.
   */
  get(id: string, config: GoConfig | null = null, timeoutMs?: number): Promise<CacheResult<WireCredential>> {
    return this.call({ method: GET_CREDENTIAL, argType: GET_CREDENTIAL_REQUEST, arg: { ID: id, Config: config } }, timeoutMs);
  }

  /** Service.StoreCredential. */
  async store(id: string, credential: WireCredential): Promise<CacheResult<null>> {
    const r = await this.call({ method: STORE_CREDENTIAL, argType: STORE_CREDENTIAL_REQUEST, arg: { ID: id, Credential: credentialValue(credential) } });
    return r.ok ? { ok: true, value: null } : r;
  }
}
