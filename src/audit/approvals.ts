import type { TrustMaterial } from '@sigstore/verify';
import { storedAttestations, verifyStoredAttestation } from '../attest/verify';
import { toGitsignError } from '../errors';
import type { CatFile } from '../git/catFile';
import { type Signer, signerFromCertificate } from '../policy/identity';

/**
 * Approvals of a commit: attestations `gitsign attest --type APPROVAL_PREDICATE` stored for it on
 * refs/attestations/commits, each verified as `gitsign verify-attestation` does (its log entry found
 * by the envelope's hash, the signature, the certificate's chain and SCT at the logged time, the
 * statement's subject, the stored file). Only the log holds an attestation's certificate, so they
 * cannot be checked offline: that is said, and none counts.
 */
export const APPROVAL_PREDICATE = 'https://gitsign-ts.dev/attestation/approval/v1';

/** Attestations of one commit checked at most. */
const MAX_CHECKED = 64;

export interface Approval {
  signer: Signer;
  /** The log's attested time (a verified SET). */
  time: Date;
}

export interface ApprovalSet {
  approvals: Approval[];
  /** Why some could not count (offline, an attestation that does not verify). */
  notes: string[];
}

export interface ApprovalSource {
  trust: TrustMaterial;
  rekorUrl: string;
  ignoreSct: boolean;
  offline: boolean;
}

export function approvalReader(source: ApprovalSource, catFile: CatFile): (sha: string) => Promise<ApprovalSet> {
  const known = new Map<string, Promise<ApprovalSet>>();
  const read = async (sha: string): Promise<ApprovalSet> => {
    const { found } = await storedAttestations([{ kind: 'commit', sha }], catFile);
    if (found.length === 0) return { approvals: [], notes: [] };
    if (source.offline) return { approvals: [], notes: [`${found.length} attestation(s) of this commit not checked (--offline: their certificates are only in the log)`] };
    const approvals: Approval[] = [];
    const notes: string[] = [];
    // Each is a search in the log: a commit with more attestations than any review needs costs no more.
    if (found.length > MAX_CHECKED) notes.push(`only ${MAX_CHECKED} of the ${found.length} attestations of this commit were checked`);
    const ctx = { trust: source.trust, rekorUrl: source.rekorUrl, ignoreSct: source.ignoreSct, ignoreTlog: false, identity: { kind: 'none' as const }, predicateType: APPROVAL_PREDICATE };
    for (const a of found.slice(0, MAX_CHECKED)) {
      const outcome = await verifyStoredAttestation(a, ctx);
      if (!outcome) continue; // another predicate type: not an approval
      if ('ok' in outcome) approvals.push({ signer: signerFromCertificate(outcome.ok.certificate), time: outcome.ok.signingTime });
      else notes.push(`approval ${a.name} does not count: ${outcome.error.code}: ${outcome.error.message}`);
    }
    return { approvals, notes };
  };
  return (sha) => {
    let p = known.get(sha);
    if (!p) {
      p = read(sha).catch((err: unknown) => ({ approvals: [], notes: [`approvals could not be read: ${toGitsignError(err).message}`] }));
      known.set(sha, p);
    }
    return p;
  };
}
