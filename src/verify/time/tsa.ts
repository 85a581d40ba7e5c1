import { createPublicKey, type KeyObject } from 'node:crypto';
import { RFC3161Timestamp } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { RFC3161TimestampVerificationError } from '@sigstore/core/dist/rfc3161/error';
import { VerificationError } from '@sigstore/verify/dist/error';
import { int, seq } from '../../asn1/writer';
import { GitsignError, withReason } from '../../errors';
import { signatureMismatch, type TokenLayout, timestampLayout } from '../../tsa/token';
import { validityEnd } from './logKey';

/**
 * RFC 3161 timestamps over a signature value, checked against the trusted timestamp authorities; each
 * returns the attested time. The checks are @sigstore/verify's (imprint, an authority matching the
 * signer, its validity period including both ends, its chain at that time, the signature), done one by
 * one so a failure says which: its getTSATimestamp reports all of them as "could not be verified".
 */
type Authority = TrustMaterial['timestampAuthorities'][number];

function fail(why: string): GitsignError {
  return new GitsignError('TIMESTAMP', `RFC 3161 timestamp does not verify: ${why}`);
}

/**
 * A whole TimeStampResp, as a Sigstore bundle carries it. Its layout is checked first (src/tsa/token.ts),
 * so the library's positional getters used below find what they read.
 */
export interface ParsedTimestamp {
  ts: RFC3161Timestamp;
  layout: TokenLayout;
}

export function parseTimestampResponse(der: Buffer): ParsedTimestamp {
  const layout = timestampLayout(der);
  if (typeof layout === 'string') throw fail(`malformed timestamp: ${layout}`);
  try {
    const ts = RFC3161Timestamp.parse(der as Buffer<ArrayBuffer>);
    // The parser is lazy: reach into every part the checks read now, so garbage fails here.
    void [ts.status, ts.signingTime, ts.signerIssuer, ts.signerSerialNumber, ts.tstInfo.messageImprintHashedMessage, ts.tstInfo.raw];
    if (Number.isNaN(ts.signingTime.getTime())) throw new Error('no time');
    return { ts, layout };
  } catch {
    throw fail('malformed timestamp: its time or signer cannot be read');
  }
}


/**
 * @sigstore/verify's chain verifier, loaded when a timestamp is checked: its module loads the
 * library's trust helpers and protobuf-specs, which git's calls otherwise never need.
 */
function chainVerifier(): typeof import('@sigstore/verify/dist/key/certificate').CertificateChainVerifier {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@sigstore/verify/dist/key/certificate') as typeof import('@sigstore/verify/dist/key/certificate')).CertificateChainVerifier;
}

function checkAuthority({ ts, layout }: ParsedTimestamp, ca: Authority, signature: Buffer): string | null {
  const time = ts.signingTime;
  const [leaf, ...chain] = ca.certChain;
  const CertificateChainVerifier = chainVerifier();
  try {
    new CertificateChainVerifier({ untrustedCert: leaf, trustedCerts: chain, timestamp: time }).verify();
  } catch (err) {
    return withReason(`the timestamp authority's certificate chain is not valid at ${time.toISOString()}`, err, VerificationError);
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' });
  } catch {
    return "the timestamp authority's key in the trusted root is unusable";
  }
  const mismatch = signatureMismatch(layout, key);
  if (mismatch) return mismatch;
  try {
    ts.verify(signature, key);
    return null;
  } catch (err) {
    return withReason("its signature does not verify with the timestamp authority's key", err, RFC3161TimestampVerificationError);
  }
}

export function verifyTimestamp(parsed: ParsedTimestamp, signature: Buffer, trust: TrustMaterial): Date {
  const { ts } = parsed;
  try {
    ts.tstInfo.verify(signature);
  } catch {
    // (the imprint's algorithm is one of the three SHA-2 hashes: the layout check made sure)
    throw fail('it is not over this signature (its message imprint differs)');
  }
  const time = ts.signingTime;
  const issuers = trust.timestampAuthorities.filter(
    (ca) => ca.certChain.length > 0 && ca.certChain[0].serialNumber.equals(ts.signerSerialNumber) && ca.certChain[0].issuer.equals(ts.signerIssuer),
  );
  if (issuers.length === 0) throw fail(`it was not issued by a trusted timestamp authority (signer serial ${ts.signerSerialNumber.toString('hex')})`);
  const current = issuers.filter((ca) => ca.validFor.start <= time && time <= ca.validFor.end);
  if (current.length === 0) {
    const periods = issuers.map((ca) => `${ca.validFor.start.toISOString()} to ${validityEnd(ca.validFor.end)}`).join(', ');
    throw fail(`its time ${time.toISOString()} is outside its timestamp authority's validity in the trusted root (${periods})`);
  }
  let reason = '';
  for (const ca of current) {
    const problem = checkAuthority(parsed, ca, signature);
    if (problem === null) return time;
    reason ||= problem;
  }
  throw fail(reason);
}

/** The TimeStampToken of a CMS unsigned attribute (gitsign signatures). */
export function verifyTimestampToken(token: Buffer, signature: Buffer, trust: TrustMaterial): Date {
  // @sigstore/core parses a whole TimeStampResp: wrap the token in one with status "granted".
  return verifyTimestamp(parseTimestampResponse(seq(seq(int(0n)), token)), signature, trust);
}
