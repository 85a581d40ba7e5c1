import type { KeyObject } from 'node:crypto';
import { CA_LIFETIME_MS, createRoot, ext, name, OIDS, randomSerial, signTbs, spkiOf, tbsCertificate } from '../x509/build';
import { CA_ORGANIZATION } from '../fulcio/ca';

/** The timestamp authority's own root and its signing certificate (EKU timeStamping, critical). */

export function createTsaRoot(rootKey: KeyObject, rootPub: KeyObject, now: Date): Buffer {
  return createRoot(rootKey, rootPub, CA_ORGANIZATION, 'sandbox-tsa-root', 0, now);
}

export function createTsaLeaf(rootKey: KeyObject, rootPub: KeyObject, leafPub: KeyObject, now: Date): Buffer {
  const spki = spkiOf(leafPub);
  const tbs = tbsCertificate({
    serial: randomSerial(),
    issuer: name(CA_ORGANIZATION, 'sandbox-tsa-root'),
    subject: name(CA_ORGANIZATION, 'sandbox-tsa'),
    notBefore: now,
    notAfter: new Date(now.getTime() + CA_LIFETIME_MS),
    spki,
    extensions: [
      ext.keyUsage([0]),
      ext.extKeyUsage([OIDS.timeStamping], true),
      ext.subjectKeyId(spki),
      ext.authorityKeyId(spkiOf(rootPub)),
    ],
    hash: 'sha384',
  });
  return signTbs(tbs, 'sha384', rootKey);
}
