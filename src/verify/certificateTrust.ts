import type { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { verifySCTs } from '@sigstore/verify/dist/key/sct';
import { GitsignError } from '../errors';
import type { Certificate } from '../x509/certificate';
import { verifyChain } from './chain';

/**
 * A Fulcio signing certificate is trusted when it chains to a trusted CA at every attested time, is for
 * code signing, and (unless told otherwise) carries an SCT from a trusted CT log. Returns whether the
 * SCT was checked.
 */
export function verifyCertificateTrust(cert: Certificate, times: Date[], trust: TrustMaterial, ignoreSct: boolean): boolean {
  let path: X509Certificate[] = [];
  for (const t of times) {
    try {
      path = verifyChain(cert, t, trust);
    } catch (err) {
      throw new GitsignError('CERTIFICATE', `certificate is not trusted: ${(err as Error).message} (issuer ${cert.issuerString})`);
    }
  }
  if (!cert.hasCodeSigningEku) throw new GitsignError('CERTIFICATE', 'certificate is not for code signing (no codeSigning extended key usage)');
  if (ignoreSct) return false;
  let scts: Buffer[];
  try {
    scts = verifySCTs(path[0], path[1] ?? path[0], trust.ctlogs);
  } catch (err) {
    throw new GitsignError('SCT', `certificate transparency SCT does not verify: ${(err as Error).message}`);
  }
  if (scts.length === 0) throw new GitsignError('SCT', 'certificate has no embedded SCT, so its issuance was never logged (use --insecure-ignore-sct to skip this check)');
  return true;
}
