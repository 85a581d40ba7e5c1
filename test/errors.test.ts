/** The one sentence a user reads for an error: a bug is called one, exactly once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cannotRead, GitsignError, toGitsignError, userMessage } from '../src/errors';

test('a runtime failure reads "internal error: ..." once, however it was wrapped', () => {
  const wrapped = toGitsignError(new TypeError('x is not a function'));
  assert.equal(userMessage(wrapped), 'internal error: x is not a function');
  assert.equal(userMessage(toGitsignError(wrapped)), 'internal error: x is not a function');
});

test('an INTERNAL error of ours says it is internal; other codes are left as they are', () => {
  assert.equal(userMessage(new GitsignError('INTERNAL', 'verification worker not found')), 'internal error: verification worker not found');
  assert.equal(userMessage(new GitsignError('USAGE', 'internal error is a phrase here')), 'internal error is a phrase here');
});

test('a file that cannot be read is named, quoted, with the reason in words and the errno code', () => {
  const missing = Object.assign(new Error('ENOENT: no such file or directory, open'), { code: 'ENOENT' });
  assert.equal(cannotRead('USAGE', 'the bundle', '/x/b.json', missing).message, 'cannot read the bundle "/x/b.json": no such file (ENOENT)');
  const dir = Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
  assert.equal(cannotRead('TRUST_ROOT', '', '/etc', dir).message, 'cannot read "/etc": it is a directory (EISDIR)');
  // A path with control characters cannot reach the terminal as such.
  assert.doesNotMatch(cannotRead('USAGE', 'the artifact', 'a\u001b[2Jb', missing).message, /\u001b/);
});
