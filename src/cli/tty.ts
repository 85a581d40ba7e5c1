import { closeSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { writeErr } from './io';

/**
 * Messages for the person at the keyboard (login URLs, "tlog entry created"): on the controlling
 * terminal when there is one, else stderr. Never stdout: git stores stdout as the signature.
 */
let ttyFd: number | null | undefined;

function tty(): number | null {
  if (ttyFd === undefined) {
    try {
      ttyFd = openSync('/dev/tty', 'w');
      process.once('exit', () => ttyFd && closeSync(ttyFd));
    } catch {
      ttyFd = null;
    }
  }
  return ttyFd;
}

export function say(line: string): void {
  const fd = tty();
  if (fd !== null) writeSync(fd, `${line}\n`);
  else writeErr(`${line}\n`);
}

/**
 * An error: on the terminal, where a person sees it (git keeps a failing signer's stderr to itself),
 * and on stderr for logs and scripts; once when there is no terminal.
 */
export function sayError(line: string): void {
  const fd = tty();
  if (fd !== null) writeSync(fd, `${line}\n`);
  writeErr(`${line}\n`);
}

/**
 * Asks the person at the terminal for one line (the login's pasted code). null when there is no
 * terminal, or once the signal aborts: git holds our stdin for the object, so only /dev/tty will do.
 */
export async function ask(prompt: string, signal: AbortSignal): Promise<string | null> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    return null;
  }
  const input = new ReadStream(fd);
  writeSync(fd, prompt);
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
