import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { splitObject } from '../src/git/rawobj';
import { readOpenPgpKeys, verifyOpenPgp } from '../src/openpgp/index';
import { ROOT } from './helpers/paths';

/**
 * GitHub's web-flow key on real commits of sigstore/gitsign (test/fixtures/github-web-flow.txt
 * says where the certificate came from): the squash and merge commits GitHub signs.
 */
const FIXTURES = join(ROOT, 'test', 'fixtures');
const CURRENT = '968479a1aff927e37d1a566bb5690eeebb952194';
const RETIRED = '5de3e0509c47ea3cf04a42d34aee18f83afdeb23';
/** Each fixture commit and the web-flow key that signed it. */
const SIGNED_BY: Record<string, string> = {
  '034927d0ea301bd64ae1dad562da164faf979ed1': CURRENT,
  '978a886d8758c7fdf65c76fa811b6e66b40d9fa5': CURRENT,
  c4e39fb68aa037a2a787718a3477094d6aef76e0: RETIRED,
  e22902c16a9d73b5206b564b14712d316a7a42bb: RETIRED,
};

function commit(id: string): Buffer {
  const raw = readFileSync(join(FIXTURES, 'web-flow', `${id}.commit`));
  // The file is the object git stores: its name is its hash.
  assert.equal(createHash('sha1').update(`commit ${raw.length}\0`).update(raw).digest('hex'), id);
  return raw;
}

const webFlow = () => readOpenPgpKeys([readFileSync(join(FIXTURES, 'github-web-flow.asc'), 'utf8')]);

test('the web-flow certificate file holds GitHub\'s two web-flow keys', async () => {
  const { keys } = await webFlow();
  assert.deepEqual(keys.map((k) => k.fingerprint), [RETIRED, CURRENT]);
  assert.deepEqual(keys.map((k) => k.keyIds), [['4aee18f83afdeb23'], ['b5690eeebb952194']]);
  assert.deepEqual(keys.map((k) => k.userIds), [['GitHub (web-flow commit signing) <noreply@github.com>'], ['GitHub <noreply@github.com>']]);
  assert.deepEqual(readdirSync(join(FIXTURES, 'web-flow')).sort(), Object.keys(SIGNED_BY).map((id) => `${id}.commit`).sort());
});

test('real web-flow commits verify with GitHub\'s key, the retired key\'s too (made before it expired); changed, they do not', async () => {
  const keyring = await webFlow();
  for (const [id, key] of Object.entries(SIGNED_BY)) {
    const { payload, signature } = splitObject('commit', commit(id));
    const r = await verifyOpenPgp(signature!, payload, keyring);
    assert.equal(r.state, 'verified', `${id}: ${JSON.stringify(r)}`);
    assert.ok(r.state === 'verified');
    assert.equal(r.fingerprint, key, id);
    assert.equal(r.signingKey, key, id);
    if (key === RETIRED) assert.ok(r.claimedTime < new Date('2024-01-16T20:00:00Z'), id);
    const changed = Buffer.from(payload);
    changed[changed.length - 2] ^= 0x20;
    const tampered = await verifyOpenPgp(signature!, changed, keyring);
    assert.deepEqual(tampered.state === 'bad' && tampered.code, 'OPENPGP_BAD_SIGNATURE', id);
  }
});

test('a web-flow commit checked against the other web-flow key alone names its signer as unknown', async () => {
  const { keys } = await webFlow();
  const onlyCurrent = { keys: keys.filter((k) => k.fingerprint === CURRENT) };
  const { payload, signature } = splitObject('commit', commit('c4e39fb68aa037a2a787718a3477094d6aef76e0'));
  const r = await verifyOpenPgp(signature!, payload, onlyCurrent);
  assert.equal(r.state, 'unknown-key');
  assert.ok(r.state === 'unknown-key');
  assert.equal(r.keyId, '4aee18f83afdeb23');
  assert.equal(r.claimedTime?.toISOString(), '2024-01-15T08:08:28.000Z');
});
