import { GitsignError, toGitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { principalsOf, revocationOf, signerName } from '../policy/identity';
import type { Policy, PushRule } from '../policy/policy';
import { type ApprovalSource, approvalReader } from './approvals';
import { type AuditOptions, auditFailed, runAudit } from './engine';
import { governingState } from './judge';
import { loadPolicyAt, policyFilesAt } from './policyAt';
import type { PushSigner } from './pushCert';
import { commitOf, type PushPlan } from './pushPlan';
import { entryLine } from './report';
import { branchChecker, judgeTag, tagHeaders } from './tags';
import { FAILING, type PolicyState, type PolicyVersion } from './types';

/**
 * One ref update judged for a server hook: the commits it brings audited by `gitsign audit`'s engine
 * (from the plan's trust root), the annotated tag it pushes judged by the tag rules, and, when the
 * governing policy has a `pushes` section, the push certificate's signer authorized for the ref.
 */
export interface RefJudgment {
  ref: string;
  /** Why it is refused: the failing objects and their reasons (empty: accepted). */
  refusals: string[];
  /** What was checked, for an accepted update. */
  notes: string[];
}

export interface PushContext {
  verifier: AuditOptions['verifier'];
  pathCache?: AuditOptions['pathCache'];
  approvals: ApprovalSource;
  /** The push certificate's verified signer; null: the push was not signed; an error: it does not verify. */
  certificate(): Promise<PushSigner | null>;
  cwd?: string;
}

function lastPushRule(rules: PushRule[], ref: string): PushRule | undefined {
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i].refs.some((g) => g.matches(ref))) return rules[i];
  return undefined;
}

/** Whether the push certificate's signer may push to `ref` under `policy` (null: the policy asks nothing of pushes). */
export async function pushRefusal(policy: Policy, ref: string, ctx: Pick<PushContext, 'certificate'>): Promise<string | null> {
  if (policy.pushes === null) return null;
  const rule = lastPushRule(policy.pushes, ref);
  if (!rule) return `PUSH_UNCOVERED: no pushes rule of the policy covers ${ref}`;
  let cert: PushSigner | null;
  try {
    cert = await ctx.certificate();
  } catch (err) {
    return `PUSH_CERT: the push certificate does not verify: ${toGitsignError(err).message}`;
  }
  if (!cert) return `PUSH_UNSIGNED: ${rule.label} requires a signed push (git push --signed) to ${ref}`;
  const revoked = revocationOf(policy.revoked, cert.signer, cert.time);
  if (revoked) return `PUSH_REVOKED: ${signerName(cert.signer)} is revoked from ${revoked.after.toISOString()}: ${revoked.reason}`;
  const mine = principalsOf(policy, cert.signer);
  if (!mine.some((p) => rule.signers.has(p))) return `PUSH_DENIED: ${rule.label} does not allow ${mine.length ? mine.join(', ') : signerName(cert.signer)} to push to ${ref}`;
  return null;
}

/** The policy state the tag is judged by: the trust root's, or the server's HEAD's when that is newer (a retired signer cannot tag an old commit). */
async function tagState(root: PolicyVersion, rootSha: string, catFile: CatFile, cwd?: string): Promise<PolicyState> {
  const states: PolicyState[] = [{ serial: root.policy.serial, versions: [root] }];
  const head = await commitOf('HEAD', cwd);
  if (head && head !== rootSha) {
    const files = await policyFilesAt(head, catFile, cwd);
    if (files.policy && !files.unreadable) {
      const v = await loadPolicyAt(head, head, catFile, cwd);
      states.push({ serial: v.policy.serial, versions: [v] });
    }
  }
  return governingState(states);
}

async function judgeTagObject(plan: PushPlan, root: PolicyVersion, ctx: PushContext, catFile: CatFile): Promise<string | null> {
  const sha = plan.tagObject as string;
  const obj = await catFile.read(sha);
  if (!obj) throw new GitsignError('GIT', `the tag object ${sha} is missing`);
  const verifier = ctx.verifier(1);
  let facts;
  try {
    facts = await verifier.verify(obj);
  } finally {
    await verifier.close();
  }
  const state = await tagState(root, plan.trustRoot, catFile, ctx.cwd);
  const revoked = state.versions.flatMap((v) => v.policy.revoked);
  const allow = new Map(state.versions.flatMap((v) => [...v.policy.allow]));
  const v = await judgeTag(
    { sha, refName: plan.update.ref, target: plan.target as string, name: tagHeaders(obj.raw).name, signature: facts },
    state,
    {
      ref: plan.update.ref,
      mode: 'repository',
      revoked,
      allow,
      approvals: approvalReader(ctx.approvals, catFile),
      policyFiles: (c) => policyFilesAt(c, catFile, ctx.cwd),
      onBranch: branchChecker(ctx.cwd),
    },
  );
  return FAILING.has(v.status) ? `tag ${plan.update.ref.slice('refs/tags/'.length)}: ${v.status} ${v.reason}: ${v.message}` : null;
}

export async function judgeUpdate(plan: PushPlan, ctx: PushContext): Promise<RefJudgment> {
  const { ref } = plan.update;
  const refusals: string[] = [];
  const notes: string[] = [];
  const catFile = new CatFile(ctx.cwd);
  try {
    const root = await loadPolicyAt(plan.trustRoot, `trust root ${plan.trustRoot}`, catFile, ctx.cwd);
    if (plan.range) {
      const report = await runAudit({ range: plan.range, ref, trustRoot: plan.trustRoot, keepGoing: true, verifier: ctx.verifier, pathCache: ctx.pathCache, approvals: ctx.approvals, cwd: ctx.cwd });
      if (auditFailed(report)) refusals.push(...report.entries.filter((e) => FAILING.has(e.status)).map(entryLine));
      else notes.push(`${report.entries.length} new commit${report.entries.length === 1 ? '' : 's'} authorized (policy serial ${root.policy.serial} at ${plan.trustRoot.slice(0, 12)})`);
    }
    if (plan.tagObject) {
      const refused = await judgeTagObject(plan, root, ctx, catFile);
      if (refused) refusals.push(refused);
    } else if (ref.startsWith('refs/tags/') && plan.target) {
      const name = ref.slice('refs/tags/'.length);
      // A lightweight tag carries no signature: where a tag rule governs the name, only a signed annotated tag may take it.
      if (root.policy.tags.some((t) => t.names.some((g) => g.matches(name)))) refusals.push(`tag ${name}: violation TAG_NOT_ANNOTATED: a tag rule governs ${JSON.stringify(name)}: push a signed annotated tag (git tag -s)`);
    }
    const refusal = await pushRefusal(root.policy, ref, ctx);
    if (refusal) refusals.push(refusal);
    else if (root.policy.pushes !== null) notes.push('push certificate signer authorized');
    return { ref, refusals, notes };
  } catch (err) {
    return { ref, notes, refusals: [`could not judge the update: ${toGitsignError(err).message}`] };
  } finally {
    catFile.close();
  }
}
