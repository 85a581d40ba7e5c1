import { GitsignError, quoted, toGitsignError } from '../errors';
import { CatFile, type RawObject } from '../git/catFile';
import { parsePolicy } from '../policy/parse';
import type { Revocation } from '../policy/policy';
import { type ApprovalSource, approvalReader } from './approvals';
import { readHistory, checkRevision, type History, rangeRevisions, refuseCutHistory } from './history';
import { takePrefetched } from './prefetch';
import { governingState, type JudgeContext, judgeCommit, judgeOrdinaryCommit, type Judgment } from './judge';
import { changedPaths } from './paths';
import type { PathCache } from './pathCache';
import { loadPolicyAt, policyFilesAt } from './policyAt';
import { LazyObjects } from './lazyObjects';
import { isInfrastructureFailure } from './signatures';
import { annotatedTags, branchChecker, judgeTag, type TagFacts, type TagRef, tagHeaders, tagsOf } from './tags';
import { type AuditEntry, FAILING, isAttested, kindOf, type PolicyState, type PolicyVersion, type SignatureFacts, type Status, STATUSES, type Verdict } from './types';
import { runGit } from '../git/run';
import { commonGitDir } from '../git/gitDir';

/**
 * `gitsign audit`: every commit of a range (and every annotated tag of it) judged by the policy its
 * parents leave, starting from a trust root that is not part of the range (gitsign-policy(5)).
 * Signatures are checked first, all of them, by the verifier the caller gives (gitsign verify's, with
 * its trust options); then the history is judged twice: once to see every policy version the history
 * adopts, once with the revocations and re-admissions of all of them (they are retroactive).
 */
export interface ObjectVerifier {
  /** The facts of an object known without reading it (a cached check; `object` reads it if a claim is needed), or null: then it is read and verified. */
  answer?(name: string, object: () => RawObject | null): SignatureFacts | null;
  verify(obj: RawObject): Promise<SignatureFacts>;
  close(): Promise<void>;
}

/** Makes a verifier for this many objects (their names, when known: a cache answers some without one). */
export type VerifierFactory = (count: number, names?: readonly string[]) => ObjectVerifier;

export interface AuditOptions {
  range: string;
  /** The ref audited for (rules' refs); default: the tip's ref. */
  ref?: string;
  /** The trust root revision (--trust-root, gitsign.audit.trustRoot); default: the range's base. */
  trustRoot?: string;
  /** A policy from outside the repository (--policy): it alone judges every commit. */
  policyFile?: { name: string; bytes: Buffer };
  /** Report objects that could not be checked (a missing object, a failed worker) as `error` instead of stopping. */
  keepGoing: boolean;
  /** The signature checker, for these objects. */
  verifier: VerifierFactory;
  approvals: ApprovalSource;
  /** The paths commits change, kept between audits (pathCache.ts); without it git is asked about every commit. */
  pathCache?: PathCache;
  progress?(done: number, total: number): void;
  cwd?: string;
  /** The git reads startAudit began for this range, ref and cwd (they then run while the caller loads its trust material). */
  started?: AuditStart;
}

/** The audit's git reads that need nothing but the range, and its object reader: begun before the rest is ready. */
export interface AuditStart {
  history: Promise<History>;
  tags: Promise<TagRef[]>;
  catFile: CatFile;
  /** When the read ahead no longer uses the object reader (one reader serves one request at a time, in order). */
  settled: Promise<void>;
  /** The policy at this commit as loadPolicyAt(sha, sha) gives it (or fails), when it was read ahead (the range's one base); else undefined. */
  policyAt(sha: string): Promise<PolicyVersion | undefined>;
  /** Ends the object reader (runAudit does; for a caller that fails before it runs). */
  close(): void;
}

/**
 * Begins the history and tag reads of `runAudit(opts)` with the same range, ref and cwd, starts its
 * `git cat-file`, and asks where the repository's caches live: git walks the history on the other
 * core while this one loads trust material and caches, and no process start waits for a heap grown
 * by the audit. A failure surfaces when runAudit awaits it (the promises are marked handled until then).
 */
