import type { GitsignError } from '../errors';
import type { TrustRootInfo } from '../trust/rootInfo';
import type { IdentityCheck } from '../verify/identity';
import type { JsonReport } from '../verify/jsonReport';
import type { VerifiedSignature } from '../verify/signature';
import type { Certificate } from '../x509/certificate';

/**
 * What the verifying commands report about one signature: gitsign's human summary, the short block
 * git shows under `git log --show-signature`, and the --json object (the same fields for commits, tags,
 * attestations and bundles).
 */

export type { JsonReport };

/** The summary line that names the signer (shown in colour on a terminal). */
export const GOOD_SIGNATURE = 'gitsign: Good signature from ';

/** gitsign's human summary (PrintSummary), plus our notes on what was not checked. */
export function summaryLines(v: VerifiedSignature, claims: { validated: boolean; note?: string }): string[] {
  const c = v.certificate;
  const lines: string[] = [];
  if (v.tlog.logIndex !== undefined) lines.push(`tlog index: ${v.tlog.logIndex}`);
  lines.push(`gitsign: Signature made using certificate ID 0x${c.fingerprint} | ${c.issuerString}`);
  lines.push(`${GOOD_SIGNATURE}[${c.subjectAlternativeNames.join(' ')}](${c.oidcIssuerV1})`);
  lines.push('Validated Git signature: true');
  lines.push(`Validated Rekor entry: ${v.tlog.source !== 'none'}`);
  lines.push(`Validated Certificate claims: ${claims.validated}`);
  if (claims.note) lines.push(`gitsign: ${claims.note}`);
  for (const w of insecureWarnings(v)) lines.push(`WARNING: ${w}`);
  return lines;
}

/** "2023-06-05 16:11:20 UTC": a signing time for people. */
function readableTime(t: Date): string {
  return t.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** Who vouches for the signing time, and when it was. */
function attestedBy(v: VerifiedSignature): string {
  const index = v.tlog.logIndex !== undefined ? `log index ${v.tlog.logIndex}` : undefined;
  switch (v.timeSource) {
    case 'tlog':
      return `logged in Rekor at ${readableTime(v.signingTime)}${index ? ` (${index})` : ''}`;
    case 'tsa':
      return `timestamped at ${readableTime(v.signingTime)} by a trusted timestamp authority${index ? ` (Rekor ${index})` : ''}`;
    case 'unattested':
      return `no attested signing time (the certificate was checked at its notBefore ${readableTime(v.signingTime)})`;
  }
}

/**
 * What git shows for a good signature (`git verify-commit`, `git log --show-signature`): one line as
 * short as git's own for SSH ("Good "git" signature for WHO with KEY"), naming who signed, the issuer
 * that vouched for them, when, and what attests it; then the Go gitsign's warning that the identity
 * was not checked. The certificate's fingerprint is git's %GK (and in `--raw`).
 */
export function gitSummaryLines(v: VerifiedSignature): string[] {
  const c = v.certificate;
  return [
    `${GOOD_SIGNATURE}${c.subjectAlternativeNames.join(', ')} (${c.oidcIssuer ?? 'no OIDC issuer'}), ${attestedBy(v)}`,
    ...insecureWarnings(v).map((w) => `WARNING: ${w}`),
    'WARNING: git verify-commit does not verify cert claims. Prefer using `gitsign verify` instead.',
  ];
}

/** A verified signature as reported: a bundle signed with a managed key has no certificate. */
export type Reported = Omit<VerifiedSignature, 'certificate'> & { certificate?: Certificate };

/** What an --insecure-* flag left unchecked: said in every output, human and --json. */
export function insecureWarnings(v: Reported): string[] {
  const warnings: string[] = [];
  if (v.tlog.source === 'none') warnings.push('the transparency log was not checked (--insecure-ignore-tlog)');
  if (v.certificate && !v.sctChecked) warnings.push("the certificate's SCT was not checked (--insecure-ignore-sct)");
  if (v.timeSource === 'unattested') {
    warnings.push(`no log entry or timestamp attests the signing time; the certificate was checked at its notBefore ${v.signingTime.toISOString()} (--insecure-ignore-tlog)`);
  }
  return warnings;
}

/** The identity check in words: the flags, or the committer's (tagger's) email. */
export function describeIdentityCheck(identity: IdentityCheck): string {
  switch (identity.kind) {
    case 'policy':
      return 'certificate flags';
    case 'committer': {
      const role = identity.role ?? 'committer';
      return identity.email ? `certificate email equals ${role} email ${identity.email}` : `${role} email`;
    }
    case 'none':
      return 'none';
  }
}

/** The note under a verified summary when no identity flag was given. */
export function identityNote(identity: IdentityCheck): string | undefined {
  return identity.kind === 'committer' ? `identity checked: ${describeIdentityCheck(identity)} (no --certificate-identity given)` : undefined;
}

/**
 * Whether the identity check ran for this outcome: it is the last check of a signature, so it ran when
 * the signature verified or failed on its identity (an attestation says so itself: its subject and
 * stored file are checked after it).
 */
export function identityCheckRan(outcome: { ok: unknown } | { error: GitsignError; identityChecked?: boolean }): boolean {
  return 'ok' in outcome || outcome.error.code === 'IDENTITY' || outcome.identityChecked === true;
}


export function jsonReport(
  object: string,
  type: string,
  identity: IdentityCheck | null,
  outcome: { ok: Reported } | { error: GitsignError; certificate?: Certificate },
  trustRoot: TrustRootInfo | null = null,
): JsonReport {
  const cert = 'ok' in outcome ? outcome.ok.certificate : outcome.certificate;
  const v = 'ok' in outcome ? outcome.ok : undefined;
  return {
    object,
    type,
    verified: 'ok' in outcome,
    identities: cert ? cert.subjectAlternativeNames : [],
    issuer: cert?.oidcIssuer ?? null,
    certificateFingerprint: cert?.fingerprint ?? null,
    signingTime: v ? v.signingTime.toISOString() : null,
    timeSource: v?.timeSource ?? null,
    cmsSigningTime: v?.cmsSigningTime?.toISOString() ?? null,
    tlog: {
      source: v?.tlog.source ?? 'none',
      kind: v?.tlog.kind ?? null,
      logIndex: v?.tlog.logIndex !== undefined ? Number(v.tlog.logIndex) : null,
      integratedTime: v?.tlog.integratedTime ?? null,
    },
    sctChecked: v?.sctChecked ?? false,
    ...(identity ? { identityCheck: describeIdentityCheck(identity) } : {}),
    warnings: v ? insecureWarnings(v) : [],
    trustRoot,
    ...('error' in outcome ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
  };
}
