import { writeSync } from 'node:fs';
import { isatty } from 'node:tty';

/**
 * A live progress line on stderr (objects done, objects/s, time left), only when stderr is a terminal:
 * nothing of it reaches a pipe or a file. Redrawn at most every 200 ms; the text is ours (numbers).
 */
export interface Progress {
  update(done: number, total: number): void;
  end(): void;
}

const SILENT: Progress = { update: () => undefined, end: () => undefined };

export function progressLine(what: string, fd = 2): Progress {
  if (!isatty(fd)) return SILENT;
  const started = Date.now();
  let last = 0;
  let shown = false;
  const write = (text: string): void => {
    try {
      writeSync(fd, text);
    } catch {
      /* a terminal that went away takes the progress line with it */
    }
  };
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 200 && done < total) return;
      last = now;
      const rate = done / Math.max((now - started) / 1000, 0.001);
      const left = rate > 0 ? Math.ceil((total - done) / rate) : 0;
      write(`\r${what}: ${done}/${total} objects, ${rate.toFixed(0)}/s, ${left} s left\u001b[K`);
      shown = true;
    },
    end() {
      if (shown) write('\r\u001b[K');
    },
  };
}
