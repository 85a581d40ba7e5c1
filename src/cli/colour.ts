import { isatty } from 'node:tty';
import { terminalLine } from '../text/terminal';
import { printErr, printOut, writeAll } from './io';

/**
 * Colour for people at a terminal: green for what verified, red for what failed. Only when the stream
 * is a terminal, and never with NO_COLOR set (no-color.org) or TERM=dumb; piped or redirected output
 * never holds an escape sequence of ours.
 */
export type Tone = 'good' | 'bad';

const SGR: Record<Tone, string> = { good: '32', bad: '31' };

export function colourOn(fd: 1 | 2, env: NodeJS.ProcessEnv = process.env): boolean {
  return isatty(fd) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** A line escaped as printOut's, in a tone (the escape codes are ours, around text already made safe). */
export function painted(line: string, tone: Tone): string {
  return `\x1b[${SGR[tone]}m${terminalLine(line)}\x1b[0m`;
}

/**
 * Lines to stdout (fd 1) or stderr (fd 2), those whose index `tones` names in their tone when that
 * stream is a terminal; otherwise exactly as printOut and printErr write them. Coloured stderr lines
 * are not copied to gitsign.logPath: the commands that colour keep no log.
 */
export function printToned(fd: 1 | 2, lines: string[], tones: Map<number, Tone>): void {
  if (lines.length === 0) return;
  if (tones.size === 0 || !colourOn(fd)) {
    (fd === 1 ? printOut : printErr)(...lines);
    return;
  }
  const text = Buffer.from(lines.map((l, i) => `${tones.has(i) ? painted(l, tones.get(i) as Tone) : terminalLine(l)}\n`).join(''));
  if (fd === 1) {
    writeAll(1, text, 'the output');
    return;
  }
  try {
    writeAll(2, text, 'messages');
  } catch {
    /* as printErr: nowhere left to report it */
  }
}

/** One object's report: the line naming its signer green on stdout, its error lines red on stderr. */
export function printReport(r: { out: string[]; err: string[]; goodLine?: number }): void {
  printToned(1, r.out, new Map(r.goodLine !== undefined && r.goodLine >= 0 ? [[r.goodLine, 'good']] : []));
  printToned(2, r.err, new Map(r.err.map((_, i): [number, Tone] => [i, 'bad'])));
}
