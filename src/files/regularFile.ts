import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A file's bytes, only when it is a regular file of at most `max` bytes: a FIFO or a device in its
 * place would block or read for ever, a huge file would be held in memory. Opened non-blocking (even a
 * FIFO with no writer returns at once) and judged on the open descriptor, so the path cannot be
 * swapped between the check and the read; `noFollow` refuses a symbolic link at the path itself.
 */
export type RegularFileRead =
  | { ok: true; bytes: Buffer }
  | { ok: false; why: 'open' | 'read'; err: unknown }
  | { ok: false; why: 'not-regular' }
  | { ok: false; why: 'too-large'; size: number };

export function readRegularFile(path: string, max: number, opts: { noFollow?: boolean } = {}): RegularFileRead {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (opts.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (err) {
    return { ok: false, why: 'open', err };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, why: 'not-regular' };
    if (st.size > max) return { ok: false, why: 'too-large', size: st.size };
    // One byte more than allowed is asked for: a file that grew since fstat is still caught.
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return n > max ? { ok: false, why: 'too-large', size: n } : { ok: true, bytes: buf.subarray(0, n) };
  } catch (err) {
    return { ok: false, why: 'read', err };
  } finally {
    closeSync(fd);
  }
}
