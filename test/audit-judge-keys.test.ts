/**
 * An ordinary commit's verdict is remembered per governing state under a key made of its ref, its
 * signer and its paths (src/audit/judge.ts): parts that a committer or signer chooses. Two different
 * lists of parts must never give the same key, or one commit would get another's verdict.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exactKey } from '../src/audit/judge';

test('lists that joined text would confuse give different keys', () => {
  const confusable: [string[], string[]][] = [
    [['ab', 'c'], ['a', 'bc']],
    [['1:a'], ['1', 'a']],
    [['a', ''], ['a']],
    [['', 'a'], ['a', '']],
    [['x', 'src/secret/a'], ['xsrc/', 'secret/a']],
    [['2:ab'], ['2', 'ab']],
  ];
  for (const [a, b] of confusable) assert.notEqual(exactKey(a), exactKey(b), `${JSON.stringify(a)} and ${JSON.stringify(b)}`);
});

test('the same list gives the same key', () => {
  assert.equal(exactKey(['a', 'refs/heads/main', 'alice@example.com']), exactKey(['a', 'refs/heads/main', 'alice@example.com']));
});
