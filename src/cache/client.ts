import { lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { type CacheKey, encode, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type Response, type WireCredential } from './protocol';

/**
 * gitsign's side of the credential cache. Every call is bounded by a short timeout and never throws:
 * a missing, dead, hung or foreign daemon only means "no cached credential", and a commit goes on with
 * a fresh login. The socket must be a socket owned by us (a socket planted by another user in a shared
 * directory would otherwise receive our keys).
 */
export const CLIENT_TIMEOUT_MS = 1_000;

export type CacheResult<T> = { ok: true; value: T } | { ok: false; why: string };

function checkSocketFile(path: string): string | null {
  try {
    const st = lstatSync(path);
    if (!st.isSocket()) return `${path} is not a socket`;
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) return `${path} belongs to uid ${st.uid}, not us`;
    return null;
  } catch (err) {
    return `${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
}

function call(path: string, request: object, timeoutMs: number): Promise<CacheResult<Response>> {
  const bad = checkSocketFile(path);
  if (bad) return Promise.resolve({ ok: false, why: bad });
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
}

export class CacheClient {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = CLIENT_TIMEOUT_MS,
  ) {}

  async get(key: CacheKey): Promise<CacheResult<WireCredential | null>> {
    const r = await call(this.socketPath, { op: 'get', key }, this.timeoutMs);
    if (!r.ok) return r;
    if (!r.value.ok) return { ok: false, why: `${r.value.error}: ${r.value.message}` };
    return { ok: true, value: r.value.credential ?? null };
  }

  async store(key: CacheKey, credential: WireCredential): Promise<CacheResult<null>> {
    const r = await call(this.socketPath, { op: 'store', key, credential }, this.timeoutMs);
    if (!r.ok) return r;
    return r.value.ok ? { ok: true, value: null } : { ok: false, why: `${r.value.error}: ${r.value.message}` };
  }
}
