import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { splitCommit, splitTag } from '../src/git/rawobj';
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
