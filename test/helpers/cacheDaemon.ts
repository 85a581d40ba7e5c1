import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './paths';

/** bin/gitsign-credential-cache as a process, and a raw client for protocol tests. */
export const CACHE_BIN = join(ROOT, 'bin', 'gitsign-credential-cache');

export interface Daemon {
  proc: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: () => string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts the daemon and resolves once it printed its socket line. */
export function startDaemon(args: string[], options: { env?: NodeJS.ProcessEnv; command?: string[] } = {}): Promise<Daemon> {
  const [cmd, ...pre] = options.command ?? [process.execPath, CACHE_BIN];
  const proc = spawn(cmd, [...pre, ...args], { env: { ...process.env, ...options.env }, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start: ${stderr}`)), 10_000);
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
export function rawExchange(socketPath: string, data: Buffer | string, opts: { keepOpen?: boolean; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(socketPath);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    }, opts.timeoutMs ?? 8_000);
    s.on('error', (err) => {
      clearTimeout(timer);
      if (chunks.length) resolve(Buffer.concat(chunks).toString('utf8'));
      else reject(err);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    if (opts.keepOpen) s.write(data);
    else s.end(data);
  });
}

export async function request(socketPath: string, body: unknown): Promise<Record<string, unknown>> {
  const text = await rawExchange(socketPath, `${JSON.stringify(body)}\n`);
  return JSON.parse(text.trim()) as Record<string, unknown>;
}
