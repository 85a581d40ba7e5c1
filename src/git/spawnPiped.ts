import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { type Addon, loadAddon } from '../addon';
import { environmentList } from './runSync';

/** What CatFile and runGit use of a started program: node's ChildProcess has it, and so does ours. */
export interface PipedProcess {
  /** Its process ID (undefined when child_process could not start it). */
  readonly pid?: number;
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  /** 'close': it has exited and its output has ended (code null: ended by a signal). */
  on(event: 'close', listener: (code: number | null) => void): this;
  /** 'error': it could not be started (code ENOENT: no such program). */
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): this;
}

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * A program with its stdin, stdout and stderr on pipes, started by the native addon's posix_spawn
 * where it is built, else by child_process. child_process forks, copying this process's page tables
 * before the program can start: measured here 9.5 ms of this thread per start at 45 MB, 16 ms at
 * 150 MB, and an audit starts six gits before its first result.
 */
export function spawnPiped(file: string, args: string[], opts: SpawnOptions = {}): PipedProcess {
  return spawnWithAddon(file, args, opts) ?? spawnWithChildProcess(file, args, opts);
}

/** The addon's start; null when there is no addon (not built, not Linux) or it could not start the program (child_process then says why, in its own terms). */
export function spawnWithAddon(file: string, args: string[], opts: SpawnOptions = {}): PipedProcess | null {
  const addon = loadAddon();
  if (!addon?.spawnPiped || !addon.reap) return null;
  try {
    return new AddonProcess(addon.spawnPiped(file, [file, ...args], opts.cwd ?? null, environmentList(opts.env ?? process.env)), addon.reap);
  } catch {
    return null;
  }
}

export function spawnWithChildProcess(file: string, args: string[], opts: SpawnOptions = {}): PipedProcess {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  return spawn(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** The longest pause between two looks at a child that has closed its output but not yet exited. */
const MAX_REAP_PAUSE_MS = 50;

class AddonProcess extends EventEmitter implements PipedProcess {
  readonly pid: number;
  readonly stdin: Socket;
  readonly stdout: Socket;
  readonly stderr: Socket;

  constructor(
    started: { pid: number; stdin: number; stdout: number; stderr: number },
    private readonly reap: NonNullable<Addon['reap']>,
  ) {
    super();
    this.pid = started.pid;
    this.stdin = new Socket({ fd: started.stdin, readable: false, writable: true });
    this.stdout = new Socket({ fd: started.stdout, readable: true, writable: false });
    this.stderr = new Socket({ fd: started.stderr, readable: true, writable: false });
    let open = 2;
    const ended = (): void => {
      if (--open === 0) this.waitForExit(this.pid, 0);
    };
    this.stdout.once('close', ended);
    this.stderr.once('close', ended);
  }

  /** Its output has ended, so it is exiting: reaped as soon as it has (libuv reaps only child_process's children). */
  private waitForExit(pid: number, pause: number): void {
    const ended = this.reap(pid);
    if (!ended) {
      setTimeout(() => this.waitForExit(pid, Math.min(pause * 2 || 1, MAX_REAP_PAUSE_MS)), pause);
      return;
    }
    this.stdin.destroy();
    this.emit('close', ended.status);
  }
}
