import type { TimestampAuthority } from '../tsa/authority';
import type { TimeStampRequest } from '../tsa/request';
import { delegate } from './delegate';
import type { FaultKind } from './kinds';

/**
 * The TSA's fault: tsa-other-digest signs a token whose message imprint is the complement of the
 * digest sent (same algorithm and length), so the token is well formed, signed, and about something else.
 */
function otherDigest(req: TimeStampRequest): TimeStampRequest {
  const other = Buffer.from(req.hashedMessage.map((b) => b ^ 0xff));
  // The imprint's DER ends with the OCTET STRING's contents: the digest itself.
  const der = req.messageImprintDer;
  return { ...req, hashedMessage: other, messageImprintDer: Buffer.concat([der.subarray(0, der.length - other.length), other]) };
}

export function faultyTimestampAuthority(tsa: TimestampAuthority, kinds: Set<FaultKind>): TimestampAuthority {
  if (!kinds.has('tsa-other-digest')) return tsa;
  return delegate(tsa, { timestamp: (req, now) => tsa.timestamp(otherDigest(req), now) });
}
