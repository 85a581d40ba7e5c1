import { createHash } from 'node:crypto';
import { exactKey } from './judge';
import type { PolicyState, PolicyVersion, Status } from './types';
import { STATUSES } from './types';

/**
 * The record of an audit: what a re-run of the same audit needs from it to judge only the commits
 * added since, instead of every commit again. Kept per audit (its bases, ref, trust root, mode and
 * the repository state that can change a judgment without changing a commit) in the result cache's
 * context directory, MACed like the cache's segments (cacheStore.ts).
 *
 * Per commit of the recorded range, in the report's order: its report line (the JSON of its entry,
 * as printed), the policy state it leaves (an index into the recorded states, each a serial and
 * version indices), and its attested signing time and log index (tags are judged by them). Versions
 * are named by where they are read again: version 0 is the trust root's, the others were adopted by
 * the commit of their origin. `ruling` lists the versions whose revocations and re-admissions judged
 * the range (engine.ts: every version the first pass adopted); `adopted`, those the report lists.
 */
export interface RecordedCommit {
  sha: string;
  after: number;
  time: number | null;
  logIndex: number | null;
  /** On the recorded tip's first-parent line. */
  mainline: boolean;
  line: string;
}

export interface AuditRecord {
  tip: string;
  versions: string[];
  states: { serial: number; versions: number[] }[];
  ruling: number[];
  adopted: number[];
  counts: Record<Status, number>;
  commits: RecordedCommit[];
  /** The commits' lines as read (decodeRecord): a record that only adds commits after them writes these again as they are. */
  section?: string;
}

/** What must be the same for a record to stand for the audit now: anything else and it is not read. */
export interface RecordKey {
  bases: readonly string[];
  ref: string | null;
  mode: string;
  trustRoot: PolicyVersion;
  keepGoing: boolean;
  /** The refs that change judgments without changing commits (stored approvals: recordState.ts), as git lists them. */
  refState: string;
}

/** The file name of the record of this audit (within the result cache's context). */
export function recordName(k: RecordKey): string {
  const text = exactKey([k.ref ?? '', k.mode, k.trustRoot.origin, k.trustRoot.policy.key, k.keepGoing ? 'keep-going' : 'stop', k.refState, String(k.bases.length), ...k.bases]);
  return `record-${createHash('sha256').update(text).digest('hex').slice(0, 32)}.jsonl`;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const INDEX = /^\d{1,9}$/;
const NUMBER = /^(-|\d{1,16})$/;

/**
 * The record as its file's body (after the MACed header): one line of what the commits share, then
 * one line per commit. `kept`: the section of an earlier record, whose commits come before `r.commits`
 * and are written again as they were read (their states keep their numbers: StateTable.from).
 */
export function encodeRecord(r: AuditRecord, kept?: { section: string; count: number }): string {
  const head = JSON.stringify({ tip: r.tip, versions: r.versions, states: r.states, ruling: r.ruling, adopted: r.adopted, counts: r.counts, commits: (kept?.count ?? 0) + r.commits.length });
  const lines = r.commits.map((c) => `${c.sha} ${c.after} ${c.time ?? '-'} ${c.logIndex ?? '-'} ${c.mainline ? 'm' : '-'}\t${c.line}\n`);
  return `${head}\n${kept?.section ?? ''}${lines.join('')}`;
}

const isIndexList = (v: unknown, below: number): v is number[] => Array.isArray(v) && v.every((i) => Number.isInteger(i) && i >= 0 && i < below);

/** The record of a body whose MAC held (so written by us), or null when it is not one this version reads. */
export function decodeRecord(body: string): AuditRecord | null {
  const lines = body.split('\n');
  if (lines.pop() !== '') return null;
  let head: Record<string, unknown>;
  try {
    head = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  } catch {
    return null;
  }
  const { tip, versions, states, ruling, adopted, counts, commits } = head;
  if (typeof tip !== 'string' || !SHA.test(tip) || typeof commits !== 'number' || commits !== lines.length - 1) return null;
  if (!Array.isArray(versions) || versions.length === 0 || !versions.every((v, i) => typeof v === 'string' && (i === 0 || SHA.test(v)))) return null;
  const versionNames = versions as string[];
  if (!Array.isArray(states) || !states.every((s: { serial?: unknown; versions?: unknown }) => Number.isInteger(s?.serial) && isIndexList(s.versions, versionNames.length))) return null;
  if (!isIndexList(ruling, versionNames.length) || !isIndexList(adopted, versionNames.length)) return null;
  if (typeof counts !== 'object' || counts === null || !STATUSES.every((s) => Number.isInteger((counts as Record<string, unknown>)[s]))) return null;
  const out: RecordedCommit[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const tab = line.indexOf('\t');
    const fields = line.slice(0, tab).split(' ');
    if (tab === -1 || fields.length !== 5 || !SHA.test(fields[0]) || !INDEX.test(fields[1]) || !NUMBER.test(fields[2]) || !NUMBER.test(fields[3]) || (fields[4] !== 'm' && fields[4] !== '-')) return null;
    const after = Number(fields[1]);
    if (after >= states.length) return null;
    out.push({ sha: fields[0], after, time: fields[2] === '-' ? null : Number(fields[2]), logIndex: fields[3] === '-' ? null : Number(fields[3]), mainline: fields[4] === 'm', line: line.slice(tab + 1) });
  }
  return { tip, versions: versionNames, states: states as AuditRecord['states'], ruling, adopted, counts: counts as Record<Status, number>, commits: out, section: body.slice(body.indexOf('\n') + 1) };
}

/** Numbers the versions and states a run met, for its record: the trust root's version is 0. */
export class StateTable {
  readonly versions: PolicyVersion[];
  readonly states: PolicyState[] = [];
  /** By origin: the two passes of a range that adopts read the same version twice. */
  private readonly versionIndex = new Map<string, number>();
  private readonly stateIndex = new Map<PolicyState, number>();

  constructor(root: PolicyVersion) {
    this.versions = [root];
    this.versionIndex.set(root.origin, 0);
  }

  /** The table of a record read again (versions and states as numbered there, then any new ones). */
  static from(versions: readonly PolicyVersion[], states: readonly PolicyState[]): StateTable {
    const table = new StateTable(versions[0]);
    versions.slice(1).forEach((v) => table.version(v));
    states.forEach((st) => table.state(st));
    return table;
  }

  version(v: PolicyVersion): number {
    let i = this.versionIndex.get(v.origin);
    if (i === undefined) {
      i = this.versions.push(v) - 1;
      this.versionIndex.set(v.origin, i);
    }
    return i;
  }

  state(s: PolicyState): number {
    let i = this.stateIndex.get(s);
    if (i === undefined) {
      s.versions.forEach((v) => this.version(v));
      i = this.states.push(s) - 1;
      this.stateIndex.set(s, i);
    }
    return i;
  }

  /** The versions as the record names them: the trust root's as its origin, the others by the commit that adopted them. */
  names(): string[] {
    return this.versions.map((v) => v.origin);
  }

  encodedStates(): AuditRecord['states'] {
    return this.states.map((s) => ({ serial: s.serial, versions: s.versions.map((v) => this.version(v)) }));
  }
}