export function startAudit(range: string, ref: string | undefined, cwd?: string, readBasePolicy = true): AuditStart {
  // The range first (a bad one starts nothing), then the history: git rev-list is the longest read,
  // started already when main.ts guessed this range.
  const early = takePrefetched(range, cwd);
  const revisions = early?.revisions ?? rangeRevisions(range, cwd);
  const history = readHistory(range, ref, cwd, revisions, early?.listing);
  const catFile = new CatFile(cwd);
  let open = true;
  const { bases } = revisions;
  // The policy of a one-base range's base, the trust root unless another is named: read and parsed while git walks the history.
  const basePolicy = Promise.resolve(readBasePolicy && bases.length === 1 ? { sha: bases[0], version: loadPolicyAt(bases[0], bases[0], catFile, cwd) } : null);
  const settled = basePolicy.then((b) => b?.version.then(() => undefined, () => undefined));
  const started = {
    history,
    tags: annotatedTags(cwd),
    settled,
    policyAt: async (sha: string) => {
      const b = await basePolicy.catch(() => null);
      return b?.sha === sha ? await b.version : undefined;
    },
    catFile,
    close: () => {
      if (open) catFile.close();
      open = false;
    },
  };
  started.history.catch(() => undefined);
  started.tags.catch(() => undefined);
  commonGitDir(cwd).catch(() => undefined);
  return started;
}

export interface AuditReport {
  range: string;
  tip: string;
  ref: string | null;
  mode: 'repository' | 'file';
  /** Where the first policy came from (trust root, or the --policy file), and its serial. */
  trustRoot: { origin: string; serial: number };
  /** Policy versions adopted by commits of the range, in history order. */
  adopted: { origin: string; serial: number }[];
  /** The trust root's version, then each adopted one (with its file's bytes), for reports that show the policies. */
  versions: PolicyVersion[];
  entries: AuditEntry[];
  counts: Record<Status, number>;
}

/** Objects whose signatures are checked at once (as `gitsign verify` keeps in flight). */
const IN_FLIGHT = 64;

interface Checked {
  facts: SignatureFacts;
  raw?: Buffer;
}

/**
 * Every object's signature, through the verifier: those it knows without their bytes first, then the
 * rest read by the audit's one `git cat-file` (and the tags, whose names are read from their bytes).
 */
async function checkSignatures(names: string[], keepRaw: ReadonlySet<string>, opts: AuditOptions, catFile: CatFile): Promise<Map<string, Checked>> {
  const out = new Map<string, Checked>();
  if (names.length === 0) return out;
  const verifier = opts.verifier(names.length, names);
  let done = 0;
  const pending: Promise<void>[] = [];
  const unread: string[] = [];
  const lazy = new LazyObjects(opts.cwd);
  async function* each(): AsyncGenerator<string> {
    yield* unread;
  }
  try {
    for (const name of names) {
      const facts = keepRaw.has(name) ? null : (verifier.answer?.(name, lazy.loader(name)) ?? null);
      if (facts === null) unread.push(name);
      else {
        out.set(name, { facts });
        opts.progress?.(++done, names.length);
      }
    }
    for await (const { name, object } of unread.length ? catFile.readAll(each()) : []) {
      const job = async (): Promise<void> => {
        const facts: SignatureFacts = object
          ? await verifier.verify(object)
          : { state: 'error', code: 'GIT', message: `object ${name} is missing from the repository`, identities: [], issuer: null };
        out.set(name, { facts, ...(object && keepRaw.has(name) ? { raw: object.raw } : {}) });
        opts.progress?.(++done, names.length);
      };
      pending.push(job());
      while (pending.length >= IN_FLIGHT) await pending.shift();
    }
    await Promise.all(pending);
  } finally {
    await verifier.close();
  }
  return out;
}

/** Both results once both are settled (neither left running behind a failure), or the first one's error. */
async function bothOrFirstError<A, B>(a: Promise<A>, b: Promise<B>): Promise<[A, B]> {
  const [x, y] = await Promise.allSettled([a, b]);
  if (x.status === 'rejected') throw x.reason;
  if (y.status === 'rejected') throw y.reason;
  return [x.value, y.value];
}

