/** The one sentence a user reads for an error: a bug is called one, exactly once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GitsignError, toGitsignError, userMessage } from '../src/errors';

test('a runtime failure reads "internal error: ..." once, however it was wrapped', () => {
  const wrapped = toGitsignError(new TypeError('x is not a function'));
  assert.equal(userMessage(wrapped), 'internal error: x is not a function');
  assert.equal(userMessage(toGitsignError(wrapped)), 'internal error: x is not a function');
});

test('an INTERNAL error of ours says it is internal; other codes are left as they are', () => {
  assert.equal(userMessage(new GitsignError('INTERNAL', 'verification worker not found')), 'internal error: verification worker not found');
  assert.equal(userMessage(new GitsignError('USAGE', 'internal error is a phrase here')), 'internal error is a phrase here');
});
