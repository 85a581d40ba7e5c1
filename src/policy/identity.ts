import type { Certificate } from '../x509/certificate';
import { CLAIMS } from './claims';
import { matchesPatternList } from '../ssh/allowedSigners';
import type { IdentitySpec, KeySpec, Policy, Revocation } from './policy';

/**
 * Who signed, as a policy sees it: the verified certificate's SANs, its OIDC issuer (extension 1.8,
 * else 1.1, as `gitsign verify` reads it) and its Fulcio claims. The claims are read only when an
 * identity pins one, so most signatures never need their certificate parsed again.
 */
export interface Signer {
  identities: readonly string[];
  issuer: string;
  claim(name: string): string | undefined;
  /** An SSH or OpenPGP signer: its key (absent for a Sigstore certificate). */
  key?: SignerKey;
}

export interface SignerKey {
  kind: 'ssh' | 'openpgp';
  /** SHA256:... (SSH), or the primary key's uppercase hex fingerprint (OpenPGP). */
  fingerprint: string;
  /** The SSH signature's namespace. */
  namespace?: string;
  /** The time the object or signature claims, which nothing attests. */
  claimedTime: Date | null;
  /** SSH: the public key as an authorized_keys line would start (type and base64), for `policy init`. */
  publicKey?: string;
}

/**
 * A key identity matches a signature by that key (same kind and fingerprint) within its
 * allowed_signers options: a namespace it lists; a claimed time at or after valid-after; never when
 * it has valid-before, since a claimed time cannot prove a signature was made before it.
 */
function keyMatches(spec: KeySpec, key: SignerKey): boolean {
  if (spec.kind !== key.kind || spec.fingerprint !== key.fingerprint) return false;
  if (spec.kind !== 'ssh') return true;
  if (spec.namespaces !== null && !matchesPatternList(key.namespace ?? '', spec.namespaces)) return false;
  if (spec.validBefore !== null) return false;
  return spec.validAfter === null || (key.claimedTime !== null && key.claimedTime.getTime() >= spec.validAfter.getTime());
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

/** A key: see keyMatches. Else issuer exact; subject equal to a SAN, or subjectPattern matching a whole SAN; every pinned claim equal. */
export function identityMatches(spec: IdentitySpec, signer: Signer): boolean {
  if (spec.key || signer.key) return spec.key !== undefined && signer.key !== undefined && keyMatches(spec.key, signer.key);
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
