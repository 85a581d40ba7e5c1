import { GitsignError } from '../errors';
import { type Certificate, FULCIO_OID } from '../x509/certificate';
import { goPattern } from './pattern';

/**
 * Who must have signed, as cosign's certificate flags define it. With no identity given at all, we
 * require what a reader of `git log` assumes: a certificate email equal to the committer's (tagger's).
 */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
  githubWorkflowTrigger?: string;
  githubWorkflowSha?: string;
  githubWorkflowName?: string;
  githubWorkflowRepository?: string;
  githubWorkflowRef?: string;
}

export type IdentityCheck =
  | { kind: 'policy'; policy: IdentityPolicy }
  /** role: whose email it is, the commit's committer or the tag's tagger (committer when not said). */
  | { kind: 'committer'; email: string | null; role?: 'committer' | 'tagger'; issuer?: string; issuerRegexp?: string }
  | { kind: 'none' };

const IDENTITY_REGEXP = '--certificate-identity-regexp';
const ISSUER_REGEXP = '--certificate-oidc-issuer-regexp';

/** An empty value counts as not given, as in cosign (`--certificate-identity-regexp "$UNSET"` must not match everything). */
function given(policy: IdentityPolicy): IdentityPolicy {
  return Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined && v !== '')) as IdentityPolicy;
}

/** Validates the flags up front (before any object is read): an invalid Go pattern is a usage error. */
export function identityCheckFrom(flags: IdentityPolicy): IdentityCheck | { kind: 'committer-pending'; issuer?: string; issuerRegexp?: string } {
  const policy = given(flags);
  const hasIdentity = policy.identity !== undefined || policy.identityRegexp !== undefined;
  const hasIssuer = policy.issuer !== undefined || policy.issuerRegexp !== undefined;
  if (policy.identityRegexp !== undefined) goPattern(policy.identityRegexp, IDENTITY_REGEXP);
  if (policy.issuerRegexp !== undefined) goPattern(policy.issuerRegexp, ISSUER_REGEXP);
  if (!hasIdentity) return { kind: 'committer-pending', issuer: policy.issuer, issuerRegexp: policy.issuerRegexp };
  if (!hasIssuer) {
    throw new GitsignError('USAGE', '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode');
  }
  return { kind: 'policy', policy };
}

function checkIssuer(cert: Certificate, issuer: string | undefined, issuerRegexp: string | undefined): void {
  const actual = cert.oidcIssuer ?? '';
  if (issuer !== undefined && actual !== issuer) {
    throw new GitsignError('IDENTITY', `certificate issuer "${actual}" does not equal the expected "${issuer}"`);
  }
  if (issuerRegexp !== undefined && !goPattern(issuerRegexp, ISSUER_REGEXP).matches(actual)) {
    throw new GitsignError('IDENTITY', `certificate issuer "${actual}" does not match /${issuerRegexp}/`);
  }
}

const GITHUB_CHECKS: [keyof IdentityPolicy, string, string][] = [
  ['githubWorkflowTrigger', FULCIO_OID.githubWorkflowTrigger, 'workflow trigger'],
  ['githubWorkflowSha', FULCIO_OID.githubWorkflowSha, 'workflow SHA'],
  ['githubWorkflowName', FULCIO_OID.githubWorkflowName, 'workflow name'],
  ['githubWorkflowRepository', FULCIO_OID.githubWorkflowRepository, 'workflow repository'],
  ['githubWorkflowRef', FULCIO_OID.githubWorkflowRef, 'workflow ref'],
];

export function checkIdentity(cert: Certificate, check: IdentityCheck): void {
  if (check.kind === 'none') return;
  const sans = cert.subjectAlternativeNames;
  if (check.kind === 'committer') {
    if (!check.email) throw new GitsignError('IDENTITY', 'the object has no committer/tagger email to match the certificate against');
    const want = check.email.toLowerCase();
    if (!cert.emails.some((e) => e.toLowerCase() === want)) {
      throw new GitsignError('IDENTITY', `certificate identity [${sans.join(' ')}] does not match the ${check.role ?? 'committer'} email ${check.email} (give --certificate-identity to check another identity)`);
    }
    checkIssuer(cert, check.issuer, check.issuerRegexp);
    return;
  }
  const p = check.policy;
  if (p.identity !== undefined && !sans.includes(p.identity)) {
    throw new GitsignError('IDENTITY', `certificate identity [${sans.join(' ')}] does not include the expected "${p.identity}"`);
  }
  if (p.identityRegexp !== undefined) {
    const re = goPattern(p.identityRegexp, IDENTITY_REGEXP);
    if (!sans.some((s) => re.matches(s))) {
      throw new GitsignError('IDENTITY', `certificate identity [${sans.join(' ')}] does not match /${p.identityRegexp}/`);
    }
  }
  checkIssuer(cert, p.issuer, p.issuerRegexp);
  for (const [field, oid, label] of GITHUB_CHECKS) {
    const want = p[field];
    if (want === undefined) continue;
    const actual = cert.fulcioString(oid);
    if (actual !== want) throw new GitsignError('IDENTITY', `certificate GitHub ${label} "${actual ?? ''}" does not equal the expected "${want}"`);
  }
}
