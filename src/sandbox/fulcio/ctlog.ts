import { createHash, sign, type KeyObject } from 'node:crypto';
import { octets } from '../../asn1/writer';
import { OIDS, spkiOf, type Extension } from '../x509/build';

/**
 * The sandbox's certificate transparency log: it signs RFC 6962 v1 SCTs. For a precertificate the signed
 * data covers the TBSCertificate without the SCT list (the precertificate TBS, poison removed), which is
 * what verifiers rebuild from the final certificate; for a certificate (a CA that cannot embed SCTs) it
 * covers the whole certificate, and Fulcio hands the SCT out detached.
 */
export interface AddChainResponse {
  sct_version: 0;
  /** base64, as Go's encoding/json writes []byte. */
  id: string;
  timestamp: number;
  extensions: string;
  signature: string;
}

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);

export class CtLog {
  readonly logId: Buffer;

  constructor(private readonly key: KeyObject, readonly publicKey: KeyObject) {
    this.logId = createHash('sha256').update(spkiOf(publicKey)).digest();
  }

  /** The log's DigitallySigned (sha256, ecdsa) over an entry (entry_type and signed_entry), at `ts`. */
  private signEntry(entry: Buffer, ts: Buffer): Buffer {
    const signed = Buffer.concat([
      Buffer.from([0, 0]), // sct_version v1, signature_type certificate_timestamp
      ts,
      entry,
      u16(0), // no extensions
    ]);
    const sig = sign('sha256', signed, this.key);
    return Buffer.concat([Buffer.from([4, 3]), u16(sig.length), sig]);
  }

  /** A serialized SignedCertificateTimestamp (RFC 6962 section 3.2) for a precertificate. */
  sign(precertTbs: Buffer, issuerSpki: Buffer, timestampMs: number): Buffer {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(timestampMs));
    const issuerKeyHash = createHash('sha256').update(issuerSpki).digest();
    const digitallySigned = this.signEntry(Buffer.concat([u16(1), issuerKeyHash, u24(precertTbs.length), precertTbs]), ts); // precert_entry
    return Buffer.concat([Buffer.from([0]), this.logId, ts, u16(0), digitallySigned]);
  }

  /** The add-chain answer (RFC 6962 4.1) for a final certificate: the SCT Fulcio returns detached. */
  signCertificate(certDer: Buffer, timestampMs: number): AddChainResponse {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(timestampMs));
    const digitallySigned = this.signEntry(Buffer.concat([u16(0), u24(certDer.length), certDer]), ts); // x509_entry
    return { sct_version: 0, id: this.logId.toString('base64'), timestamp: timestampMs, extensions: '', signature: digitallySigned.toString('base64') };
  }
}

/** The embedded SCT list extension: a DER OCTET STRING around the TLS-encoded list. */
export function sctListExtension(scts: Buffer[]): Extension {
  const body = Buffer.concat(scts.map((s) => Buffer.concat([u16(s.length), s])));
  return { oid: OIDS.sctList, critical: false, value: octets(Buffer.concat([u16(body.length), body])) };
}
