import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { cannotRead, GitsignError, quoted } from '../../errors';
import { type AnswerLimit, formatBytes } from '../../net/answerLimits';

/**
 * A token or credentials file, read whole but only when it is a regular file within the limit: a FIFO
 * or device in its place would block the read for ever, a huge file would be held in memory. Opened
 * non-blocking, so even opening a FIFO with no writer returns at once.
 */
export function readSmallFile(path: string, limit: AnswerLimit, what: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead('TOKEN', what, path, err);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new GitsignError('TOKEN', `${what} ${quoted(path, 200)} is not a regular file`);
    if (st.size > limit.bytes) throw new GitsignError('TOKEN', `${what} ${quoted(path, 200)} is larger than ${formatBytes(limit.bytes)}, too much for ${limit.what}`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got).toString('utf8');
  } catch (err) {
    if (err instanceof GitsignError) throw err;
    throw cannotRead('TOKEN', what, path, err);
  } finally {
    closeSync(fd);
  }
}

/** Whether stat() succeeds at the path, as cosign enables a provider by os.Stat: any failure (EACCES too) is "no". */
export function statable(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}
