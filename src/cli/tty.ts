import { closeSync, openSync, writeSync } from 'node:fs';
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
