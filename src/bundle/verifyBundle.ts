import type { KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import { verifyCertificateTrust } from '../verify/certificateTrust';
import { checkIdentity, type IdentityCheck } from '../verify/identity';
import { type VerifiedEntry, verifyLogEntry } from '../verify/logEntry';
import { type AttestedTime, attestedTimes, requireAttestedTimes } from '../verify/time/attested';
import { parseTimestampResponse, verifyTimestamp } from '../verify/time/tsa';
import type { Artifact } from './artifact';
import { bundleContent } from './content';
import type { ParsedBundle } from './parse';
import { type BundleSigner, bundleSigner } from './signer';

/**
 * Verifies a Sigstore bundle over an artifact with the same pieces as a commit signature, in an order
 * that names the first real problem: who signed, that the signature is over this artifact, the RFC 3161
 * timestamps, the transparency log entries, that some time is attested, then the certificate at each
 * attested time (chain, SCT) and its identity. Every failure is a GitsignError.
 */
export type BundlePolicy = { key: KeyObject } | { identity: IdentityCheck };

export interface VerifiedBundle {
  signer: BundleSigner;
  entries: VerifiedEntry[];
  /** The attested times: verified SET times, then RFC 3161 times. */
  times: AttestedTime[];
}

export function verifyBundle({ bundle, tlogEntries }: ParsedBundle, artifact: Artifact, policy: BundlePolicy, trust: TrustMaterial): VerifiedBundle {
  const signer = bundleSigner(bundle, 'key' in policy ? policy.key : undefined);
  const content = bundleContent(bundle, artifact, signer.logged);
  if (!content.verifySignature(signer.key)) {
    throw new GitsignError('SIGNATURE_INVALID', `the signature does not verify with ${signer.certificate ? "the signing certificate's key" : 'the given public key'}`);
  }
  const material = bundle.verificationMaterial;
  const tsaTimes = (material?.timestampVerificationData?.rfc3161Timestamps ?? []).map((t) =>
    verifyTimestamp(parseTimestampResponse(t.signedTimestamp), content.signature, trust),
  );
  if (tlogEntries.length === 0) throw new GitsignError('TLOG_MISSING', 'the bundle has no transparency log entry');
  const entries = tlogEntries.map((e) => verifyLogEntry(e, content, trust, tsaTimes));
  const times = requireAttestedTimes(attestedTimes(entries, tsaTimes));
  if (signer.certificate && 'identity' in policy) {
    verifyCertificateTrust(signer.certificate, times.map((t) => t.time), trust, false);
    checkIdentity(signer.certificate, policy.identity);
  }
  return { signer, entries, times };
}
