import { createPublicKey } from 'node:crypto';
import { RFC3161Timestamp } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { CertificateChainVerifier } from '@sigstore/verify/dist/key/certificate';
import { int, seq } from '../../asn1/writer';
import { GitsignError } from '../../errors';

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

/** A whole TimeStampResp, as a Sigstore bundle carries it. */
export function parseTimestampResponse(der: Buffer): RFC3161Timestamp {
  try {
    const ts = RFC3161Timestamp.parse(der as Buffer<ArrayBuffer>);
    void ts.signingTime; // the parser is lazy: reach into the token now, so garbage fails here
    return ts;
  } catch (err) {
    throw fail(`malformed timestamp (${(err as Error).message})`);
  }
}

const iso = (d: Date): string => (d.getTime() >= 8.64e15 ? 'no end' : d.toISOString());

function checkAuthority(ts: RFC3161Timestamp, ca: Authority, signature: Buffer): string | null {
  const time = ts.signingTime;
  const [leaf, ...chain] = ca.certChain;
  try {
    new CertificateChainVerifier({ untrustedCert: leaf, trustedCerts: chain, timestamp: time }).verify();
  } catch (err) {
    return `the timestamp authority's certificate chain is not valid at ${time.toISOString()} (${(err as Error).message})`;
  }
  try {
    ts.verify(signature, createPublicKey({ key: leaf.publicKey, format: 'der', type: 'spki' }));
    return null;
  } catch (err) {
    return `its signature does not verify with the timestamp authority's key (${(err as Error).message})`;
  }
}

export function verifyTimestamp(ts: RFC3161Timestamp, signature: Buffer, trust: TrustMaterial): Date {
  try {
    ts.tstInfo.verify(signature);
  } catch {
    throw fail('it is not over this signature (its message imprint differs)');
  }
  const time = ts.signingTime;
  const issuers = trust.timestampAuthorities.filter(
    (ca) => ca.certChain.length > 0 && ca.certChain[0].serialNumber.equals(ts.signerSerialNumber) && ca.certChain[0].issuer.equals(ts.signerIssuer),
  );
  if (issuers.length === 0) throw fail(`it was not issued by a trusted timestamp authority (signer serial ${ts.signerSerialNumber.toString('hex')})`);
  const current = issuers.filter((ca) => ca.validFor.start <= time && time <= ca.validFor.end);
  if (current.length === 0) {
    const periods = issuers.map((ca) => `${ca.validFor.start.toISOString()} to ${iso(ca.validFor.end)}`).join(', ');
    throw fail(`its time ${time.toISOString()} is outside its timestamp authority's validity in the trusted root (${periods})`);
  }
  let reason = '';
  for (const ca of current) {
    const problem = checkAuthority(ts, ca, signature);
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
