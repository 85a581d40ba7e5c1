import type { TrustRootInfo } from '../trust/rootInfo';

/** One verified object as `--json` prints it: the same fields for commits, tags, attestations and bundles (and what audit reads back). */
export interface JsonReport {
  object: string;
  type: string;
  verified: boolean;
  identities: string[];
  issuer: string | null;
  certificateFingerprint: string | null;
  signingTime: string | null;
  timeSource: string | null;
  /** The signingTime attribute: the signer's own clock, not attested (shown, never trusted). */
  cmsSigningTime: string | null;
  /** kind: "<kind>/<version>" of the entry, as the human output names it. */
  tlog: { source: 'embedded' | 'online' | 'none'; kind: string | null; logIndex: number | null; integratedTime: number | null };
  sctChecked: boolean;
  /** Present only when the identity check ran (the signature verified, or failed on its identity). */
  identityCheck?: string;
  /** Checks an --insecure-* flag skipped for this object (empty when none was). */
  warnings: string[];
  /** The trusted root checked against: its source and how old it is (null when not known to the caller). */
  trustRoot: TrustRootInfo | null;
  error?: { code: string; message: string };
}
