import { ASN1Obj } from '@sigstore/core';
import { octets, seq } from '../../asn1/writer';

/** A parsed RFC 3161 TimeStampReq; imprint and nonce are kept as received, to be echoed verbatim. */
export interface TimeStampRequest {
  version: bigint;
  hashAlgorithm: string;
  hashedMessage: Buffer;
  messageImprintDer: Buffer;
  reqPolicy?: string;
  nonceDer?: Buffer;
  certReq: boolean;
  hasExtensions: boolean;
}

export const HASH_OIDS: Record<string, number> = {
  '2.16.840.1.101.3.4.2.1': 32, // sha256
  '2.16.840.1.101.3.4.2.2': 48, // sha384
  '2.16.840.1.101.3.4.2.3': 64, // sha512
};

export class MalformedRequest extends Error {}

export function parseTimeStampRequest(der: Buffer): TimeStampRequest {
  let root: ASN1Obj;
  try {
    root = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
  } catch (err) {
    throw new MalformedRequest(`not DER: ${(err as Error).message}`);
  }
  if (root.toDER().length !== der.length || root.tag.number !== 0x10 || !root.tag.constructed) throw new MalformedRequest('not a TimeStampReq');
  const [version, imprint, ...rest] = root.subs;
  if (!version?.tag.isInteger() || !imprint || imprint.subs.length !== 2) throw new MalformedRequest('missing version or messageImprint');
  const alg = imprint.subs[0];
  const hashed = imprint.subs[1];
  if (!alg.subs[0]?.tag.isOID() || !hashed.tag.isOctetString()) throw new MalformedRequest('malformed messageImprint');
  const req: TimeStampRequest = {
    version: version.toInteger(),
    hashAlgorithm: alg.subs[0].toOID(),
    hashedMessage: Buffer.from(hashed.value),
    messageImprintDer: seq(alg.toDER(), octets(Buffer.from(hashed.value))),
    certReq: false,
    hasExtensions: false,
  };
  for (const f of rest) {
    if (f.tag.isOID()) req.reqPolicy = f.toOID();
    else if (f.tag.isInteger()) req.nonceDer = f.toDER();
    else if (f.tag.isBoolean()) req.certReq = f.toBoolean();
    else if (f.tag.isContextSpecific(0)) req.hasExtensions = true;
    else throw new MalformedRequest('unexpected field in TimeStampReq');
  }
  return req;
}
