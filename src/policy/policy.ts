import type { GoPattern } from '../verify/pattern';
import type { Glob } from './glob';

/**
 * A repository signing policy, version 1, as read from `.gitsign/policy.yaml` (gitsign-policy(5)).
 * Names are resolved when it is read: every rule holds the principals it allows, never a group name.
 */
export const POLICY_PATH = '.gitsign/policy.yaml';
/** The directory whose every change is a policy change (decided by the `policy` section, not by rules). */
export const POLICY_DIR = '.gitsign';
export const POLICY_VERSION = 1;

/** One identity of a principal (or a revoked one): the certificate's issuer, a SAN, and pinned claims; or a key. */
export interface IdentitySpec {
  /** The OIDC issuer (Sigstore identities); empty for a key. */
  issuer: string;
  /** Exactly one of subject (a SAN, exact) and subjectPattern (RE2, whole string). */
  subject?: string;
  subjectPattern?: GoPattern;
  /** Claim name (see claims.ts) and the exact value the certificate must hold. */
  claims: [string, string][];
  line: number;
  /** An SSH or OpenPGP key instead of a Sigstore identity (then issuer is empty and no subject is set). */
  key?: KeySpec;
}

/**
 * A signer known by its key (gitsign-policy(5), `ssh:` and `openpgp:`): matched by fingerprint. Such
 * signatures carry only the time they claim, which never proves a signature was made in a window.
 */
export type KeySpec =
  | {
      kind: 'ssh';
      /** SHA256:... as OpenSSH prints it. */
      fingerprint: string;
      /** From the allowed_signers line: namespace patterns (null: any), its validity window, its principals (shown only). */
      namespaces: string[] | null;
      validAfter: Date | null;
      validBefore: Date | null;
      principals: string[];
    }
  | {
      kind: 'openpgp';
      /** The primary key's fingerprint, uppercase hex (40 digits, or 64 for a v6 key). */
      fingerprint: string;
      /** The armored certificate that verifies its signatures (null: another principal or policy version carries it). */
      certificate: string | null;
    };

export interface Revocation extends IdentitySpec {
  /** Signatures whose attested time is at or after this are refused. */
  after: Date;
  reason: string;
}

export interface PathRule {
  /** How a report names it: `rules[2] (line 14)`. */
  label: string;
  /** Ref name globs; null: every ref. */
  refs: Glob[] | null;
  paths: Glob[];
  /** Principal names (groups expanded). */
  signers: ReadonlySet<string>;
  /** Only a signature whose time a log or timestamp attests may change these paths (SSH and OpenPGP only claim theirs). */
  requireAttestedTime: boolean;
}

export interface TagRule {
  label: string;
  names: Glob[];
  signers: ReadonlySet<string>;
  /** The full ref (refs/heads/...) the tagged commit must be on, or null. */
  branch: string | null;
}

export interface PolicySection {
  label: string;
  signers: ReadonlySet<string>;
  threshold: number;
}

export type MergeMode = 'endorse' | 'strict';

/** Who may push to refs: the server hook requires a push certificate signed by one of them. */
export interface PushRule {
  label: string;
  refs: Glob[];
  signers: ReadonlySet<string>;
}

export interface Policy {
  version: number;
  serial: number;
  principals: ReadonlyMap<string, IdentitySpec[]>;
  rules: PathRule[];
  tags: TagRule[];
  policy: PolicySection;
  revoked: Revocation[];
  /** Commit ID (lowercase hex) re-admitted, with its note. */
  allow: ReadonlyMap<string, string>;
  merges: MergeMode;
  /** Push rules; null (no `pushes` section): pushes need no certificate. */
  pushes: PushRule[] | null;
  /** The policy as canonical JSON: two policies are the same when their keys are equal. */
  key: string;
}
