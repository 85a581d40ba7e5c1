import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GitsignError } from '../src/errors';
import { checkPayloadHeaders, signerEmail, splitCommit, splitObject, splitTag } from '../src/git/rawobj';
import { CORPUS, sharedMissing } from './helpers/paths';

test('commit: payload drops the gpgsig header and its continuation lines, nothing else', () => {
  const raw = Buffer.from('tree t\nparent p\nauthor a <a@x> 1 +0000\ncommitter c <c@x> 1 +0000\ngpgsig -----BEGIN SIGNED MESSAGE-----\n AAAA\n -----END SIGNED MESSAGE-----\nchange-id x\n\nmsg\n');
  const { payload, signature } = splitCommit(raw);
  assert.equal(payload.toString(), 'tree t\nparent p\nauthor a <a@x> 1 +0000\ncommitter c <c@x> 1 +0000\nchange-id x\n\nmsg\n');
  assert.equal(signature?.toString(), '-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n');
});

test('commit: a duplicated gpgsig header is malformed', () => {
  const raw = Buffer.from('tree t\ngpgsig A\ngpgsig B\n\nmsg\n');
  assert.throws(() => splitCommit(raw), /duplicate gpgsig/);
});

test('tag: the signature is the last line-anchored BEGIN block', () => {
  const raw = Buffer.from('object o\ntype commit\ntag v1\ntagger t <t@x> 1 +0000\n\nmsg -----BEGIN not anchored\n-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n');
  const { payload, signature } = splitTag(raw);
  assert.equal(payload.toString(), 'object o\ntype commit\ntag v1\ntagger t <t@x> 1 +0000\n\nmsg -----BEGIN not anchored\n');
  assert.ok(signature?.toString().startsWith('-----BEGIN SIGNED MESSAGE-----'));
});

test('corpus: payload digest of the v0.17.1 tag matches the spec', { skip: sharedMissing() }, () => {
  const raw = readFileSync(join(CORPUS, 'sigstore__gitsign', 'f6a73d9c2b84ee0b46598600c14007f41fa7a6ac.tag'));
  const { payload } = splitTag(raw);
  const digest = createHash('sha256').update(payload).digest('hex');
  assert.ok(digest.startsWith('c9e362ef') && digest.endsWith('9ad0'), digest);
});

const COMMIT = ['tree t', 'parent p1', 'parent p2', 'author a <a@x> 1 +0000', 'committer c <c@x> 1 +0000', 'encoding ISO-8859-1', 'mergetag object o', ' type commit', 'mergetag object o2', ' type commit'];
const TAG = ['object o', 'type commit', 'tag v1', 'tagger t <t@x> 1 +0000'];

/** The object with header `name` repeated right after its first occurrence (with another value). */
function withDuplicate(headers: string[], name: string, body: string): Buffer {
  const at = headers.findIndex((h) => h.startsWith(`${name} `));
  assert.notEqual(at, -1, name);
  const copy = `${name} ${name === 'committer' || name === 'author' || name === 'tagger' ? 'm <mallory@x> 2 +0000' : 'other'}`;
  return Buffer.from([...headers.slice(0, at + 1), copy, ...headers.slice(at + 1), '', body].join('\n'));
}

const malformed = (name: string) => (err: unknown): boolean =>
  err instanceof GitsignError && err.code === 'MALFORMED_OBJECT' && err.message === `malformed git object: duplicate ${name} header`;

test('finding 2: a commit with a duplicated tree, author, committer or encoding header is malformed', () => {
  for (const name of ['tree', 'author', 'committer', 'encoding']) {
    const raw = withDuplicate(COMMIT, name, 'msg\n');
    assert.throws(() => splitCommit(raw), malformed(name), name);
    assert.throws(() => splitObject('commit', raw), malformed(name), name);
    assert.throws(() => checkPayloadHeaders('commit', raw), malformed(name), name);
    assert.throws(() => signerEmail('commit', raw), malformed(name), name);
  }
});

test('finding 2: a tag with a duplicated object, type, tag or tagger header is malformed', () => {
  for (const name of ['object', 'type', 'tag', 'tagger']) {
    const raw = withDuplicate(TAG, name, 'msg\n-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n');
    assert.throws(() => splitTag(raw), malformed(name), name);
    assert.throws(() => checkPayloadHeaders('tag', raw), malformed(name), name);
    assert.throws(() => signerEmail('tag', raw), malformed(name), name);
  }
});

test('finding 2: repeated parent and mergetag headers, and header-like lines in the message or a continuation, are fine', () => {
  const commit = Buffer.from([...COMMIT, ' committer x <x@x> 1 +0000', '', 'committer m <mallory@x> 2 +0000', 'tree t2', ''].join('\n'));
  assert.equal(splitCommit(commit).payload, commit);
  assert.equal(signerEmail('commit', commit), 'c@x');
  const tag = Buffer.from([...TAG, '', 'tagger m <mallory@x> 2 +0000', ''].join('\n'));
  assert.equal(splitTag(tag).payload, tag);
  assert.equal(signerEmail('tag', tag), 't@x');
  // A commit's headers are not a tag's singletons and the other way round.
  checkPayloadHeaders('commit', Buffer.from('tree t\ntag a\ntag b\nauthor a <a@x> 1 +0000\ncommitter c <c@x> 1 +0000\n\nm\n'));
  checkPayloadHeaders('tag', Buffer.from('object o\ntype commit\ntag v\ntagger t <t@x> 1 +0000\nencoding a\nencoding b\n\nm\n'));
});
