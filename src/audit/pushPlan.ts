import { GitsignError, quoted } from '../errors';
import { git, runGit } from '../git/run';
import { isZero, type RefUpdate } from './pushUpdates';

/**
 * What a server hook audits for one ref update, and from which trust root (gitsign(1), SERVER HOOK):
 * - gitsign.audit.trustRoot configured on the server (e.g. refs/heads/main): it is the trust root of
 *   every update, and the commits audited are those of the new value not in its history;
 * - else a branch update is audited as OLD..NEW from OLD, the value the server accepted before;
 * - a new ref (and every tag) as HEAD..NEW from the server's HEAD (the default branch). Not "the
 *   commits no existing ref has": rules are scoped by ref, so a commit accepted on one branch is not
 *   thereby authorized on another (pushing a feature branch's commits as release/1 is judged again);
 * - a deletion audits nothing (its push certificate is still required when the policy says so);
 * - the attestation store (refs/attestations/*) holds unsigned commits by design: its commits are not
 *   audited (each attestation is verified on its own where it counts), its pushes rules still apply.
 * Revisions are resolved before any ref is updated (pre-receive): a trust root is never pushed content.
 */
export interface PushPlan {
  update: RefUpdate;
  /** The commit whose policy governs the update. */
  trustRoot: string;
  /** BASE..TIP to audit, or null when the update brings no commit the server does not have. */
  range: string | null;
  /** The annotated tag object pushed (refs/tags/* only), judged on its own. */
  tagObject: string | null;
  /** The commit the new value names (null for a deletion). */
  target: string | null;
}

export async function commitOf(rev: string, cwd?: string): Promise<string | null> {
  const r = await runGit(['rev-parse', '-q', '--verify', '--end-of-options', `${rev}^{commit}`], { cwd });
  return r.code === 0 ? r.stdout.toString('latin1').trim() : null;
}

async function typeOf(oid: string, cwd?: string): Promise<string> {
  const r = await runGit(['cat-file', '-t', oid], { cwd });
  return r.code === 0 ? r.stdout.toString('latin1').trim() : 'missing';
}

/** The configured trust root as a commit (the setting names a revision of the server's repository). */
export async function configuredRoot(value: string, cwd?: string): Promise<string | null> {
  if (value === '') return null;
  if (value.startsWith('-')) throw new GitsignError('CONFIG', `gitsign.audit.trustRoot ${quoted(value)} is not a revision`);
  const sha = await commitOf(value, cwd);
  if (!sha) throw new GitsignError('CONFIG', `gitsign.audit.trustRoot ${quoted(value)} names no commit in this repository`);
  return sha;
}

async function hasCommits(range: string, cwd?: string): Promise<boolean> {
  return (await git(['rev-list', '--max-count=1', range, '--'], { cwd })).length > 0;
}

export async function planUpdate(update: RefUpdate, root: string | null, cwd?: string): Promise<PushPlan> {
  const isTagRef = update.ref.startsWith('refs/tags/');
  if (isZero(update.new)) {
    const old = await commitOf(update.old, cwd);
    const trustRoot = root ?? old ?? (await commitOf('HEAD', cwd));
    if (!trustRoot) throw new GitsignError('POLICY', `nothing says which policy governs deleting ${update.ref}: set gitsign.audit.trustRoot`);
    return { update, trustRoot, range: null, tagObject: null, target: null };
  }
  const type = await typeOf(update.new, cwd);
  if (type !== 'commit' && !(type === 'tag' && isTagRef)) throw new GitsignError('POLICY', `${update.ref} would name a ${type}, not a commit${isTagRef ? ' or a tag of one' : ''}`);
  const target = await commitOf(update.new, cwd);
  if (!target) throw new GitsignError('POLICY', `the tag pushed to ${update.ref} does not tag a commit`);
  const tagObject = type === 'tag' ? update.new : null;
  const old = !isZero(update.old) && !isTagRef ? await commitOf(update.old, cwd) : null;

  const trustRoot = root ?? old ?? (await commitOf('HEAD', cwd));
  if (!trustRoot) throw new GitsignError('POLICY', `nothing says which policy governs the new ${update.ref}: HEAD names no commit; set gitsign.audit.trustRoot`);
  if (update.ref.startsWith('refs/attestations/')) return { update, trustRoot, range: null, tagObject, target };
  const range = `${trustRoot}..${target}`;
  return { update, trustRoot, range: (await hasCommits(range, cwd)) ? range : null, tagObject, target };
}
