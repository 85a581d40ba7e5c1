import { closeSync, constants, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { GitsignError } from '../errors';
import { clip, terminalLine, terminalLines } from '../text/terminal';

/**
 * Where gitsign's output goes. Human text leaves only through printOut/printErr, which take lines
 * and escape each one (src/text/terminal.ts): text from objects, certificates and servers cannot
 * act on the terminal or forge a line. Writes are synchronous: status lines, messages and the
 * signature stay in order and are flushed before exit.
 */

/** All of `data` on fd, or an OUTPUT error naming what happened (a closed or broken stdout is not success). */
export function writeAll(fd: number, data: Buffer, what: string): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += writeSync(fd, data, off, data.length - off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A non-blocking pipe that is full: wait a moment for the reader (the wait blocks, as a blocking write would).
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      throw outputError(err, what);
    }
  }
}

/** The OUTPUT error for a failed write to stdout (also for writes through process.stdout, as yargs makes). */
export function outputError(err: unknown, what = 'the output'): GitsignError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EPIPE' ? 'its reader went away' : code === 'EBADF' ? 'it is closed' : (code ?? 'write failed');
  return new GitsignError('OUTPUT', `cannot write ${what} to standard output: ${why}`);
}

/** Text is written when this much is ready: an audit's 10,000 JSON lines never become one string and one copy of it. */
const OUT_CHUNK = 256 * 1024;

/** Lines for stdout (summaries, JSON), each escaped for the terminal. */
export function printOut(...lines: string[]): void {
  printLines(lines);
}

/** printOut for many lines made one by one (an audit's report): each becomes garbage once written, never all held at once. */
export function printLines(lines: Iterable<string>): void {
  let chunk = '';
  for (const line of lines) {
    chunk += `${terminalLine(line)}\n`;
    if (chunk.length >= OUT_CHUNK) {
      writeAll(1, Buffer.from(chunk), 'the output');
      chunk = '';
    }
  }
  if (chunk) writeAll(1, Buffer.from(chunk), 'the output');
}

/** The signature, as bytes for git: never escaped, and a failed write is an error (git would store nothing). */
export function writeSignature(signature: Buffer | string): void {
  writeAll(1, Buffer.from(signature), 'the signature');
}

/**
 * Signing into the void: stdout closed (Node then opens /dev/null in its place) or sent to /dev/null.
 * The signature would be logged in Rekor and then lost, so refuse before anything is signed.
 */
export function checkStdoutKeeps(what: string): void {
  let out;
  try {
    out = fstatSync(1);
  } catch {
    throw new GitsignError('OUTPUT', `standard output is closed: ${what} would be lost`);
  }
  let devNull;
  try {
    devNull = statSync('/dev/null');
  } catch {
    return;
  }
  if (out.isCharacterDevice() && out.rdev === devNull.rdev) {
    throw new GitsignError('OUTPUT', `standard output is closed or /dev/null: ${what} would be lost`);
  }
}

let logFd: number | null = null;

/**
 * gitsign.logPath / GITSIGN_LOG: stderr is also appended to this file. Opened without following a
 * symbolic link and without blocking (a FIFO with no reader is refused, not waited on); created 0600;
 * it must be a regular file. A log that cannot be opened is reported and skipped.
 */
export function teeStderrTo(path: string): void {
  if (!path || logFd !== null) return;
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'it is a symbolic link' : code === 'ENXIO' ? 'it is a FIFO without a reader' : (code ?? String(err));
    printErr(`gitsign: cannot open log file ${path}: ${why}`);
    return;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    printErr(`gitsign: cannot open log file ${path}: it is not a regular file`);
    return;
  }
  logFd = fd;
}

/** Lines for stderr (and the log file), each escaped for the terminal. Best effort: a lost stderr has no one to tell. */
export function printErr(...lines: string[]): void {
  const text = Buffer.from(terminalLines(lines));
  for (const fd of logFd === null ? [2] : [2, logFd]) {
    try {
      writeAll(fd, text, 'messages');
    } catch {
      /* nowhere left to report it */
    }
  }
}

/** An error message for people: one line, cut at 1,000 characters (it may quote a server's answer). */
export function errorLine(prefix: string, message: string): string {
  return `${prefix}${clip(message, 1000)}`;
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
