import type { GitsignError } from '../errors';
import type { TrustRootInfo } from '../trust/rootInfo';
import type { Certificate } from '../x509/certificate';
import type { VerifiedSignature } from './signature';

/** gitsign's human summary (PrintSummary), plus our notes on what was not checked. */
export function summaryLines(v: VerifiedSignature, claims: { validated: boolean; note?: string }): string[] {
  const c = v.certificate;
  const lines: string[] = [];
  if (v.tlog.logIndex !== undefined) lines.push(`tlog index: ${v.tlog.logIndex}`);
  lines.push(`gitsign: Signature made using certificate ID 0x${c.fingerprint} | ${c.issuerString}`);
  lines.push(`gitsign: Good signature from [${c.subjectAlternativeNames.join(' ')}](${c.oidcIssuerV1})`);
  lines.push('Validated Git signature: true');
  lines.push(`Validated Rekor entry: ${v.tlog.source !== 'none'}`);
  lines.push(`Validated Certificate claims: ${claims.validated}`);
  if (claims.note) lines.push(`gitsign: ${claims.note}`);
  for (const w of insecureWarnings(v)) lines.push(`WARNING: ${w}`);
  return lines;
}

/** What an --insecure-* flag left unchecked: said in every output, human and --json. */
export function insecureWarnings(v: VerifiedSignature): string[] {
  const warnings: string[] = [];
  if (v.tlog.source === 'none') warnings.push('the transparency log was not checked (--insecure-ignore-tlog)');
  if (!v.sctChecked) warnings.push("the certificate's SCT was not checked (--insecure-ignore-sct)");
  if (v.timeSource === 'unattested') {
    warnings.push(`no log entry or timestamp attests the signing time; the certificate was checked at its notBefore ${v.signingTime.toISOString()} (--insecure-ignore-tlog)`);
  }
  return warnings;
}

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
  tlog: { source: 'embedded' | 'online' | 'none'; kind: string | null; logIndex: number | null; integratedTime: number | null };
  sctChecked: boolean;
  identityCheck: string;
  /** Checks an --insecure-* flag skipped for this object (empty when none was). */
  warnings: string[];
  /** The trusted root checked against: its source and how old it is (null when not known to the caller). */
  trustRoot: TrustRootInfo | null;
  error?: { code: string; message: string };
}

export function jsonReport(
  object: string,
  type: string,
  identityCheck: string,
  outcome: { ok: VerifiedSignature } | { error: GitsignError; certificate?: Certificate },
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
    identityCheck,
    warnings: v ? insecureWarnings(v) : [],
    trustRoot,
    ...('error' in outcome ? { error: { code: outcome.error.code, message: outcome.error.message } } : {}),
  };
}
