import { createHash, sign, type KeyObject } from 'node:crypto';
import { octets } from '../../asn1/writer';
import { OIDS, spkiOf, type Extension } from '../x509/build';

/**
 * The sandbox's certificate transparency log: it signs RFC 6962 v1 SCTs for precertificates. The
 * signed data covers the TBSCertificate without the SCT list (the precertificate TBS, poison removed),
 * which is what verifiers rebuild from the final certificate.
 */
export class CtLog {
  readonly logId: Buffer;

  constructor(private readonly key: KeyObject, readonly publicKey: KeyObject) {
    this.logId = createHash('sha256').update(spkiOf(publicKey)).digest();
  }

  /** A serialized SignedCertificateTimestamp (RFC 6962 section 3.2) for a precertificate. */
  sign(precertTbs: Buffer, issuerSpki: Buffer, timestampMs: number): Buffer {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(timestampMs));
    const len24 = Buffer.alloc(3);
    len24.writeUIntBE(precertTbs.length, 0, 3);
    const signed = Buffer.concat([
      Buffer.from([0, 0]), // sct_version v1, signature_type certificate_timestamp
      ts,
      Buffer.from([0, 1]), // entry_type precert_entry
      createHash('sha256').update(issuerSpki).digest(), // issuer_key_hash
      len24,
      precertTbs,
      Buffer.from([0, 0]), // no extensions
    ]);
    const sig = sign('sha256', signed, this.key);
    const sigLen = Buffer.alloc(2);
    sigLen.writeUInt16BE(sig.length);
    return Buffer.concat([
      Buffer.from([0]), // version v1
      this.logId,
      ts,
      Buffer.from([0, 0]), // extensions length
      Buffer.from([4, 3]), // sha256, ecdsa
      sigLen,
      sig,
    ]);
  }
}

/** The embedded SCT list extension: a DER OCTET STRING around the TLS-encoded list. */
export function sctListExtension(scts: Buffer[]): Extension {
  const items = scts.map((s) => {
    const l = Buffer.alloc(2);
    l.writeUInt16BE(s.length);
    return Buffer.concat([l, s]);
  });
  const body = Buffer.concat(items);
  const total = Buffer.alloc(2);
  total.writeUInt16BE(body.length);
  return { oid: OIDS.sctList, critical: false, value: octets(Buffer.concat([total, body])) };
}
