import { closeSync, openSync, readSync } from 'node:fs';
import { GitsignError, quoted } from '../errors';
import { MAX_POLICY_BYTES } from './yamlTree';

/** A policy file from disk, read up to one byte more than a policy may hold (a larger one is refused by its size, unread). */
export function readPolicyFile(path: string): Buffer {
  const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
  let n = 0;
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    for (let got = 1; got > 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
  } catch (err) {
    throw new GitsignError('USAGE', `cannot read the policy file ${quoted(path)}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return buf.subarray(0, n);
}
