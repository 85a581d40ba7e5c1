import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { CacheClient } from '../../src/cache/client';
import { GobDecoder } from '../../src/cache/gob/decoder';
import { CREDENTIAL, RESPONSE_HEADER } from '../../src/cache/rpc';
import { ROOT } from './paths';
import { tracked } from './processes';

/** bin/gitsign-credential-cache as a process, and raw clients for protocol tests. */
export const CACHE_BIN = join(ROOT, 'bin', 'gitsign-credential-cache');

export interface Daemon {
  proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: () => string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the daemon and resolves once it printed its socket line; killed if it does not in time, stopped at the file's end anyway. */
export function startDaemon(args: string[], options: { env?: NodeJS.ProcessEnv; command?: string[]; cwd?: string } = {}): Promise<Daemon> {
  const [cmd, ...pre] = options.command ?? [process.execPath, CACHE_BIN];
  const proc = tracked(spawn(cmd, [...pre, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, stdio: 'pipe' }));
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`daemon did not start within 10 s (killed): ${stderr}`));
    }, 10_000);
    void exited.then((code) => reject(new Error(`daemon exited with ${code}: ${stderr}`)));
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!stdout.includes('\n')) return;
      clearTimeout(timer);
      resolve({
        proc,
        stdout,
        stderr: () => stderr,
        exited,
        stop: (signal: NodeJS.Signals = 'SIGTERM') => {
          proc.kill(signal);
          return exited;
        },
      });
    });
  });
}

/** Sends raw bytes on one connection (ending it unless keepOpen) and returns all that came back. */
export function rawExchange(socketPath: string, data: Buffer | string, opts: { keepOpen?: boolean; timeoutMs?: number } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(chunks));
    }, opts.timeoutMs ?? 8_000);
    s.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length) resolve(Buffer.concat(chunks));
      else reject(err);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    if (opts.keepOpen) s.write(data);
    else s.end(data);
  });
}

/** The net/rpc replies in `bytes` (read with our codec): each one's method, sequence number and error text. */
export function replies(bytes: Buffer): { method: string; seq: number; error: string }[] {
  const dec = new GobDecoder();
  dec.push(bytes);
  const out: { method: string; seq: number; error: string }[] = [];
  for (;;) {
    const h = dec.next(RESPONSE_HEADER)?.value;
    if (!h) return out;
    const error = h.Error as string;
    if (!dec.next(error ? null : CREDENTIAL)) throw new Error('a reply without its body');
    out.push({ method: h.ServiceMethod as string, seq: Number(h.Seq), error });
  }
}

/** The one error reply in `bytes`. */
export function errorReply(bytes: Buffer): string {
  const all = replies(bytes);
  if (all.length !== 1) throw new Error(`${all.length} replies, not one`);
  return all[0].error;
}

/** The daemon serves: a lookup of an ID no one uses gets its "not found" (through the client, peer check and all). */
export async function serves(socketPath: string): Promise<boolean> {
  const r = await new CacheClient(socketPath, { timeoutMs: 8_000 }).get('nobody@/probe');
  return !r.ok && r.answered === true && r.why === '"nobody@/probe" not found';
}

/** A node script running as another user (the tests run as root), with its stdout lines. */
export interface OtherUser {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  /** The first line matching `re` (waiting at most `ms`). */
  line(re: RegExp, ms?: number): Promise<string>;
  stop(): Promise<void>;
}

export function runAs(uid: number, script: string, args: string[], env: NodeJS.ProcessEnv = {}): OtherUser {
  const proc = tracked(spawn(process.execPath, ['-e', script, ...args], { uid, gid: uid, cwd: '/', env: { PATH: process.env.PATH, ...env }, stdio: 'pipe' }));
  const lines: string[] = [];
  let stderr = '';
  let pending = '';
  let exited = false;
  const waiters = new Set<() => void>();
  const exit = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      exited = true;
      waiters.forEach((w) => w());
      resolve();
    }),
  );
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  proc.stdout.on('data', (d: Buffer) => {
    const parts = (pending + d.toString()).split('\n');
    pending = parts.pop() ?? '';
    lines.push(...parts);
    waiters.forEach((w) => w());
  });
  const line = (re: RegExp, ms = 10_000): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = lines.find((l) => re.test(l));
        if (hit === undefined && !exited) return;
        waiters.delete(check);
        clearTimeout(timer);
        if (hit === undefined) reject(new Error(`uid ${uid}'s process exited without ${re}: ${stderr}`));
        else resolve(hit);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`uid ${uid}'s process printed no ${re} within ${ms} ms (lines: ${lines.join(' | ')}; stderr: ${stderr})`));
      }, ms);
      waiters.add(check);
      check();
    });
  return {
    proc,
    lines,
    line,
    stop: () => {
      if (!exited) proc.kill('SIGKILL');
      return exit;
    },
  };
}

/**
 * One connection held open (never ended by us), sending `first` at once and `drip` every 200 ms, until the
 * daemon closes it or `ms` pass: what it received, and whether the daemon closed it. Closed means
 * gone, not half-closed: after the daemon's end of stream we keep writing, which fails (EPIPE) only
 * once the daemon has let go of the connection.
 */
export function holdOpen(socketPath: string, opts: { drip?: string; first?: Buffer; ms?: number } = {}): Promise<{ answer: Buffer; closedByDaemon: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    // allowHalfOpen: the daemon's end of its answer does not make us close; only its close ends this.
    const s = connect({ path: socketPath, allowHalfOpen: true });
    const finish = (closedByDaemon: boolean): void => {
      clearInterval(drip);
      clearTimeout(timer);
      s.destroy();
      resolve({ answer: Buffer.concat(chunks), closedByDaemon });
    };
    if (opts.first) s.write(opts.first);
    const drip = setInterval(() => opts.drip && s.writable && s.write(opts.drip), 200);
    const timer = setTimeout(() => finish(false), opts.ms ?? 10_000);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      const probe = setInterval(() => s.writable && s.write(' '), 100);
      s.on('close', () => clearInterval(probe));
    });
    s.on('error', () => undefined); // EPIPE, ECONNRESET: closed
    s.on('close', () => finish(true));
  });
}