/** Stops the audit at an object that could not be checked, unless --keep-going reports it as `error`. */
function requireChecked(checked: Map<string, Checked>, keepGoing: boolean): void {
  if (keepGoing) return;
  for (const [sha, { facts }] of checked) {
    if (facts.state === 'error' && isInfrastructureFailure(facts.code)) {
      throw new GitsignError('GIT', `could not check ${sha}: ${facts.code}: ${facts.message} (--keep-going reports it as an error and judges the rest)`);
    }
  }
}

/** The trust root: never a commit of the audited range. */
async function trustRootState(history: History, opts: AuditOptions, catFile: CatFile): Promise<PolicyVersion> {
  if (opts.policyFile) return { policy: parsePolicy(opts.policyFile.bytes, opts.policyFile.name), origin: opts.policyFile.name, gitsignTree: null, source: opts.policyFile.bytes };
  let rev = opts.trustRoot;
  if (rev === undefined) {
    if (history.bases.length === 0) {
      throw new GitsignError('POLICY', `${quoted(history.range)} has no base, so nothing outside it can say which policy to trust: audit BASE..TIP, or give --trust-root REV (or git config gitsign.audit.trustRoot), or judge by a policy from outside with --policy FILE`);
    }
    if (history.bases.length > 1) throw new GitsignError('POLICY', `${quoted(history.range)} has ${history.bases.length} bases: say which one's policy to trust with --trust-root REV`);
    rev = history.bases[0];
  }
  checkRevision(rev, 'the trust root');
  // The range's base is a commit ID already (readHistory peeled it): no git process to name it.
  let sha = rev;
  if (!history.bases.includes(rev)) {
    const r = await runGit(['rev-parse', '-q', '--verify', '--end-of-options', `${rev}^{commit}`], { cwd: opts.cwd });
    if (r.code !== 0) throw new GitsignError('GIT', `the trust root ${quoted(rev)} names no commit`);
    sha = r.stdout.toString('latin1').trim();
  }
  if (history.commits.some((c) => c.sha === sha)) {
    throw new GitsignError('POLICY', `the trust root ${quoted(rev)} (${sha}) is inside the audited range: its policy would come from the content being audited; use a commit outside it, such as the range's base`);
  }
  try {
    const ahead = rev === sha ? await opts.started?.policyAt(sha) : undefined;
    return ahead ?? (await loadPolicyAt(sha, rev === sha ? sha : `${rev} (${sha})`, catFile, opts.cwd));
  } catch (err) {
    const e = toGitsignError(err);
    throw e.code === 'POLICY' ? new GitsignError('POLICY', `the trust root: ${e.message}`) : e;
  }
}

function gather(versions: PolicyVersion[]): { revoked: Revocation[]; allow: Map<string, string> } {
  const seen = new Set<string>();
  const revoked: Revocation[] = [];
  const allow = new Map<string, string>();
  for (const { policy } of versions) {
    if (seen.has(policy.key)) continue;
    seen.add(policy.key);
    revoked.push(...policy.revoked);
    for (const [sha, note] of policy.allow) if (!allow.has(sha)) allow.set(sha, note);
  }
  return { revoked, allow };
}

interface Pass {
  judgments: Map<string, Judgment>;
  governing: Map<string, PolicyState>;
  adopted: PolicyVersion[];
}

async function judgeHistory(history: History, paths: Map<string, string[]>, checked: Map<string, Checked>, root: PolicyState, ctx: JudgeContext): Promise<Pass> {
  const judgments = new Map<string, Judgment>();
  const governing = new Map<string, PolicyState>();
  const adopted: PolicyVersion[] = [];
  for (const c of history.commits) {
    // A parent outside the range (a base, a side branch's fork point before it) leaves the trust root's policy.
    const parentStates = c.parents.length ? c.parents.map((p) => judgments.get(p)?.after ?? root) : [root];
    const g = governingState(parentStates);
    const signature = checked.get(c.sha)?.facts ?? { state: 'error', code: 'GIT', message: 'not read', identities: [], issuer: null };
    const facts = { sha: c.sha, parents: c.parents, paths: paths.get(c.sha) ?? [], signature };
    // Most commits change no policy: judged without a promise each.
    const j = judgeOrdinaryCommit(facts, g, ctx) ?? (await judgeCommit(facts, g, ctx));
    judgments.set(c.sha, j);
    governing.set(c.sha, g);
    if (j.after !== g) adopted.push(...j.after.versions);
  }
  return { judgments, governing, adopted };
}

