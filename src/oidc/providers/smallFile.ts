import { statSync } from 'node:fs';
import { cannotRead, GitsignError, quoted } from '../../errors';
import { readRegularFile } from '../../files/regularFile';
import { type AnswerLimit, formatBytes } from '../../net/answerLimits';

/** A token or credentials file, read whole, only when it is a regular file within the limit (../../files/regularFile). */
export function readSmallFile(path: string, limit: AnswerLimit, what: string): string {
  const r = readRegularFile(path, limit.bytes);
  if (r.ok) return r.bytes.toString('utf8');
  if (r.why === 'not-regular') throw new GitsignError('TOKEN', `${what} ${quoted(path, 200)} is not a regular file`);
  if (r.why === 'too-large') throw new GitsignError('TOKEN', `${what} ${quoted(path, 200)} is larger than ${formatBytes(limit.bytes)}, too much for ${limit.what}`);
  throw cannotRead('TOKEN', what, path, r.err);
}

/** Whether stat() succeeds at the path, as cosign enables a provider by os.Stat: any failure (EACCES too) is "no". */
export function statable(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}
