import { readRegularFile } from '../files/regularFile';
import { cannotRead, GitsignError, quoted } from '../errors';
import { MAX_POLICY_BYTES } from './yamlTree';

/**
 * A policy file from disk, only when it is a regular file (a FIFO or device in its place would block or
 * read for ever: ../files/regularFile). A larger file than a policy may be is refused by its size,
 * unread. `shown` is the name errors use (the path as the user spelled it).
 */
export function readPolicyFile(path: string, shown = path): Buffer {
  const r = readRegularFile(path, MAX_POLICY_BYTES);
  if (r.ok) return r.bytes;
  if (r.why === 'not-regular') throw new GitsignError('USAGE', `the policy file ${quoted(shown, 200)} is not a regular file`);
  if (r.why === 'too-large') throw new GitsignError('USAGE', `the policy file ${quoted(shown, 200)} is ${r.size} bytes; a policy is at most ${MAX_POLICY_BYTES}`);
  throw cannotRead('USAGE', 'the policy file', shown, r.err);
}
