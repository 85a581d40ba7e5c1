import { toGitsignError } from '../errors';
import { principalsOf, revocationOf, type Signer, signerName } from '../policy/identity';
import { parsePolicy } from '../policy/parse';
import { type PathRule, type Policy, POLICY_DIR, POLICY_PATH, type Revocation } from '../policy/policy';
import type { ApprovalSet } from './approvals';
import type { PolicyFiles } from './policyAt';
import { isAttested, type PolicyState, type PolicyVersion, type SignatureFacts, type Verdict } from './types';

/**
 * The judgment of one commit by the policy its parents leave (gitsign-policy(5)): never by its own.
 * Everything it needs comes in as facts and context, so the same function serves the audit, and any
 * later caller (a server hook, git's own verification) that knows a commit's parents' policies.
 */
export interface CommitFacts {
  sha: string;
  parents: string[];
  /** Paths changed against the first parent (every path of a root commit). */
  paths: string[];
  signature: SignatureFacts;
}

export interface JudgeContext {
  /** The ref the history is audited for (rules' `refs` match it); null when unknown. */
  ref: string | null;
  /** repository: policies come from the trust root and the history; file: one policy from outside judges every commit. */
  mode: 'repository' | 'file';
  /** Revocations and re-admissions of every policy version seen (gitsign-policy(5): retroactive). */
  revoked: readonly Revocation[];
  allow: ReadonlyMap<string, string>;
  approvals(sha: string): Promise<ApprovalSet>;
  /** The commit's `.gitsign` tree ID and its policy file's bytes (null when absent). */
  policyFiles(sha: string): Promise<PolicyFiles>;
}

export interface Judgment {
  verdict: Verdict;
  /** The policy in force after this commit, for its children. */
  after: PolicyState;
  /** What could not be checked for it (approvals offline, ...). */
  notes: string[];
}

/**
 * The policy a commit is judged by, from its parents' states: the highest serial governs; versions of
 * that serial that differ all govern (each must authorize). Parents outside the audited range bring
 * the trust root's state (the caller passes it for them).
 */
export function governingState(parents: readonly PolicyState[]): PolicyState {
  // One parent with one version (most commits): that state itself, no copy per commit.
  if (parents.length === 1 && parents[0].versions.length <= 1) return parents[0];
  const serial = Math.max(...parents.map((p) => p.serial));
  const versions = new Map<string, PolicyVersion>();
  for (const p of parents) if (p.serial === serial) for (const v of p.versions) if (!versions.has(v.policy.key)) versions.set(v.policy.key, v);
  return { serial, versions: [...versions.values()] };
}

const POLICY_PREFIX = `${POLICY_DIR}/`;
export const isPolicyPath = (path: string): boolean => path === POLICY_DIR || path.startsWith(POLICY_PREFIX);

export const verdict = (status: Verdict['status'], reason: string, message: string, rule: string | null = null, principals: string[] = []): Verdict => ({ status, reason, message, rule, principals });

/**
 * What the object's signature alone decides, before any rule: re-admitted by `allow`, not signed, not
 * verified, or revoked (at its attested time; a time nobody attests cannot be shown to be before a
 * revocation). Null when the rules decide.
 */
export function signatureVerdict(sha: string, kind: 'commit' | 'tag', sig: SignatureFacts, ctx: Pick<JudgeContext, 'allow' | 'revoked'>): Verdict | null {
  const allowed = ctx.allow.get(sha);
  if (allowed !== undefined) return verdict('ok', 'ALLOWED', `re-admitted by the policy: ${allowed}`, 'allow');
  if (sig.state === 'unsigned') return verdict('unsigned', 'NOT_SIGNED', `the ${kind} is not signed`);
  if (sig.state === 'error') return verdict('error', sig.code, sig.message);
  const revoked = revocationOf(ctx.revoked, sig.signer, isAttested(sig) ? sig.time : null);
  if (!revoked) return null;
  const when = isAttested(sig)
    ? `at ${sig.time.toISOString()}`
    : sig.timeSource === 'claimed'
      ? `at a time it only claims (${sig.time.toISOString()}), which no log or timestamp attests`
      : 'at a time no log or timestamp attests';
  return verdict('revoked', 'REVOKED', `${signerName(sig.signer)} signed ${when}; revoked from ${revoked.after.toISOString()}: ${revoked.reason}`, `revoked (line ${revoked.line})`);
}

