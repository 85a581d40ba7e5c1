import { createHash, sign, type KeyObject } from 'node:crypto';
import { ASN1Obj } from '@sigstore/core';
import { algorithm, bits, explicit, generalizedTime, implicitConstructed, int, oid, octets, seq, setOf, time, utf8, type DerBytes } from '../../asn1/writer';
import { randomSerial } from '../x509/build';
import { HASH_OIDS, type TimeStampRequest } from './request';

/**
 * RFC 3161 timestamp authority: answers a TimeStampReq with a TimeStampResp whose token is a CMS
 * SignedData over a TSTInfo, signed ecdsa-with-SHA256 with ESS signingCertificateV2.
 */
const OID = {
  signedData: '1.2.840.113549.1.7.2',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
  sha256: '2.16.840.1.101.3.4.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
};
export const TSA_POLICY = '1.3.6.1.4.1.57264.2';

/** PKIFailureInfo bit numbers (RFC 3161 section 2.4.2). */
export const FAILURE = { badAlg: 0, badRequest: 2, badDataFormat: 5, unacceptedPolicy: 15, unacceptedExtension: 16 } as const;

function namedBit(bit: number): DerBytes {
  const bytes = Buffer.alloc(Math.floor(bit / 8) + 1);
  bytes[Math.floor(bit / 8)] = 0x80 >> bit % 8;
  return bits(bytes, 7 - (bit % 8));
}

export function rejection(failureBit: number, text: string): Buffer {
  return seq(seq(int(2), seq(utf8(text)), namedBit(failureBit)));
}

export class TimestampAuthority {
  private readonly issuerDer: Buffer;
  private readonly serialDer: Buffer;

  constructor(
    private readonly key: KeyObject,
    readonly leafDer: Buffer,
    readonly rootDer: Buffer,
  ) {
    const tbs = ASN1Obj.parseBuffer(leafDer as Buffer<ArrayBuffer>).subs[0];
    this.serialDer = tbs.subs[1].toDER();
    this.issuerDer = tbs.subs[3].toDER();
  }

  /** The checks a TSA makes before signing; a rejection response, or undefined when acceptable. */
  check(req: TimeStampRequest): Buffer | undefined {
    if (req.version !== 1n) return rejection(FAILURE.badRequest, 'unsupported TimeStampReq version');
    const size = HASH_OIDS[req.hashAlgorithm];
    if (!size) return rejection(FAILURE.badAlg, 'unsupported hash algorithm');
    if (req.hashedMessage.length !== size) return rejection(FAILURE.badDataFormat, 'hashed message length does not match its algorithm');
    if (req.reqPolicy && req.reqPolicy !== TSA_POLICY) return rejection(FAILURE.unacceptedPolicy, 'unaccepted policy');
    if (req.hasExtensions) return rejection(FAILURE.unacceptedExtension, 'extensions are not supported');
    return undefined;
  }

  timestamp(req: TimeStampRequest, now = new Date()): Buffer {
    const rejected = this.check(req);
    if (rejected) return rejected;
    const genTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const tstInfo = seq(
      int(1),
      oid(TSA_POLICY),
      req.messageImprintDer,
      int(randomSerial()),
      generalizedTime(genTime),
      seq(int(1)), // accuracy: 1 second
      ...(req.nonceDer ? [req.nonceDer] : []),
    );
    const essCertId = seq(
      octets(createHash('sha256').update(this.leafDer).digest()),
      seq(seq(explicit(4, this.issuerDer)), this.serialDer), // issuerSerial { GeneralNames{directoryName}, serial }
    );
    const attrs = [
      seq(oid(OID.contentType), setOf(oid(OID.tstInfo))),
      seq(oid(OID.signingTime), setOf(time(genTime))),
      seq(oid(OID.messageDigest), setOf(octets(createHash('sha256').update(tstInfo).digest()))),
      seq(oid(OID.signingCertificateV2), setOf(seq(seq(essCertId)))),
    ];
    const signedAttrsSet = setOf(...attrs);
    const signature = sign('sha256', signedAttrsSet, this.key);
    const signerInfo = seq(
      int(1),
      seq(this.issuerDer, this.serialDer),
      algorithm(OID.sha256),
      implicitConstructed(0, contentOf(signedAttrsSet)),
      algorithm(OID.ecdsaWithSha256),
      octets(signature),
    );
    const signedData = seq(
      int(3),
      setOf(algorithm(OID.sha256)),
      seq(oid(OID.tstInfo), explicit(0, octets(tstInfo))),
      ...(req.certReq ? [implicitConstructed(0, this.leafDer)] : []),
      setOf(signerInfo),
    );
    const token = seq(oid(OID.signedData), explicit(0, signedData));
    return seq(seq(int(0)), token);
  }
}

/** The contents of a DER element (after tag and length): a SET re-tagged [0] keeps its sorted order. */
function contentOf(der: Buffer): Buffer {
  const first = der[1];
  return der.subarray(first < 0x80 ? 2 : 2 + (first & 0x7f));
}
