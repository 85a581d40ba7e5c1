import { type ChildProcessWithoutNullStreams, execFile, execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './paths';
import { requirePeer } from './peers';
import { tracked } from './processes';

/**
 * test/go/cachepeer built with the machine's Go (standard library only: no module is downloaded,
 * GOPROXY=off makes sure) into a temporary directory once per test file, GOPATH there too. Go's
 * build cache is shared by the test files of this user (Go locks it; on a busy machine a cold
 * build of the standard library takes a minute), in a temporary directory that must be ours and
 * private, else the file's own is used. A machine without Go fails the test at once with the
 * command that installs it.
 */
const SOURCE = join(ROOT, 'test', 'go', 'cachepeer');
let built: string | undefined;

function buildCache(fallback: string): string {
  const uid = process.getuid?.() ?? -1;
  const shared = join(tmpdir(), `gitsign-ts-gocache-${uid}`);
  try {
    mkdirSync(shared, { mode: 0o700 });
  } catch {
    /* there already */
  }
  const st = lstatSync(shared);
  return st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 ? shared : fallback;
}

export function goPeer(): string {
  if (built) return built;
  const go = requirePeer('go');
  const dir = mkdtempSync(join(tmpdir(), 'gitsign-gopeer-'));
  // Removed when the file's process ends (a node:test hook registered here would belong to the test that first asked).
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH, HOME: dir, GOCACHE: buildCache(join(dir, 'cache')), GOPATH: join(dir, 'path'), GOPROXY: 'off', GOFLAGS: '', GO111MODULE: 'on', CGO_ENABLED: '0' };
  execFileSync(go, ['build', '-o', join(dir, 'cachepeer'), '.'], { cwd: SOURCE, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  built = join(dir, 'cachepeer');
  return built;
}

export interface PeerRun {
  status: number | null;
  stdout: string;
  /** With what went wrong running it (a signal, a timeout), when something did. */
  stderr: string;
}

/** One run of the peer (a client call, a decode), bounded; `input` goes to its stdin. */
export function runGo(args: string[], input?: Buffer): Promise<PeerRun> {
  const bin = goPeer();
  return new Promise((resolve) => {
    const child = execFile(bin, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ status, stdout, stderr: status === null && err ? `${stderr}[${err.message}; signal ${err.signal}]` : stderr });
    });
    child.stdin?.on('error', () => undefined); // the peer may exit before reading it all: its status says why
    child.stdin?.end(input ?? '');
  });
}

/** The peer's JSON lines. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export interface GoDaemon {
  proc: ChildProcessWithoutNullStreams;
  /** Its first `count` events ({"event":"get"|"store", "id", "config"?}) once it printed them (10 s at most), and no more. */
  events(count: number): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

/** `cachepeer serve SOCKET`, once it listens (10 s at most). */
export function startGoDaemon(socket: string): Promise<GoDaemon> {
  const proc = tracked(spawn(goPeer(), ['serve', socket], { stdio: 'pipe' }));
  let stdout = '';
  let stderr = '';
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the Go daemon did not listen within 10 s: ${stderr}`));
    }, 10_000);
    void exited.then(() => reject(new Error(`the Go daemon exited: ${stderr}`)));
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!stdout.includes('"listening"')) return;
      clearTimeout(timer);
      const printed = (): Record<string, unknown>[] => jsonLines(stdout.slice(0, stdout.lastIndexOf('\n') + 1)).filter((e) => e.event !== 'listening');
      resolve({
        proc,
        // Its lines come through a pipe, after its answers on the socket: wait for them.
        events: (count) =>
          new Promise((done, fail) => {
            const started = Date.now();
            const check = (): void => {
              const seen = printed();
              if (seen.length >= count || Date.now() - started > 10_000) return seen.length === count ? done(seen) : fail(new Error(`the Go daemon printed ${seen.length} events, not ${count}: ${stdout}`));
              setTimeout(check, 20);
            };
            check();
          }),
        stop: async () => {
          proc.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}
