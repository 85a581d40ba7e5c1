import type { Certificate } from '../x509/certificate';
import { CLAIMS } from './claims';
import type { IdentitySpec, Policy, Revocation } from './policy';

/**
 * Who signed, as a policy sees it: the verified certificate's SANs, its OIDC issuer (extension 1.8,
 * else 1.1, as `gitsign verify` reads it) and its Fulcio claims. The claims are read only when an
 * identity pins one, so most signatures never need their certificate parsed again.
 */
export interface Signer {
  identities: readonly string[];
  issuer: string;
  claim(name: string): string | undefined;
}

export function signerFromCertificate(cert: Certificate): Signer {
  return {
    identities: cert.subjectAlternativeNames,
    issuer: cert.oidcIssuer ?? '',
    claim: (name) => {
      const c = CLAIMS[name];
      return c ? cert.fulcioString(c.oid, c.der) : undefined;
    },
  };
}

/** issuer exact; subject equal to a SAN, or subjectPattern matching a whole SAN; every pinned claim equal. */
export function identityMatches(spec: IdentitySpec, signer: Signer): boolean {
  if (signer.issuer !== spec.issuer) return false;
  if (spec.subject !== undefined && !signer.identities.includes(spec.subject)) return false;
  const pattern = spec.subjectPattern;
  if (pattern && !signer.identities.some((s) => pattern.matches(s))) return false;
  return spec.claims.every(([name, value]) => signer.claim(name) === value);
}

/** The principals (by name, in the policy's order) one of whose identities the signer is. */
export function principalsOf(policy: Policy, signer: Signer): string[] {
  const out: string[] = [];
  for (const [name, ids] of policy.principals) if (ids.some((id) => identityMatches(id, signer))) out.push(name);
  return out;
}

/**
 * The revocation that refuses a signature made at `time` (null: a time nobody attests, which no
 * revocation can be shown not to cover), or undefined when none does.
 */
export function revocationOf(revoked: readonly Revocation[], signer: Signer, time: Date | null): Revocation | undefined {
  return revoked.find((r) => identityMatches(r, signer) && (time === null || time.getTime() >= r.after.getTime()));
}

/** A short name for a signer in reports: its first SAN. */
export function signerName(signer: Signer): string {
  return signer.identities[0] ?? '(no identity)';
}
