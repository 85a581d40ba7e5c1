import { GitsignError, quoted, toGitsignError } from '../errors';
import { CatFile, type RawObject } from '../git/catFile';
import { parsePolicy } from '../policy/parse';
import type { Revocation } from '../policy/policy';
import { type ApprovalSource, approvalReader } from './approvals';
import { readHistory, checkRevision, type History, type HistoryCommit, type HistoryHead, historySince, type HistoryReads, rangeRevisions, refuseCutHistory } from './history';
import { takePrefetched } from './prefetch';
import { governingState, isPolicyPath, type JudgeContext, judgeCommit, judgeOrdinaryCommit, type Judgment } from './judge';
import { type AuditRecord, decodeRecord, encodeRecord, recordName, StateTable } from './record';
import { recordableState } from './recordState';
import { changedPaths } from './paths';
import type { PathCache } from './pathCache';
import { adoptedVersionAt, loadPolicyAt, policyFilesAt } from './policyAt';
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
  /** Where the records of audits are kept (record.ts): a re-run then judges only the commits added since. */
  records?: AuditRecords;
  /** Starts reading the result cache ahead (once the audit knows every commit will be asked about). */
  readAhead?: () => void;
}

/** The MACed files of audit records (cacheStore.ts). */
export interface AuditRecords {
  read(name: string): string | null;
  write(name: string, body: string): void;
}

