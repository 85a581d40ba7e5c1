import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import type { Certificate } from '../x509/certificate';
import { checkLeaf, type VerifiedChain, verifyChain } from './chain';
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
  let chain: VerifiedChain | undefined;
  for (const t of times) {
    try {
      chain = verifyChain(cert, t, trust);
    } catch (err) {
      if (err instanceof GitsignError && err.code !== 'CERTIFICATE') throw err;
      throw new GitsignError('CERTIFICATE', `certificate is not trusted: ${(err as Error).message} (issuer ${cert.issuerString})`);
    }
  }
  checkLeaf(cert);
  if (ignoreSct || !chain) return false;
  verifyCertificateScts(cert, chain.issuerSpki, trust.ctlogs, detachedSct);
  return true;
}
