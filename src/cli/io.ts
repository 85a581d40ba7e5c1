import { openSync, readSync, writeSync } from 'node:fs';

/** Synchronous writes keep status lines, messages and the signature in order, and flush before exit. */
export function writeOut(text: string): void {
  try {
    writeSync(1, text);
  } catch (err) {
    // The reader went away (`gitsign verify ... | head`): stop quietly, as a killed-by-SIGPIPE tool would.
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  }
}
let logFd: number | null = null;

/** gitsign.logPath / GITSIGN_LOG: stderr is also written to this file, truncated each run. */
export function teeStderrTo(path: string): void {
  if (!path || logFd !== null) return;
  try {
    logFd = openSync(path, 'w', 0o600);
  } catch (err) {
    writeSync(2, `gitsign: cannot open log file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
  }
}

export function writeErr(text: string): void {
  writeSync(2, text);
  if (logFd !== null) writeSync(logFd, text);
}

export async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}

/**
 * All of standard input, read synchronously: git's pipe does not need the stream machinery (loading
 * net and stream costs ~5 ms per call on git's hot path). Falls back to the stream if fd 0 is non-blocking.
 */
export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const chunk = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = readSync(0, chunk, 0, chunk.length, null);
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    return Buffer.concat([...chunks, await readAll(process.stdin)]);
  }
}
