import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { cannotRead, GitsignError, quoted } from '../errors';
import { MAX_POLICY_BYTES } from './yamlTree';

/**
 * A policy file from disk, only when it is a regular file: a FIFO or device in its place (/dev/zero, a
 * terminal) would block or read for ever, so it is opened non-blocking and its type checked on the open
 * descriptor before any read. Read up to one byte more than a policy may hold (a larger one is refused
 * by its size, unread). `shown` is the name errors use (the path as the user spelled it).
 */
export function readPolicyFile(path: string, shown = path): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw cannotRead('USAGE', 'the policy file', shown, err);
  }
  try {
    if (!fstatSync(fd).isFile()) throw new GitsignError('USAGE', `the policy file ${quoted(shown, 200)} is not a regular file`);
    const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let n = 0;
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return buf.subarray(0, n);
  } catch (err) {
    if (err instanceof GitsignError) throw err;
    throw cannotRead('USAGE', 'the policy file', shown, err);
  } finally {
    closeSync(fd);
  }
}
