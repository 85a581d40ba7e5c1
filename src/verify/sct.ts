import { createHash, verify as cryptoVerify } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { Der } from '../asn1/reader';
import { seq, tlv } from '../asn1/writer';
import { GitsignError } from '../errors';
import type { Certificate } from '../x509/certificate';
import { EXT } from '../x509/extensions';
import { validityEnd } from './time/logKey';

/**
 * The SCTs embedded in a certificate (RFC 6962 3.3), each checked against the trusted CT logs. A log
 * signed the precertificate it was shown: the certificate's TBS without the SCT list extension, with
 * the SHA-256 of the issuer's public key. The TBS is rebuilt from the bytes as received (the parser
 * accepted only DER, so the bytes around the removed extension are exactly a re-encoding's). The SCT
 * list's layout was checked when the certificate was parsed (src/x509/extensions.ts).
 */
type CtLog = TrustMaterial['ctlogs'][number];

/** RFC 5246 HashAlgorithm values a log may sign with (the SHA-2 family; RFC 6962 logs use SHA-256). */
const SCT_HASH: Record<number, string> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' };

interface Sct {
  version: number;
  logId: Buffer;
  /** The 8 timestamp bytes as signed, and the time they give (milliseconds since the epoch, at most Date's maximum: checked at parse). */
  timestamp: Buffer;
  time: Date;
  extensions: Buffer;
  hash: number;
  signature: Buffer;
}

function fail(why: string): GitsignError {
  return new GitsignError('SCT', `certificate transparency SCT does not verify: ${why}`);
}

/** The SCTs of the list (layout already checked: every length fits). */
function readScts(list: Buffer): Sct[] {
  const scts: Sct[] = [];
  for (let pos = 2; pos < list.length; ) {
    const end = pos + 2 + list.readUInt16BE(pos);
    let p = pos + 2;
    const version = list[p++];
    const logId = list.subarray(p, (p += 32));
    const timestamp = list.subarray(p, (p += 8));
    const extEnd = p + 2 + list.readUInt16BE(p);
    const extensions = list.subarray(p + 2, extEnd);
    p = extEnd;
    const hash = list[p];
    p += 2; // hash and signature algorithm (the key decides how the signature is checked)
    const signature = list.subarray(p + 2, end);
    scts.push({ version, logId, timestamp, time: new Date(Number(timestamp.readBigUInt64BE())), extensions, hash, signature });
    pos = end;
  }
  return scts;
}

/** The precertificate TBS a log signed: the TBS with the SCT list extension taken out. */
function precertificateTbs(cert: Certificate): Buffer {
  const fields = Der.parse(cert.tbs, 'certificate', { code: 'MALFORMED_CERTIFICATE', der: true }).children;
  const extField = fields[fields.length - 1];
  const kept = extField.children[0].children.filter((e) => e.children[0].oid !== EXT.sctList).map((e) => e.raw);
  return seq(...fields.slice(0, -1).map((f) => f.raw), tlv(0xa3, seq(...kept)));
}

/** RFC 6962 3.2: the digitally-signed struct of a precertificate SCT. */
function signedData(sct: Sct, issuerKeyHash: Buffer, tbs: Buffer): Buffer {
  const head = Buffer.from([sct.version, 0 /* certificate_timestamp */]);
  const entryType = Buffer.from([0, 1]); // precert_entry
  const tbsLength = Buffer.from([tbs.length >> 16, (tbs.length >> 8) & 0xff, tbs.length & 0xff]);
  const extLength = Buffer.from([sct.extensions.length >> 8, sct.extensions.length & 0xff]);
  return Buffer.concat([head, sct.timestamp, entryType, issuerKeyHash, tbsLength, tbs, extLength, sct.extensions]);
}

function verifiesWith(log: CtLog, hash: string, data: Buffer, signature: Buffer): boolean {
  try {
    return cryptoVerify(hash, data, log.publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * Checks every SCT the certificate embeds against the trusted CT logs valid at its time, with the
 * issuer's SubjectPublicKeyInfo (DER) from the verified chain; returns the log IDs that signed them
 * (none when the certificate carries no SCT list or an empty one). Any SCT that does not verify fails.
 */
export function verifyEmbeddedScts(cert: Certificate, issuerSpki: Buffer, ctlogs: readonly CtLog[]): Buffer[] {
  const list = cert.extensionValue(EXT.sctList);
  if (!list) return [];
  const scts = readScts(Der.parse(list, 'certificate SCT list', { code: 'MALFORMED_CERTIFICATE', der: true }).content);
  if (scts.length === 0) return [];
  const issuerKeyHash = createHash('sha256').update(issuerSpki).digest();
  const tbs = precertificateTbs(cert);
  return scts.map((sct) => {
    const id = sct.logId.toString('base64');
    const hash = SCT_HASH[sct.hash];
    if (!hash) throw fail(`the SCT of log ${id} is signed with hash algorithm ${sct.hash}, not SHA-256, SHA-384 or SHA-512`);
    const logs = ctlogs.filter((log) => log.logID.equals(sct.logId));
    if (logs.length === 0) throw fail(`the SCT's log (ID ${id}) is not a trusted CT log`);
    const current = logs.filter((log) => log.validFor.start <= sct.time && sct.time <= log.validFor.end);
    if (current.length === 0) {
      const periods = logs.map((log) => `${log.validFor.start.toISOString()} to ${validityEnd(log.validFor.end)}`).join(', ');
      throw fail(`the SCT's time ${sct.time.toISOString()} is outside its CT log's validity in the trusted root (${periods})`);
    }
    const data = signedData(sct, issuerKeyHash, tbs);
    if (!current.some((log) => verifiesWith(log, hash, data, sct.signature))) throw fail(`the SCT's signature does not verify with the key of CT log ${id}`);
    return sct.logId;
  });
}
