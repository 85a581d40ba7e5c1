import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { terminalLine } from '../text/terminal';
import { printErr } from './io';

/**
 * Messages for the person at the keyboard (login URLs, "tlog entry created"): on the controlling
 * terminal when there is one, else stderr. Never stdout: git stores stdout as the signature. Every
 * line is escaped for the terminal (a login URL or device code is the issuer's text).
 */
let ttyFd: number | null | undefined;

/**
 * The controlling terminal, opened without O_CREAT (a missing /dev/tty must not become a regular
 * file that swallows the login URL) and only when it is a character device; null otherwise.
 */
function openTerminal(flags: number): number | null {
  let fd: number;
  try {
    fd = openSync('/dev/tty', flags | constants.O_NOCTTY);
  } catch {
    return null;
  }
  if (!fstatSync(fd).isCharacterDevice()) {
    closeSync(fd);
    return null;
  }
  return fd;
}

function tty(): number | null {
  if (ttyFd === undefined) {
    ttyFd = openTerminal(constants.O_WRONLY);
    if (ttyFd !== null) process.once('exit', () => ttyFd && closeSync(ttyFd));
  }
  return ttyFd;
}

/** A line on the terminal; false when there is none or it cannot be written (then stderr is used). */
function onTerminal(line: string): boolean {
  const fd = tty();
  if (fd === null) return false;
  try {
    writeSync(fd, `${terminalLine(line)}\n`);
    return true;
  } catch {
    return false;
  }
}

export function say(line: string): void {
  if (!onTerminal(line)) printErr(line);
}

/** Whether fd 2 is the file git reads status lines from (`--status-fd=2`, or another fd for the same pipe). */
function stderrIsStatus(statusFd: number): boolean {
  if (statusFd < 0) return false;
  if (statusFd === 2) return true;
  try {
    const [a, b] = [fstatSync(2), fstatSync(statusFd)];
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}

/**
 * A line only for the person (what a signature was made with): on the terminal; without one on
 * stderr as gitsign does, except when stderr is git's status channel, which is for machines.
 */
export function sayToPerson(line: string, statusFd: number): void {
  if (!onTerminal(line) && !stderrIsStatus(statusFd)) printErr(line);
}

/**
 * An error: on the terminal, where a person sees it (git keeps a failing signer's stderr to itself),
 * and on stderr for logs and scripts; once when there is no terminal.
 */
export function sayError(line: string): void {
  onTerminal(line);
  printErr(line);
}

/**
 * Asks the person at the terminal for one line (the login's pasted code). null when there is no
 * terminal, or once the signal aborts: git holds our stdin for the object, so only /dev/tty will do.
 */
export async function ask(prompt: string, signal: AbortSignal): Promise<string | null> {
  const fd = openTerminal(constants.O_RDWR);
  if (fd === null) return null;
  const input = new ReadStream(fd);
  try {
    writeSync(fd, terminalLine(prompt));
  } catch {
    input.destroy();
    return null;
  }
  return new Promise((resolve) => {
    let buffered = '';
    const finish = (line: string | null): void => {
      signal.removeEventListener('abort', onAbort);
      input.destroy(); // also closes fd
      resolve(line);
    };
    const onAbort = (): void => finish(null);
    signal.addEventListener('abort', onAbort);
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.search(/\r?\n/);
      if (nl !== -1) finish(buffered.slice(0, nl));
    });
    input.on('end', () => finish(buffered || null));
    input.on('error', () => finish(null));
  });
}