/** Rules found per policy, by ref and path: a history's commits change the same paths again and again. */
const decided = new WeakMap<Policy, Map<string, PathRule | null>>();

/** The last rule for this ref whose paths match: it decides the path (gitsign-policy(5)). */
export function decidingRule(policy: Policy, ref: string | null, path: string): PathRule | null {
  let known = decided.get(policy);
  if (!known) decided.set(policy, (known = new Map()));
  // Neither a ref nor a path holds a NUL; the first character tells no ref from any ref.
  const key = `${ref === null ? '-' : `+${ref}`}\0${path}`;
  const hit = known.get(key);
  if (hit !== undefined) return hit;
  let found: PathRule | null = null;
  for (let i = policy.rules.length - 1; i >= 0 && !found; i--) {
    const rule = policy.rules[i];
    if (rule.refs !== null && (ref === null || !rule.refs.some((g) => g.matches(ref)))) continue;
    if (rule.paths.some((g) => g.matches(path))) found = rule;
  }
  known.set(key, found);
  return found;
}

/** A rule with requireAttestedTime refuses a signature whose time is only claimed (or unattested). */
function untimed(rule: PathRule, attested: boolean, principals: string[]): Verdict | null {
  if (!rule.requireAttestedTime || attested) return null;
  return verdict('violation', 'TIME_NOT_ATTESTED', `${rule.label} requires a signature time attested by a log or timestamp; this signature's time is only claimed or unattested`, rule.label, principals);
}

/** The rules' verdict on the non-policy paths (or, for a commit changing none, on the ref). */
function judgePaths(policy: Policy, ref: string | null, paths: string[], principals: string[], who: string, attested: boolean): Verdict {
  const mine = (rule: { signers: ReadonlySet<string> }): boolean => principals.some((p) => rule.signers.has(p));
  if (paths.length === 0) {
    const rule = policy.rules.find((r) => (r.refs === null || (ref !== null && r.refs.some((g) => g.matches(ref)))) && mine(r));
    if (rule) return untimed(rule, attested, principals) ?? verdict('ok', 'AUTHORIZED', 'changes no file', rule.label, principals);
    return verdict('violation', principals.length ? 'NOT_AUTHORIZED' : 'UNKNOWN_SIGNER', `${who} is named by no rule for ${ref ?? 'this ref'}`, null, principals);
  }
  if (principals.length === 0) return verdict('violation', 'UNKNOWN_SIGNER', `${who} is no principal of the policy`, null, principals);
  const decided = new Set<string>();
  for (const path of paths) {
    const rule = decidingRule(policy, ref, path);
    if (!rule) return verdict('violation', 'PATH_UNCOVERED', `no rule for ${ref ?? 'this ref'} covers ${JSON.stringify(path)}`, null, principals);
    if (!mine(rule)) return verdict('violation', 'PATH_DENIED', `${rule.label} does not allow ${principals.join(', ')} to change ${JSON.stringify(path)}`, rule.label, principals);
    const refused = untimed(rule, attested, principals);
    if (refused) return refused;
    decided.add(rule.label);
  }
  return verdict('ok', 'AUTHORIZED', `${paths.length} path${paths.length === 1 ? '' : 's'} allowed`, [...decided].join(', '), principals);
}

/**
 * Distinct principals among the signatures (the signer's and the approvals'), each signature counting
 * for at most one principal of the section: a maximum matching, so one identity that two principals
 * share cannot count twice.
 */
function distinctPrincipals(candidates: string[][]): string[] {
  const owner = new Map<string, number>();
  const tryAssign = (i: number, seen: Set<string>): boolean => {
    for (const p of candidates[i]) {
      if (seen.has(p)) continue;
      seen.add(p);
      const j = owner.get(p);
      if (j === undefined || tryAssign(j, seen)) {
        owner.set(p, i);
        return true;
      }
    }
    return false;
  };
  candidates.forEach((_, i) => tryAssign(i, new Set()));
  return [...owner.keys()];
}

const identityKey = (s: Signer): string => `${s.issuer}\n${s.identities.join('\n')}`;

