import { decodePem } from '../cms/pem';
import { parseSignedData } from '../cms/signedData';
import { createHash } from 'node:crypto';
import type { RawObject } from '../git/catFile';
import { type ObjectType, splitObject } from '../git/rawobj';
import { type Signer, signerFromCertificate } from '../policy/identity';
import type { JsonReport } from '../verify/jsonReport';
import { Certificate } from '../x509/certificate';
import type { SignatureFacts } from './types';

/**
 * A `gitsign verify --json` report of an object (from its worker pool or in-process) as the facts a
 * policy judges. The report has the signer's SANs, issuer and time; a pinned claim needs the
 * certificate itself, which is found again in the signature by the fingerprint the verifier reported
 * (so it is the certificate that verified, whichever signer info it came from) and parsed only then.
 */

/** Failures that say nothing about the object: the check could not be made here and now. */
const INFRASTRUCTURE = new Set(['VERIFIER_FAILED', 'NETWORK', 'SERVICE', 'INTERNAL', 'GIT', 'TRUST_ROOT', 'OUTPUT']);

export function isInfrastructureFailure(code: string): boolean {
  return INFRASTRUCTURE.has(code);
}

/** The verified certificate, from the object's own signature, by fingerprint. */
function certificateOf(signature: Buffer | null, fingerprint: string): Certificate | undefined {
  if (!signature) return undefined;
  try {
    for (const der of parseSignedData(decodePem(signature).der).certificates) {
      if (createHash('sha1').update(der).digest('hex') === fingerprint) return new Certificate(der);
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The signer of a verified object: its SANs and issuer as reported, its claims read from its own
 * certificate when first asked for (the object itself too, when it was not read: see lazyObjects.ts).
 */
export function objectSigner(identities: readonly string[], issuer: string, fingerprint: string, object: () => RawObject | null): Signer {
  let cert: Certificate | undefined | null = null;
  return {
    identities,
    issuer,
    claim: (name) => {
      if (cert === null) {
        const obj = object();
        cert = obj ? certificateOf(signatureOf(obj), fingerprint) : undefined;
      }
      return cert ? signerFromCertificate(cert).claim(name) : undefined;
    },
  };
}

function signatureOf(obj: RawObject): Buffer | null {
  try {
    const split = splitObject(obj.type as ObjectType, obj.raw).signature;
    return split ? Buffer.from(split) : null;
  } catch {
    return null;
  }
}

export function factsFromReport(report: JsonReport, obj: RawObject): SignatureFacts {
  if (report.verified && report.signingTime) {
    const fingerprint = report.certificateFingerprint ?? '';
    return {
      state: 'verified',
      signer: objectSigner(report.identities, report.issuer ?? '', fingerprint, () => obj),
      time: new Date(report.signingTime),
      timeSource: report.timeSource === 'tlog' || report.timeSource === 'tsa' ? report.timeSource : 'unattested',
      logIndex: report.tlog.source !== 'none' ? report.tlog.logIndex : null,
      notChecked: report.warnings,
      certificateFingerprint: fingerprint,
    };
  }
  const code = report.error?.code ?? 'VERIFIER_FAILED';
  if (code === 'NOT_SIGNED') return { state: 'unsigned' };
  return { state: 'error', code, message: report.error?.message ?? 'not verified', identities: report.identities, issuer: report.issuer };
}
