import type { Signer } from '../policy/identity';
import type { Policy } from '../policy/policy';

/**
 * What the audit engine works with and what it reports. A commit is judged from facts gathered once
 * (its parents, the paths it changes against its first parent, its verified signature) and from the
 * policy state its parents leave; the judgment of one commit is a function of those alone.
 */
export type Status = 'ok' | 'endorsed' | 'violation' | 'unsigned' | 'revoked' | 'error';

export const STATUSES: readonly Status[] = ['ok', 'endorsed', 'violation', 'unsigned', 'revoked', 'error'];

/** The statuses that make an audit fail. */
export const FAILING: ReadonlySet<Status> = new Set(['violation', 'unsigned', 'revoked', 'error']);

/** Which format signed: gitsign's (CMS with a Fulcio certificate), an SSH key's (SSHSIG) or an OpenPGP key's. */
export type SignatureKind = 'sigstore' | 'ssh' | 'openpgp';

/**
 * Where a signature's time comes from: a verified Rekor SET or RFC 3161 timestamp (attested); none
 * (a Sigstore signature checked with --insecure-ignore-tlog); or the object or signature itself
 * (SSH, OpenPGP: claimed by the signer, so it proves nothing about when the signature was made).
 */
export type TimeSource = 'tlog' | 'tsa' | 'unattested' | 'claimed';

/** A signature as checked by `gitsign verify` (its trust options), or by src/audit/formats, reduced to what a policy needs. */
export type SignatureFacts =
  | {
      state: 'verified';
      /** Absent: sigstore. */
      kind?: SignatureKind;
      signer: Signer;
      /** Attested time (Rekor SET or RFC 3161); the certificate's notBefore when --insecure-ignore-tlog left none; the claimed time (SSH, OpenPGP). */
      time: Date;
      timeSource: TimeSource;
      /** The log index of its entry: orders two signatures the log saw in the same second. */
      logIndex: number | null;
      /** What the verify options left unchecked for this object. */
      notChecked: string[];
      /** SHA-1 of the verified certificate (gitsign signatures): where the signer's claims are read again. */
      certificateFingerprint?: string;
    }
  | { state: 'unsigned' }
  | { state: 'error'; code: string; message: string; identities: string[]; issuer: string | null; kind?: SignatureKind };

type Verified = Extract<SignatureFacts, { state: 'verified' }>;

/** Whether a log or a timestamp authority attests the signature's time (never the signer's own claim). */
export function isAttested(sig: Pick<Verified, 'timeSource'>): boolean {
  return sig.timeSource === 'tlog' || sig.timeSource === 'tsa';
}

/** The kind of a signature's facts (null: not signed). */
export function kindOf(sig: SignatureFacts): SignatureKind | null {
  return sig.state === 'unsigned' ? null : (sig.kind ?? 'sigstore');
}

/** One policy as adopted: at the trust root, by an authorized commit, or given with --policy. */
export interface PolicyVersion {
  policy: Policy;
  /** Where it comes from: a commit ID, `trust root REV`, or the --policy file's name. */
  origin: string;
  /** The `.gitsign` tree it was adopted with (a commit whose `.gitsign` is this tree changes nothing); null for --policy. */
  gitsignTree: string | null;
  /** The policy file's bytes as read: what `audit --html` shows and diffs between versions. */
  source: Buffer;
}

/**
 * The policy in force after a commit: normally one version; several (of one serial) when parents
 * brought different policies of the same serial, each of which must then authorize what follows.
 */
export interface PolicyState {
  serial: number;
  versions: PolicyVersion[];
}

export interface Verdict {
  status: Status;
  /** A stable code: AUTHORIZED, ALLOWED, ENDORSED, NOT_SIGNED, REVOKED, PATH_DENIED, ... or the verifier's error code. */
  reason: string;
  message: string;
  /** The rule (or policy section) that decided, as `rules[2] (line 14)`. */
  rule: string | null;
  /** The principals the signer is, in the governing policy. */
  principals: string[];
}

export interface AuditEntry {
  type: 'commit' | 'tag';
  object: string;
  /** The tag's name (tags only). */
  name?: string;
  status: Status;
  reason: string;
  message: string;
  signer: { identities: string[]; issuer: string | null } | null;
  /** sigstore, ssh or openpgp; null when not signed. */
  kind: SignatureKind | null;
  principals: string[];
  attestedTime: string | null;
  /** The time an SSH or OpenPGP signature claims (never attested). */
  claimedTime?: string;
  timeSource: string | null;
  policySerial: number | null;
  /** The origins of the governing policy versions. */
  policies: string[];
  rule: string | null;
  /** The merge whose authorized signer endorsed this failing side-branch commit. */
  endorsedBy?: string;
  /** What the verify options (or --offline, for approvals) left unchecked. */
  notChecked: string[];
}