/** The `policy` section's threshold: the signer plus verified, unrevoked approvals, as distinct principals it names. */
async function judgeThreshold(policy: Policy, sha: string, signer: Signer, ctx: JudgeContext, notes: string[]): Promise<Verdict | null> {
  const section = policy.policy;
  const ofSection = (s: Signer): string[] => principalsOf(policy, s).filter((p) => section.signers.has(p));
  const signers = new Map<string, string[]>([[identityKey(signer), ofSection(signer)]]);
  if (signers.get(identityKey(signer))?.length === 0 || section.threshold > 1) {
    const { approvals, notes: approvalNotes } = await ctx.approvals(sha);
    notes.push(...approvalNotes);
    for (const a of approvals) {
      const revoked = revocationOf(ctx.revoked, a.signer, a.time);
      if (revoked) notes.push(`the approval by ${signerName(a.signer)} does not count: revoked (${revoked.reason})`);
      else if (!signers.has(identityKey(a.signer))) signers.set(identityKey(a.signer), ofSection(a.signer));
    }
  }
  const counted = distinctPrincipals([...signers.values()]);
  if (counted.length >= section.threshold) return null;
  const have = counted.length ? ` (${counted.join(', ')})` : '';
  return verdict('violation', 'POLICY_THRESHOLD', `changing ${POLICY_DIR}/ needs ${section.threshold} distinct principal${section.threshold === 1 ? '' : 's'} of ${section.label} (signer and approvals); found ${counted.length}${have}`, section.label);
}

/** The new policy a policy change brings, checked against the governing state; a Verdict when it is refused. */
function newPolicyOf(c: CommitFacts, governing: PolicyState, files: PolicyFiles): PolicyVersion | Verdict {
  if (!files.policy) return verdict('violation', 'POLICY_DELETED', `${POLICY_PATH} is deleted: a policy cannot be removed, only changed`);
  if (files.unreadable) return verdict('violation', 'POLICY_INVALID', files.unreadable);
  let policy: Policy;
  try {
    policy = parsePolicy(files.policy, `${c.sha}:${POLICY_PATH}`);
  } catch (err) {
    return verdict('violation', 'POLICY_INVALID', toGitsignError(err).message);
  }
  if (policy.serial <= governing.serial) return verdict('violation', 'POLICY_SERIAL', `the new policy's serial ${policy.serial} does not exceed the governing serial ${governing.serial}`);
  return { policy, origin: c.sha, gitsignTree: files.gitsignTree, source: files.policy };
}

/** The verdict when no version of the governing state refuses the paths: the first version's, with the signer's principals in all of them. */
const decidedBy = (decided: Verdict | null, fallback: () => Verdict, principals: Set<string>): Verdict => ({ ...(decided ?? fallback()), principals: [...principals] });

/**
 * The judgment of a commit that changes nothing under .gitsign/ (most commits): no policy file to
 * read and no threshold, so no git read and no await per commit. Null when it changes .gitsign/
 * (judgeCommit then decides). Same verdicts as judgeCommit gives such a commit: it calls this first.
 */
export function judgeOrdinaryCommit(c: CommitFacts, governing: PolicyState, ctx: JudgeContext): Judgment | null {
  const first = signatureVerdict(c.sha, 'commit', c.signature, ctx);
  if (first) return { verdict: first, after: governing, notes: [] };
  if (c.paths.some(isPolicyPath)) return null;
  const sig = c.signature as Extract<SignatureFacts, { state: 'verified' }>;
  return { verdict: rememberedVerdict(governing, sig.signer, isAttested(sig), c.paths, ctx.ref), after: governing, notes: [] };
}

/**
 * The rules' verdict on an ordinary commit, remembered per governing state: once allow and revoked
 * have had their say (signatureVerdict, per commit), it is a function of the state's policies, the
 * ref, the signer's issuer and SANs, whether its time is attested, and the paths; and a history
 * repeats a few of those thousands of times. Not remembered when a claim or a key could decide a
 * principal (a policy that pins claims, a signer by key): those are not part of the key. The verdict
 * is shared by the commits it decides (nothing changes a verdict; reports copy what they show).
 */
const remembered = new WeakMap<PolicyState, Map<string, Verdict>>();
const pinsClaims = new WeakMap<Policy, boolean>();

function claimsMatter(policy: Policy): boolean {
  let pins = pinsClaims.get(policy);
  if (pins === undefined) {
    pins = [...policy.principals.values()].some((ids) => ids.some((id) => id.claims.length > 0));
    pinsClaims.set(policy, pins);
  }
  return pins;
}

/** One text for several, each led by its length: no two different lists (of parts another party chose) give the same text. */
export function exactKey(parts: readonly string[]): string {
  let key = '';
  for (const part of parts) key += `${part.length}:${part}`;
  return key;
}

