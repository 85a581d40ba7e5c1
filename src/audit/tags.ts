import { git, runGit } from '../git/run';
import { principalsOf, signerName } from '../policy/identity';
import type { TagRule } from '../policy/policy';
import { type JudgeContext, signatureVerdict, verdict } from './judge';
import type { PolicyState, SignatureFacts, Verdict } from './types';

/**
 * Annotated tags of the audited history, and their judgment: the tag's signer must be a principal
 * that the last tag rule matching the tag's name allows, and the tagged commit must be on the branch
 * the rule names. The name judged is the one the tag object carries (what was signed); a ref that
 * shows it under another name is refused.
 */
export interface TagRef {
  /** The tag object. */
  sha: string;
  refName: string;
  /** The commit it tags. */
  target: string;
}

export interface TagFacts extends TagRef {
  /** The `tag` header of the object (null when it has none). */
  name: string | null;
  signature: SignatureFacts;
}

/** Every annotated tag (refs/tags/*) of a commit: asked of git before the history is known (the audit filters them). */
export async function annotatedTags(cwd?: string): Promise<TagRef[]> {
  const out = await git(['for-each-ref', '--format=%(objectname) %(objecttype) %(*objectname) %(*objecttype) %(refname)', 'refs/tags'], { cwd });
  const tags: TagRef[] = [];
  for (const line of out.toString('utf8').split('\n')) {
    const [sha, type, target, targetType, ...rest] = line.split(' ');
    if (type === 'tag' && targetType === 'commit') tags.push({ sha, refName: rest.join(' '), target });
  }
  return tags;
}

/** Annotated tags (refs/tags/*) that tag a commit of the history directly. */
export async function tagsOf(commits: ReadonlySet<string>, cwd?: string, listed: Promise<TagRef[]> = annotatedTags(cwd)): Promise<TagRef[]> {
  return (await listed).filter((t) => commits.has(t.target));
}

/** The `tag` and `object` headers of a tag object. */
export function tagHeaders(raw: Buffer): { name: string | null; object: string | null } {
  const end = raw.indexOf('\n\n');
  const head = raw.toString('utf8', 0, end === -1 ? raw.length : end);
  return { name: /^tag (.*)$/m.exec(head)?.[1] ?? null, object: /^object ([0-9a-f]+)$/m.exec(head)?.[1] ?? null };
}

export interface TagContext extends JudgeContext {
  /** Whether the commit is on the branch (an ancestor of its tip, or the tip). */
  onBranch(commit: string, branchRef: string): Promise<boolean>;
}

/** A memoized `git merge-base --is-ancestor`. */
export function branchChecker(cwd?: string): TagContext['onBranch'] {
  const known = new Map<string, Promise<boolean>>();
  return (commit, branchRef) => {
    const key = `${commit} ${branchRef}`;
    let p = known.get(key);
    if (!p) {
      p = runGit(['merge-base', '--is-ancestor', '--end-of-options', commit, branchRef], { cwd }).then((r) => r.code === 0);
      known.set(key, p);
    }
    return p;
  };
}

function lastTagRule(rules: TagRule[], name: string): TagRule | undefined {
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i].names.some((g) => g.matches(name))) return rules[i];
  return undefined;
}

export async function judgeTag(t: TagFacts, governing: PolicyState, ctx: TagContext): Promise<Verdict> {
  const first = signatureVerdict(t.sha, 'tag', t.signature, ctx);
  if (first) return first;
  const sig = t.signature as Extract<SignatureFacts, { state: 'verified' }>;
  const who = signerName(sig.signer);
  if (t.name === null || t.refName !== `refs/tags/${t.name}`) {
    return verdict('violation', 'TAG_NAME_MISMATCH', `${t.refName} holds a tag object named ${JSON.stringify(t.name ?? '')}`);
  }
  const principals = new Set<string>();
  let decided: Verdict | null = null;
  for (const { policy } of governing.versions) {
    const mine = principalsOf(policy, sig.signer);
    mine.forEach((p) => principals.add(p));
    const rule = lastTagRule(policy.tags, t.name);
    if (!rule) return verdict('violation', 'TAG_UNCOVERED', `no tag rule covers the tag ${JSON.stringify(t.name)}`, null, mine);
    if (!mine.some((p) => rule.signers.has(p))) {
      return verdict('violation', mine.length ? 'TAG_DENIED' : 'UNKNOWN_SIGNER', `${rule.label} does not allow ${mine.length ? mine.join(', ') : who} to sign the tag ${JSON.stringify(t.name)}`, rule.label, mine);
    }
    if (rule.branch && !(await ctx.onBranch(t.target, rule.branch))) {
      return verdict('violation', 'TAG_BRANCH', `${rule.label} requires the tagged commit to be on ${rule.branch}`, rule.label, mine);
    }
    decided ??= verdict('ok', 'AUTHORIZED', `tag ${JSON.stringify(t.name)} allowed`, rule.label);
  }
  return { ...(decided ?? verdict('violation', 'TAG_UNCOVERED', 'no policy governs the tag')), principals: [...principals] };
}