/** The audit's git reads that need nothing but the range, and its object reader: begun before the rest is ready. */
export interface AuditStart extends HistoryReads {
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
  const reads = readHistory(range, ref, cwd, revisions, early?.listing);
  const catFile = new CatFile(cwd);
  let open = true;
  const { bases } = revisions;
  // The policy of a one-base range's base, the trust root unless another is named: read and parsed while git walks the history.
  const basePolicy = Promise.resolve(readBasePolicy && bases.length === 1 ? { sha: bases[0], version: loadPolicyAt(bases[0], bases[0], catFile, cwd) } : null);
  const settled = basePolicy.then((b) => b?.version.then(() => undefined, () => undefined));
  const started = {
    ...reads,
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
  started.head.catch(() => undefined);
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
  /** Commits, in history order, then tags (read from `lines` when first asked for, after a re-run that judged few). */
  readonly entries: AuditEntry[];
  /** The JSON of each entry, as --json prints it. */
  lines: string[];
  /** How many of the entries are commits (the rest are tags). */
  commits: number;
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

/** The trust root's version, and its commit (null for --policy): never a commit of the audited range (refuseTrustRootInside). */
async function trustRootState(head: HistoryHead, opts: AuditOptions, catFile: CatFile, history: () => Promise<History>): Promise<{ version: PolicyVersion; sha: string | null; rev: string }> {
  if (opts.policyFile) return { version: { policy: parsePolicy(opts.policyFile.bytes, opts.policyFile.name), origin: opts.policyFile.name, gitsignTree: null, source: opts.policyFile.bytes }, sha: null, rev: '' };
  let rev = opts.trustRoot;
  if (rev === undefined) {
    if (head.bases.length === 0) {
      throw new GitsignError('POLICY', `${quoted(head.range)} has no base, so nothing outside it can say which policy to trust: audit BASE..TIP, or give --trust-root REV (or git config gitsign.audit.trustRoot), or judge by a policy from outside with --policy FILE`);
    }
    if (head.bases.length > 1) throw new GitsignError('POLICY', `${quoted(head.range)} has ${head.bases.length} bases: say which one's policy to trust with --trust-root REV`);
    rev = head.bases[0];
  }
  checkRevision(rev, 'the trust root');
  // The range's base is a commit ID already (readHistory peeled it): no git process to name it.
  let sha = rev;
  if (!head.bases.includes(rev)) {
    const r = await runGit(['rev-parse', '-q', '--verify', '--end-of-options', `${rev}^{commit}`], { cwd: opts.cwd });
    if (r.code !== 0) throw new GitsignError('GIT', `the trust root ${quoted(rev)} names no commit`);
    sha = r.stdout.toString('latin1').trim();
    // A base is never inside the range; another commit may be, and is refused before its policy is read.
    refuseTrustRootInside(await history(), { sha, rev });
  }
  try {
    const ahead = rev === sha ? await opts.started?.policyAt(sha) : undefined;
    return { version: ahead ?? (await loadPolicyAt(sha, rev === sha ? sha : `${rev} (${sha})`, catFile, opts.cwd)), sha, rev };
  } catch (err) {
    const e = toGitsignError(err);
    throw e.code === 'POLICY' ? new GitsignError('POLICY', `the trust root: ${e.message}`) : e;
  }
}

/** A trust root inside the range would take its policy from the content being audited (checked again on a history read from a record). */
function refuseTrustRootInside(history: History, root: { sha: string | null; rev: string }): void {
  if (root.sha !== null && history.commits.some((c) => c.sha === root.sha)) {
    throw new GitsignError('POLICY', `the trust root ${quoted(root.rev)} (${root.sha}) is inside the audited range: its policy would come from the content being audited; use a commit outside it, such as the range's base`);
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
 * earliest one whose side parents reach it (each commit is visited once). `among`: only those commits
 * (the ones added since a record: a commit the record holds was brought by a merge it holds).
 */
function bringers(history: History, among?: ReadonlySet<string>): Map<string, string> {
  const commits = among ? history.commits.filter((c) => among.has(c.sha)) : history.commits;
  const byId = new Map(commits.map((c) => [c.sha, c]));
  const out = new Map<string, string>();
  for (const m of commits) {
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
function endorse(verdicts: Map<string, Verdict>, history: History, governing: ReadonlyMap<string, PolicyState>, among?: ReadonlySet<string>): Map<string, string> {
  const endorsedBy = new Map<string, string>();
  for (const [sha, merge] of bringers(history, among)) {
    const v = verdicts.get(sha);
    if (!v || (v.status !== 'violation' && v.status !== 'unsigned')) continue;
    const mergeVerdict = verdicts.get(merge);
    const g = governing.get(merge);
    if (mergeVerdict?.status !== 'ok' || !g || !g.versions.every((ver) => ver.policy.merges === 'endorse')) continue;
    verdicts.set(sha, { ...v, status: 'endorsed', reason: 'ENDORSED', message: `${v.reason}: ${v.message}; endorsed by the merge ${merge}` });
    endorsedBy.set(sha, merge);
  }
  return endorsedBy;
}

type Verified = Extract<SignatureFacts, { state: 'verified' }>;
/** When the log saw a signature: its attested time, and its index in the log. */
type LogTime = Pick<Verified, 'time' | 'logIndex'>;

/** Whether the log saw `a` before `b`: by attested time, and within one second by log index (one log's order). */
export function signedBefore(a: LogTime, b: LogTime): boolean {
  const ta = a.time.getTime();
  const tb = b.time.getTime();
  if (ta !== tb) return ta < tb;
  return a.logIndex !== null && b.logIndex !== null && a.logIndex < b.logIndex;
}

/**
 * The commits of the range as judged, whether this run judged them all or only those added since a
 * record: each commit's report line, the policy state it leaves, and when its signature was logged.
 */
interface Judged {
  /** Per commit, in history order. */
  lines: string[];
  /** The entries this run made (by position in `lines`); the others are read from their lines when asked for. */
  made: Map<number, AuditEntry>;
  afterOf(sha: string): PolicyState | undefined;
  /** The attested time of a verified signature (null: not verified, or no time attested). */
  loggedAt(sha: string): LogTime | null;
  /** The versions whose revocations and re-admissions judged the range (the first pass's adoptions). */
  ruling: PolicyVersion[];
  /** The versions the report lists as adopted. */
  adopted: PolicyVersion[];
  counts: Record<Status, number>;
  /** After a record: its numbering of versions and states, and its commits' section when they come first in the same order (written again as read). */
  recorded?: { table: StateTable; kept?: { section: string; count: number } };
}

/** The policy in force on the mainline when a tag was signed (by attested times), never older than its commit's. */
function tagGoverning(t: TagFacts, history: History, judged: Judged, root: PolicyState): PolicyState {
  const states = [judged.afterOf(t.target) ?? root];
  const tag = t.signature;
  if (tag.state === 'verified' && isAttested(tag)) {
    let current: string | undefined;
    for (const c of history.commits) {
      if (!history.mainline.has(c.sha)) continue;
      const logged = judged.loggedAt(c.sha);
      if (logged && signedBefore(logged, tag)) current = c.sha;
    }
    const after = current ? judged.afterOf(current) : undefined;
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

const noCounts = (): Record<Status, number> => Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
const NOT_READ: SignatureFacts = { state: 'error', code: 'GIT', message: 'not read', identities: [], issuer: null };
const loggedTime = (facts: SignatureFacts | undefined): LogTime | null => (facts?.state === 'verified' && isAttested(facts) ? facts : null);

/**
 * The report lines of the history's commits: a recorded commit's as recorded (`recordedLine`), the
 * others' from their judgments, with the side-branch failures an authorized merge endorses (a recorded
 * commit keeps its verdict: what merges brought before the recorded tip was brought by a recorded
 * merge). Adds each line made to `counts`.
 */
function commitLines(history: History, judgments: Map<string, Judgment>, governing: Map<string, PolicyState>, checked: Map<string, Checked>, counts: Record<Status, number>, recordedLine?: (sha: string) => string | undefined): { lines: string[]; made: Map<number, AuditEntry> } {
  const verdicts = new Map<string, Verdict>();
  for (const [sha, j] of judgments) verdicts.set(sha, j.verdict);
  const endorsedBy = endorse(verdicts, history, governing, recordedLine ? new Set(judgments.keys()) : undefined);
  const made = new Map<number, AuditEntry>();
  const lines = history.commits.map((c, i) => {
    const recorded = recordedLine?.(c.sha);
    if (recorded !== undefined) return recorded;
    const j = judgments.get(c.sha) as Judgment;
    const e = entryOf('commit', c.sha, verdicts.get(c.sha) as Verdict, (checked.get(c.sha) as Checked).facts, governing.get(c.sha) as PolicyState, j.notes);
    const by = endorsedBy.get(c.sha);
    const entry = by ? { ...e, endorsedBy: by } : e;
    made.set(i, entry);
    counts[entry.status]++;
    return JSON.stringify(entry);
  });
  return { lines, made };
}

/** The paths the commits change and the signatures of the commits and tags: git lists the paths the path cache does not know while the signatures are checked. */
function pathsAndSignatures(commits: HistoryCommit[], tags: TagRef[], opts: AuditOptions, catFile: CatFile): Promise<[Map<string, string[]>, Map<string, Checked>]> {
  return bothOrFirstError(
    changedPaths(commits, opts.cwd, opts.pathCache),
    checkSignatures([...commits.map((c) => c.sha), ...tags.map((t) => t.sha)], new Set(tags.map((t) => t.sha)), opts, catFile),
  );
}

/** Every commit of the range judged by this run: twice when the range adopts a policy (revocations and re-admissions are retroactive). */
async function judgeAll(history: History, rootVersion: PolicyVersion, root: PolicyState, ctx: JudgeContext, opts: AuditOptions, catFile: CatFile, tags: TagRef[]): Promise<{ judged: Judged; checked: Map<string, Checked> }> {
  // The first pass with the trust root's revocations and re-admissions alone (a record that could not be used may have set others).
  Object.assign(ctx, gather([rootVersion]));
  const [paths, checked] = await pathsAndSignatures(history.commits, tags, opts, catFile);
  requireChecked(checked, opts.keepGoing);
  let pass = await judgeHistory(history, paths, checked, root, ctx);
  let ruling: PolicyVersion[] = [];
  if (pass.adopted.length) {
    ruling = pass.adopted;
    Object.assign(ctx, gather([rootVersion, ...ruling]));
    pass = await judgeHistory(history, paths, checked, root, ctx);
  }
  const counts = noCounts();
  const { lines, made } = commitLines(history, pass.judgments, pass.governing, checked, counts);
  const judged: Judged = {
    lines,
    made,
    afterOf: (sha) => pass.judgments.get(sha)?.after,
    loggedAt: (sha) => loggedTime(checked.get(sha)?.facts),
    ruling,
    adopted: pass.adopted,
    counts,
  };
  return { judged, checked };
}

/** Whether the commits of the history that the tip reaches are exactly these. */
function holdsExactly(history: History, tip: string, commits: ReadonlyMap<string, number>): boolean {
  const byId = new Map(history.commits.map((c) => [c.sha, c]));
  const reached = new Set<string>([tip]);
  for (const stack = [tip]; stack.length; ) {
    const sha = stack.pop() as string;
    if (!commits.has(sha)) return false;
    for (const p of (byId.get(sha) as HistoryCommit).parents) {
      if (byId.has(p) && !reached.has(p)) {
        reached.add(p);
        stack.push(p);
      }
    }
  }
  return reached.size === commits.size;
}

/**
 * The range judged from the record of an earlier audit of it (same bases, ref, trust root, mode and
 * repository state: recordName): only the commits added since are judged, by the states the
 * recorded ones leave and with the revocations and re-admissions that judged them. Null when the
 * record cannot stand for the history now, and the caller judges every commit:
 * - the recorded tip is not on the tip's first-parent line (a moved branch: the mainline and what
 *   merges bring may differ), or the recorded commits are not exactly the recorded tip's history now;
 * - an added commit changes .gitsign/ (it may adopt a policy, whose revocations are retroactive);
 * - a version the record names cannot be read again as it was.
 */
async function judgeSinceRecord(rec: AuditRecord, history: History, readFromRecord: boolean, rootVersion: PolicyVersion, root: PolicyState, ctx: JudgeContext, opts: AuditOptions, catFile: CatFile, tags: TagRef[]): Promise<{ judged: Judged; checked: Map<string, Checked> } | null> {
  if (rec.versions[0] !== rootVersion.origin || !history.mainline.has(rec.tip)) return null;
  const recorded = new Map<string, number>();
  rec.commits.forEach((c, i) => recorded.set(c.sha, i));
  if (recorded.size !== rec.commits.length) return null;
  // A history read from the record holds its commits by construction (historySince); a whole one must hold exactly the recorded tip's.
  if (!readFromRecord && !holdsExactly(history, rec.tip, recorded)) return null;
  const added = history.commits.filter((c) => !recorded.has(c.sha));

  const versions: PolicyVersion[] = [rootVersion];
  for (const origin of rec.versions.slice(1)) {
    const v = await adoptedVersionAt(origin, catFile, opts.cwd);
    if (!v) return null;
    versions.push(v);
  }
  const states = rec.states.map((st) => ({ serial: st.serial, versions: st.versions.map((i) => versions[i]) }));
  const ruling = rec.ruling.map((i) => versions[i]);
  Object.assign(ctx, gather([rootVersion, ...ruling]));

  const [paths, checked] = await pathsAndSignatures(added, tags, opts, catFile);
  if (added.some((c) => (paths.get(c.sha) ?? []).some(isPolicyPath))) return null;
  requireChecked(checked, opts.keepGoing);

  const judgments = new Map<string, Judgment>();
  const governing = new Map<string, PolicyState>();
  const afterOf = (sha: string): PolicyState | undefined => {
    const j = judgments.get(sha);
    if (j) return j.after;
    const i = recorded.get(sha);
    return i === undefined ? undefined : states[rec.commits[i].after];
  };
  for (const c of added) {
    const g = governingState(c.parents.length ? c.parents.map((p) => afterOf(p) ?? root) : [root]);
    const facts = { sha: c.sha, parents: c.parents, paths: paths.get(c.sha) ?? [], signature: checked.get(c.sha)?.facts ?? NOT_READ };
    const j = judgeOrdinaryCommit(facts, g, ctx) ?? (await judgeCommit(facts, g, ctx));
    if (j.after !== g) return null;
    judgments.set(c.sha, j);
    governing.set(c.sha, g);
  }
  const counts = { ...rec.counts };
  const { lines, made } = commitLines(history, judgments, governing, checked, counts, (sha) => {
    const at = recorded.get(sha);
    return at === undefined ? undefined : rec.commits[at].line;
  });
  const kept = rec.section !== undefined && rec.commits.every((c, i) => history.commits[i].sha === c.sha) ? { section: rec.section, count: rec.commits.length } : undefined;
  const judged: Judged = {
    recorded: { table: StateTable.from(versions, states), kept },
    lines,
    made,
    afterOf,
    loggedAt: (sha) => {
      const i = recorded.get(sha);
      if (i === undefined) return loggedTime(checked.get(sha)?.facts);
      const { time, logIndex } = rec.commits[i];
      return time === null ? null : { time: new Date(time), logIndex };
    },
    ruling,
    adopted: rec.adopted.map((i) => versions[i]),
    counts,
  };
  return { judged, checked };
}

/**
 * The record of this run's judgment, for the next audit of the range; nothing when an object could not
 * be judged (it is judged again then). Its commits are those after the earlier record's kept section.
 */
function recordOf(history: History, judged: Judged, rootVersion: PolicyVersion): AuditRecord | null {
  if (judged.counts.error > 0 || history.commits.length === 0) return null;
  const table = judged.recorded?.table ?? new StateTable(rootVersion);
  const keptCount = judged.recorded?.kept?.count ?? 0;
  const commits = history.commits.slice(keptCount).map((c, i) => {
    const logged = judged.loggedAt(c.sha);
    return { sha: c.sha, after: table.state(judged.afterOf(c.sha) as PolicyState), time: logged ? logged.time.getTime() : null, logIndex: logged?.logIndex ?? null, mainline: history.mainline.has(c.sha), line: judged.lines[keptCount + i] };
  });
  const ruling = judged.ruling.map((v) => table.version(v));
  const adopted = judged.adopted.map((v) => table.version(v));
  const states = table.encodedStates();
  return { tip: history.tip, versions: table.names(), states, ruling, adopted, counts: judged.counts, commits };
}

/** The record of this audit, when one is kept and its MAC holds, and the history read from it when it can be (historySince). */
async function readRecordOf(opts: AuditOptions, name: string | null, head: HistoryHead): Promise<{ rec: AuditRecord; history: History | null } | null> {
  const body = name === null ? null : (opts.records?.read(name) ?? null);
  const rec = body === null ? null : decodeRecord(body);
  if (!rec) return null;
  const history = await historySince(head, rec.commits, rec.tip, opts.cwd).catch(() => null);
  return { rec, history };
}

export async function runAudit(opts: AuditOptions): Promise<AuditReport> {
  const catFile = opts.started?.catFile ?? new CatFile(opts.cwd);
  // The refs that can change a judgment without changing a commit: the key of this audit's record.
  const refState = opts.records ? recordableState(opts.cwd) : Promise.resolve(null);
  refState.catch(() => undefined);
  try {
    const reads = opts.started ?? readHistory(opts.range, opts.ref, opts.cwd);
    const head = await reads.head;
    await opts.started?.settled;
    const trustRoot = await trustRootState(head, opts, catFile, reads.history);
    const rootVersion = trustRoot.version;
    const root: PolicyState = { serial: rootVersion.policy.serial, versions: [rootVersion] };
    const mode = opts.policyFile ? 'file' : 'repository';
    const state = await refState.catch(() => null);
    const name = state === null ? null : recordName({ bases: head.bases, ref: head.ref, mode, trustRoot: rootVersion, keepGoing: opts.keepGoing, refState: state });
    const since = await readRecordOf(opts, name, head);
    // No record: the caches will answer for every commit, read while git still lists them.
    if (!since) {
      opts.readAhead?.();
      opts.pathCache?.readAhead();
    }
    // What is refused of any history, and its annotated tags.
    const tagsOfChecked = async (h: History): Promise<TagRef[]> => {
      refuseTrustRootInside(h, trustRoot);
      await refuseCutHistory(h, opts.cwd);
      return tagsOf(new Set(h.commits.map((c) => c.sha)), opts.cwd, opts.started?.tags);
    };
    // The whole history unless the record and the commits added since are all there is to it.
    let history = since?.history ?? (await reads.history());
    let tags = await tagsOfChecked(history);

    const ctx: JudgeContext = {
      ref: history.ref,
      mode,
      ...gather([rootVersion]),
      approvals: approvalReader(opts.approvals, catFile),
      policyFiles: (sha) => policyFilesAt(sha, catFile, opts.cwd),
    };
    const resumed = since && (await judgeSinceRecord(since.rec, history, since.history !== null, rootVersion, root, ctx, opts, catFile, tags));
    if (!resumed && since?.history) {
      // The record cannot stand for the history read from it: the whole history after all.
      history = await reads.history();
      tags = await tagsOfChecked(history);
    }
    const { judged, checked } = resumed || (await judgeAll(history, rootVersion, root, ctx, opts, catFile, tags));
    const counts = { ...judged.counts };
    const tagEntries: AuditEntry[] = [];
    const tagCtx = { ...ctx, onBranch: branchChecker(opts.cwd) };
    for (const t of tags) {
      const { facts, raw } = checked.get(t.sha) as Checked;
      const facts2: TagFacts = { ...t, name: raw ? tagHeaders(raw).name : null, signature: facts };
      const g = tagGoverning(facts2, history, judged, root);
      const v = await judgeTag(facts2, g, tagCtx);
      const entry = { ...entryOf('tag', t.sha, v, facts, g, []), name: facts2.name ?? t.refName };
      tagEntries.push(entry);
      counts[entry.status]++;
    }
    if (name !== null) {
      const made = recordOf(history, judged, rootVersion);
      if (made) opts.records?.write(name, encodeRecord(made, judged.recorded?.kept));
    }
    const lines = [...judged.lines, ...tagEntries.map((e) => JSON.stringify(e))];
    let entries: AuditEntry[] | undefined;
    return {
      range: history.range,
      tip: history.tip,
      ref: history.ref,
      mode,
      trustRoot: { origin: rootVersion.origin, serial: rootVersion.policy.serial },
      adopted: judged.adopted.map((v) => ({ origin: v.origin, serial: v.policy.serial })),
      versions: [rootVersion, ...judged.adopted],
      get entries(): AuditEntry[] {
        entries ??= [...judged.lines.map((line, i) => judged.made.get(i) ?? (JSON.parse(line) as AuditEntry)), ...tagEntries];
        return entries;
      },
      lines,
      commits: history.commits.length,
      counts,
    };
  } finally {
    if (opts.started) opts.started.close();
    else catFile.close();
  }
}

export function auditFailed(report: AuditReport): boolean {
  return [...FAILING].some((s) => report.counts[s] > 0);
}
