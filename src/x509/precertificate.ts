import { Der } from '../asn1/reader';
import { explicit, seq } from '../asn1/writer';
import { EXT } from './extensions';

/**
 * The TBSCertificate a CT log signed for an embedded SCT (RFC 6962 3.2 PreCert.tbs_certificate): the
 * final certificate's TBS with the SCT list extension taken out. The certificate was parsed as strict
 * DER, so every kept element is copied as received and only the three enclosing lengths are re-encoded.
 * With no extension left the [3] field goes too, as Go's encoder drops an empty optional field.
 */
export function precertificateTbs(tbs: Buffer): Buffer {
  const fields = Der.parse(tbs, 'certificate', { code: 'MALFORMED_CERTIFICATE', der: true }).items(16, 'tbsCertificate');
  const last = fields[fields.length - 1];
  if (!last?.isContext(3)) return tbs;
  const kept = last.child(0, 'extensions').items(16, 'extensions').filter((e) => e.child(0, 'extension OID').oid !== EXT.sctList);
  const head = fields.slice(0, -1).map((f) => f.raw);
  return kept.length ? seq(...head, explicit(3, seq(...kept.map((e) => e.raw)))) : seq(...head);
}