/**
 * The mainline merge that brings each other commit of the range to the tip's first-parent line: the
 * earliest one whose side parents reach it (each commit is visited once).
 */
function bringers(history: History): Map<string, string> {
  const byId = new Map(history.commits.map((c) => [c.sha, c]));
  const out = new Map<string, string>();
  for (const m of history.commits) {
    if (!history.mainline.has(m.sha) || m.parents.length < 2) continue;
    const stack = m.parents.slice(1);
    while (stack.length) {
      const sha = stack.pop() as string;
      const c = byId.get(sha);
      if (!c || history.mainline.has(sha) || out.has(sha)) continue;
      out.set(sha, m.sha);
      stack.push(...c.parents);
    }
  }
  return out;
}

/** Side-branch failures an authorized mainline merge endorses, when every governing policy of that merge says `merges: endorse`. */
function endorse(verdicts: Map<string, Verdict>, history: History, pass: Pass): Map<string, string> {
  const endorsedBy = new Map<string, string>();
  for (const [sha, merge] of bringers(history)) {
    const v = verdicts.get(sha);
    if (!v || (v.status !== 'violation' && v.status !== 'unsigned')) continue;
    const mergeVerdict = verdicts.get(merge);
    const g = pass.governing.get(merge);
    if (mergeVerdict?.status !== 'ok' || !g || !g.versions.every((ver) => ver.policy.merges === 'endorse')) continue;
    verdicts.set(sha, { ...v, status: 'endorsed', reason: 'ENDORSED', message: `${v.reason}: ${v.message}; endorsed by the merge ${merge}` });
    endorsedBy.set(sha, merge);
  }
  return endorsedBy;
}

type Verified = Extract<SignatureFacts, { state: 'verified' }>;

/** Whether the log saw `a` before `b`: by attested time, and within one second by log index (one log's order). */
export function signedBefore(a: Verified, b: Verified): boolean {
  const ta = a.time.getTime();
  const tb = b.time.getTime();
  if (ta !== tb) return ta < tb;
  return a.logIndex !== null && b.logIndex !== null && a.logIndex < b.logIndex;
}

/** The policy in force on the mainline when a tag was signed (by attested times), never older than its commit's. */
function tagGoverning(t: TagFacts, history: History, checked: Map<string, Checked>, pass: Pass, root: PolicyState): PolicyState {
  const states = [pass.judgments.get(t.target)?.after ?? root];
  const tag = t.signature;
  if (tag.state === 'verified' && isAttested(tag)) {
    let current: string | undefined;
    for (const c of history.commits) {
      const f = checked.get(c.sha)?.facts;
      if (history.mainline.has(c.sha) && f?.state === 'verified' && isAttested(f) && signedBefore(f, tag)) current = c.sha;
    }
    const after = current ? pass.judgments.get(current)?.after : undefined;
    if (after) states.push(after);
  }
  return governingState(states);
}

/** The origins of a state's versions, one list per state (shared by the entries it governs: reports only read them). */
const origins = new WeakMap<PolicyState, string[]>();
function originsOf(g: PolicyState): string[] {
  let list = origins.get(g);
  if (!list) origins.set(g, (list = g.versions.map((x) => x.origin)));
  return list;
}

