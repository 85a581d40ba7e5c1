/**
 * An intoto 0.0.1 log entry (what gitsign attest logs) vouches for one serialized envelope, its
 * payload and its signer; the comparison names the first thing that differs.
 */
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { json } from '@sigstore/core';
import { parseEnvelope, signEnvelope } from '../src/attest/dsse';
import { encodePem } from '../src/cms/pem';
import { parseEntryBody } from '../src/rekor/entryBody';
import type { LogEntry } from '../src/rekor/tlogEntry';
import { checkEntryMatches } from '../src/verify/entryMatch';
import { SignedEnvelope } from '../src/verify/signedContent';

const hex = (d: Buffer): string => createHash('sha256').update(d).digest('hex');

test('intoto 0.0.1: envelope digest, payload digest and signer are compared; the signature is covered by the envelope', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const env = parseEnvelope(signEnvelope('application/vnd.in-toto+json', Buffer.from('{"_type":"x"}'), privateKey));
  const body = {
    apiVersion: '0.0.1',
    kind: 'intoto',
    spec: {
      content: { hash: { algorithm: 'sha256', value: hex(env.raw) }, payloadHash: { algorithm: 'sha256', value: hex(env.payload) } },
      publicKey: Buffer.from(encodePem('PUBLIC KEY', spki)).toString('base64'),
    },
  };
  const entry = { kindVersion: { kind: 'intoto', version: '0.0.1' }, canonicalizedBody: Buffer.from(json.canonicalize(body)) } as LogEntry;
  const logged = parseEntryBody(entry);
  assert.equal(logged.type, 'intoto/0.0.1');
  const content = (raw: Buffer | undefined, payload = env.payload, key = spki): SignedEnvelope =>
    new SignedEnvelope(payload, env.payloadType, env.signatures[0].signature, { publicKey: key }, raw);
  checkEntryMatches(logged, content(env.raw));
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  const cases: [SignedEnvelope, RegExp][] = [
    [content(Buffer.concat([env.raw, Buffer.from(' ')])), /it records another DSSE envelope$/],
    [content(undefined), /logs a whole serialized DSSE envelope, which this signature does not come with/],
    [content(env.raw, Buffer.from('{}')), /it records another DSSE payload/],
    [content(env.raw, env.payload, other), /it names another public key/],
  ];
  for (const [c, re] of cases) assert.throws(() => checkEntryMatches(logged, c), re);
});
