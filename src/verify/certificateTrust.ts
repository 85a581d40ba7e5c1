import type { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import type { Certificate } from '../x509/certificate';
import { checkLeaf, verifyChain } from './chain';
import { type Sct, verifyCertificateScts } from './sct';

/**
 * A Fulcio signing certificate is trusted when it chains to a trusted CA at every attested time, is for
 * digital signatures and code signing with no critical extension we do not understand, and (unless
 * told otherwise) carries an SCT from a trusted CT log, or has the detached one given (--sct).
 * Returns whether the SCT was checked.
 */
export function verifyCertificateTrust(cert: Certificate, times: Date[], trust: TrustMaterial, ignoreSct: boolean, detachedSct?: Sct): boolean {
  // Never "trusted" without a time to check the chain at (callers pass at least one).
  if (times.length === 0) throw new GitsignError('UNATTESTED_TIME', 'no attested time to check the certificate chain at');
  let path: X509Certificate[] = [];
  for (const t of times) {
    try {
      path = verifyChain(cert, t, trust);
    } catch (err) {
      if (err instanceof GitsignError && err.code !== 'CERTIFICATE') throw err;
      throw new GitsignError('CERTIFICATE', `certificate is not trusted: ${(err as Error).message} (issuer ${cert.issuerString})`);
    }
  }
  checkLeaf(cert);
  if (ignoreSct) return false;
  verifyCertificateScts(cert, path[1].publicKey, trust.ctlogs, detachedSct);
  return true;
}