function entryOf(type: 'commit' | 'tag', object: string, v: Verdict, facts: SignatureFacts, g: PolicyState, notes: string[]): AuditEntry {
  const verified = facts.state === 'verified' ? facts : null;
  const signer = verified
    ? { identities: [...verified.signer.identities], issuer: verified.signer.issuer }
    : facts.state === 'error' && facts.identities.length
      ? { identities: facts.identities, issuer: facts.issuer }
      : null;
  return {
    type,
    object,
    status: v.status,
    reason: v.reason,
    message: v.message,
    signer,
    kind: kindOf(facts),
    principals: v.principals,
    attestedTime: verified && isAttested(verified) ? verified.time.toISOString() : null,
    ...(verified?.timeSource === 'claimed' ? { claimedTime: verified.time.toISOString() } : {}),
    timeSource: verified ? verified.timeSource : null,
    policySerial: g.serial,
    policies: originsOf(g),
    rule: v.rule,
    notChecked: [...(verified?.notChecked ?? []), ...notes],
  };
}

export async function runAudit(opts: AuditOptions): Promise<AuditReport> {
  const catFile = opts.started?.catFile ?? new CatFile(opts.cwd);
  try {
    const history = await (opts.started?.history ?? readHistory(opts.range, opts.ref, opts.cwd));
    await refuseCutHistory(history, opts.cwd);
    await opts.started?.settled;
    const rootVersion = await trustRootState(history, opts, catFile);
    const root: PolicyState = { serial: rootVersion.policy.serial, versions: [rootVersion] };
    const inRange = new Set(history.commits.map((c) => c.sha));
    const tags = await tagsOf(inRange, opts.cwd, opts.started?.tags);
    const tagShas = new Set(tags.map((t) => t.sha));
    // git lists the paths of the commits the path cache does not know while the signatures are checked.
    const [paths, checked] = await bothOrFirstError(
      changedPaths(history.commits, opts.cwd, opts.pathCache),
      checkSignatures([...history.commits.map((c) => c.sha), ...tags.map((t) => t.sha)], tagShas, opts, catFile),
    );
    requireChecked(checked, opts.keepGoing);

    const mode = opts.policyFile ? 'file' : 'repository';
    const ctx: JudgeContext = {
      ref: history.ref,
      mode,
      ...gather([rootVersion]),
      approvals: approvalReader(opts.approvals, catFile),
      policyFiles: (sha) => policyFilesAt(sha, catFile, opts.cwd),
    };
    let pass = await judgeHistory(history, paths, checked, root, ctx);
    // Revocations and re-admissions are retroactive: judged again with those of every version adopted.
    if (pass.adopted.length) {
      Object.assign(ctx, gather([rootVersion, ...pass.adopted]));
      pass = await judgeHistory(history, paths, checked, root, ctx);
    }
    const verdicts = new Map<string, Verdict>();
    for (const [sha, j] of pass.judgments) verdicts.set(sha, j.verdict);
    const endorsedBy = endorse(verdicts, history, pass);

    const entries: AuditEntry[] = history.commits.map((c) => {
      const j = pass.judgments.get(c.sha) as Judgment;
      const e = entryOf('commit', c.sha, verdicts.get(c.sha) as Verdict, (checked.get(c.sha) as Checked).facts, pass.governing.get(c.sha) as PolicyState, j.notes);
      const by = endorsedBy.get(c.sha);
      return by ? { ...e, endorsedBy: by } : e;
    });
    const tagCtx = { ...ctx, onBranch: branchChecker(opts.cwd) };
    for (const t of tags) {
      const { facts, raw } = checked.get(t.sha) as Checked;
      const facts2: TagFacts = { ...t, name: raw ? tagHeaders(raw).name : null, signature: facts };
      const g = tagGoverning(facts2, history, checked, pass, root);
      const v = await judgeTag(facts2, g, tagCtx);
      entries.push({ ...entryOf('tag', t.sha, v, facts, g, []), name: facts2.name ?? t.refName });
    }
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
    for (const e of entries) counts[e.status]++;
    return {
      range: history.range,
      tip: history.tip,
      ref: history.ref,
      mode,
      trustRoot: { origin: rootVersion.origin, serial: rootVersion.policy.serial },
      adopted: pass.adopted.map((v) => ({ origin: v.origin, serial: v.policy.serial })),
      versions: [rootVersion, ...pass.adopted],
      entries,
      counts,
    };
  } finally {
    if (opts.started) opts.started.close();
    else catFile.close();
  }
}

export function auditFailed(report: AuditReport): boolean {
  return report.entries.some((e) => FAILING.has(e.status));
}