function rememberedVerdict(governing: PolicyState, signer: Signer, attested: boolean, paths: string[], ref: string | null): Verdict {
  if (signer.key !== undefined || governing.versions.some((v) => claimsMatter(v.policy))) return pathsVerdict(governing, signer, attested, paths, ref);
  let known = remembered.get(governing);
  if (!known) remembered.set(governing, (known = new Map()));
  const key = exactKey([attested ? 'a' : 'u', ref === null ? '' : `r${ref}`, signer.issuer, String(signer.identities.length), ...signer.identities, ...paths]);
  let v = known.get(key);
  if (v === undefined) known.set(key, (v = pathsVerdict(governing, signer, attested, paths, ref)));
  return v;
}

/** Every governing version judges the paths; the first refusal decides, else the first version's verdict. */
function pathsVerdict(governing: PolicyState, signer: Signer, attested: boolean, paths: string[], ref: string | null): Verdict {
  const who = signerName(signer);
  let decided: Verdict | null = null;
  const principals = new Set<string>();
  for (const { policy } of governing.versions) {
    const mine = principalsOf(policy, signer);
    for (const p of mine) principals.add(p);
    const v = judgePaths(policy, ref, paths, mine, who, attested);
    if (v.status !== 'ok') return v;
    decided ??= v;
  }
  return decidedBy(decided, () => noPathsDecided(governing), principals);
}

/** A governing state without versions decides nothing by paths (never in an audit: kept as judgeCommit always said). */
const noPathsDecided = (governing: PolicyState): Verdict => verdict('ok', 'AUTHORIZED', `${POLICY_DIR}/ changed with the threshold met`, governing.versions[0]?.policy.policy.label ?? null);

/** Judges one commit by the governing state; returns its verdict and the state it leaves. */
export async function judgeCommit(c: CommitFacts, governing: PolicyState, ctx: JudgeContext): Promise<Judgment> {
  const ordinary = judgeOrdinaryCommit(c, governing, ctx);
  if (ordinary) return ordinary;
  const notes: string[] = [];
  const unchanged = (v: Verdict): Judgment => ({ verdict: v, after: governing, notes });
  const sig = c.signature as Extract<SignatureFacts, { state: 'verified' }>;
  const who = signerName(sig.signer);

  const policyPaths = c.paths.filter(isPolicyPath);
  const otherPaths = c.paths.filter((p) => !isPolicyPath(p));
  // A change of .gitsign/ that leaves it as a governing version was adopted (a merge bringing it, a revert to it) changes no policy.
  let files: PolicyFiles | null = null;
  if (policyPaths.length && ctx.mode === 'repository') {
    files = await ctx.policyFiles(c.sha);
    const tree = files.gitsignTree;
    if (governing.versions.some((v) => v.gitsignTree !== null && v.gitsignTree === tree)) files = null;
  }
  const policyChange = ctx.mode === 'file' ? policyPaths.length > 0 : files !== null;

  if (files && !files.policy) return unchanged(verdict('violation', 'POLICY_DELETED', `${POLICY_PATH} is deleted: a policy cannot be removed, only changed`));
  let decided: Verdict | null = null;
  const principals = new Set<string>();
  for (const { policy } of governing.versions) {
    const mine = principalsOf(policy, sig.signer);
    mine.forEach((p) => principals.add(p));
    if (policyChange) {
      const refused = await judgeThreshold(policy, c.sha, sig.signer, ctx, notes);
      if (refused) return unchanged({ ...refused, principals: mine });
      // A commit that changes only the policy is decided by the policy section alone.
      if (otherPaths.length === 0) continue;
    }
    const v = judgePaths(policy, ctx.ref, otherPaths, mine, who, isAttested(sig));
    if (v.status !== 'ok') return unchanged(v);
    decided ??= v;
  }
  decided = decidedBy(decided, () => noPathsDecided(governing), principals);
  if (!files) return unchanged(decided);
  // Read only once the change is authorized: a file nobody may write costs no parsing.
  const next = newPolicyOf(c, governing, files);
  if ('status' in next) return unchanged({ ...next, principals: [...principals] });
  return { verdict: { ...decided, message: `${decided.message}; adopts policy serial ${next.policy.serial}` }, after: { serial: next.policy.serial, versions: [next] }, notes };
}
