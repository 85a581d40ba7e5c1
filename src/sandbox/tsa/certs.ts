import type { KeyObject } from 'node:crypto';
import { ext, name, OIDS, randomSerial, signTbs, spkiOf, tbsCertificate } from '../x509/build';
import { CA_ORGANIZATION } from '../fulcio/ca';

/** The timestamp authority's own root and its signing certificate (EKU timeStamping, critical). */
const LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

export function createTsaRoot(rootKey: KeyObject, rootPub: KeyObject, now: Date): Buffer {
  const spki = spkiOf(rootPub);
  const subject = name(CA_ORGANIZATION, 'sandbox-tsa-root');
  const tbs = tbsCertificate({
    serial: randomSerial(),
    issuer: subject,
    subject,
    notBefore: now,
    notAfter: new Date(now.getTime() + LIFETIME_MS),
    spki,
    extensions: [ext.keyUsage([5, 6]), ext.basicConstraints(true, 0), ext.subjectKeyId(spki)],
    hash: 'sha384',
  });
  return signTbs(tbs, 'sha384', rootKey);
}

export function createTsaLeaf(rootKey: KeyObject, rootPub: KeyObject, leafPub: KeyObject, now: Date): Buffer {
  const spki = spkiOf(leafPub);
  const tbs = tbsCertificate({
    serial: randomSerial(),
    issuer: name(CA_ORGANIZATION, 'sandbox-tsa-root'),
    subject: name(CA_ORGANIZATION, 'sandbox-tsa'),
    notBefore: now,
    notAfter: new Date(now.getTime() + LIFETIME_MS),
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
