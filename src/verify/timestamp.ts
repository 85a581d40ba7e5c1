import { RFC3161Timestamp } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { getTSATimestamp } from '@sigstore/verify/dist/timestamp';
import { int, seq } from '../asn1/writer';
import { GitsignError } from '../errors';

/**
 * An RFC 3161 TimeStampToken over a signature value, checked against the trusted timestamp
 * authorities; returns the attested time.
 */
export function verifyTimestampToken(token: Buffer, signature: Buffer, trust: TrustMaterial): Date {
  try {
    // The CMS attribute holds a TimeStampToken; @sigstore/core parses a whole TimeStampResp around it.
    const ts = RFC3161Timestamp.parse(seq(seq(int(0n)), token) as Buffer<ArrayBuffer>);
    return getTSATimestamp(ts, signature, trust.timestampAuthorities).timestamp;
  } catch (err) {
    throw new GitsignError('TIMESTAMP', `RFC 3161 timestamp does not verify: ${(err as Error).message}`);
  }
}
