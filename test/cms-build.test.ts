/**
 * Our CMS encoder against real gitsign signatures: rebuilding each corpus signature from its parts
 * (certificate, signing time, payload, signature value, unsigned attributes) must give back the very
 * same bytes. That pins every field, its order and its encoding to what the Go gitsign writes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSignedData, signedAttributes } from '../src/cms/build';
import { OID } from '../src/cms/oids';
import { decodePem, encodePem } from '../src/cms/pem';
import { parseSignedData, requiredAttribute } from '../src/cms/signedData';
import { splitObject } from '../src/git/rawobj';
import { CORPUS, sharedMissing } from './helpers/paths';

function corpusRows(): { file: string; kind: 'commit' | 'tag'; certs: number }[] {
  const lines = readFileSync(join(CORPUS, 'INDEX.tsv'), 'utf8').trim().split('\n');
  const head = lines[0].split('\t');
  return lines
    .slice(1)
    .map((l) => Object.fromEntries(l.split('\t').map((v, i) => [head[i], v])) as Record<string, string>)
    .filter((r) => r.file.startsWith('sigstore__'))
    .map((r) => ({ file: r.file, kind: r.kind as 'commit' | 'tag', certs: Number(r.n_certs_in_cms) }));
}

test('every single-certificate corpus signature is rebuilt byte for byte', { skip: sharedMissing() }, () => {
  let rebuilt = 0;
  let attrsRebuilt = 0;
  const rows = corpusRows().filter((r) => r.certs === 1);
  for (const row of rows) {
    const raw = readFileSync(join(CORPUS, row.file));
    const { payload, signature } = splitObject(row.kind, raw);
    const pem = decodePem(signature!);
    const sd = parseSignedData(pem.der);
    const si = sd.signers[0];
    const signingTime = requiredAttribute(si.signedAttrs, OID.signingTime, 'signingTime').time;
    if (signedAttributes(payload, signingTime).equals(si.signedAttrsDer)) attrsRebuilt++;
    const der = buildSignedData({
      certDer: sd.certificates[0],
      signedAttrs: si.signedAttrsDer,
      signature: si.signature,
      unsignedAttrs: si.unsignedAttrs.map((a) => ({ oid: a.oid, values: a.values.map((v) => v.raw) })),
    });
    if (der.equals(pem.der)) rebuilt++;
    else assert.fail(`${row.file}: rebuilt signature differs`);
    // And the PEM armour is Go's: 64 columns, no headers, trailing newline.
    assert.equal(encodePem('SIGNED MESSAGE', der), signature!.toString('latin1'), `${row.file}: PEM differs`);
  }
  assert.equal(rebuilt, rows.length);
  assert.equal(attrsRebuilt, rows.length, 'signed attributes rebuilt from payload and signing time');
  assert.ok(rows.length > 1600, `only ${rows.length} rows`);
});
