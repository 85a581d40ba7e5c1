import { GitsignError, toGitsignError } from '../errors';
import { goPattern } from '../verify/pattern';
import { CLAIM_NAMES, CLAIMS } from './claims';
import { compileGlob, type Glob, globProblem } from './glob';
import { MAX_ALLOWED_SIGNERS_LINE, parseAllowedSigner } from '../ssh/allowedSigners';
import { type IdentitySpec, type KeySpec, type PathRule, type Policy, POLICY_VERSION, type PolicySection, type PushRule, type Revocation, type TagRule } from './policy';
import { MAX_POLICY_BYTES, type PolicyIssue, type Position, readYaml, type YValue } from './yamlTree';

/**
 * Reads a policy file's bytes into a Policy, or fails with every problem found, each with its line
 * and column (PolicyError). Unknown keys, wrong types, unknown names, bad patterns and limits are
 * all problems; nothing is guessed or defaulted silently except what gitsign-policy(5) documents.
 */
export class PolicyError extends GitsignError {
  readonly issues: PolicyIssue[];

  constructor(
    readonly file: string,
    issues: PolicyIssue[],
  ) {
    issues = [...issues].sort((a, b) => a.line - b.line || a.col - b.col);
    const [first] = issues;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    super('POLICY', `${file}:${first.line}:${first.col}: ${first.message}${more}`);
    this.issues = issues;
  }
}

/** Items of any one list or map (principals, rules, revocations...). */
export const MAX_ITEMS = 10_000;
const MAX_STRING = 4096;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const COMMIT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
/** RFC 3339 with a zone, as YAML 1.2 leaves it: a string. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

type Entries = Map<string, { keyAt: Position; value: YValue }>;

class SchemaReader {
  readonly issues: PolicyIssue[] = [];

  issue(at: Position, message: string): void {
    this.issues.push({ ...at, message });
  }

  /** The map's entries, with unknown keys and missing required ones reported. */
  map(v: YValue | undefined, where: string, keys: { required?: string[]; optional?: string[] }): Entries | null {
    if (!v || v.kind === 'refused') return null;
    if (v.kind !== 'map') {
      this.issue(v.at, `${where} must be a mapping of keys to values`);
      return null;
    }
    const known = [...(keys.required ?? []), ...(keys.optional ?? [])];
    for (const [key, { keyAt }] of v.entries) {
      if (!known.includes(key)) this.issue(keyAt, `unknown key ${JSON.stringify(key)} in ${where} (known: ${known.join(', ')})`);
    }
    for (const key of keys.required ?? []) if (!v.entries.has(key)) this.issue(v.at, `${where} has no ${key}`);
    return v.entries;
  }

  /** A map of names to values (principals, groups, claims), bounded. */
  namedMap(v: YValue | undefined, where: string): Entries | null {
    if (!v || v.kind === 'refused') return null;
    if (v.kind !== 'map') {
      this.issue(v.at, `${where} must be a mapping of names to values`);
      return null;
    }
    if (v.entries.size > MAX_ITEMS) {
      this.issue(v.at, `${where} has more than ${MAX_ITEMS} entries`);
      return null;
    }
    return v.entries;
  }

  list(v: YValue | undefined, where: string, opts: { nonEmpty?: boolean } = {}): YValue[] | null {
    if (!v || v.kind === 'refused') return null;
    if (v.kind !== 'seq') {
      this.issue(v.at, `${where} must be a list`);
      return null;
    }
    if (v.items.length > MAX_ITEMS) {
      this.issue(v.at, `${where} has more than ${MAX_ITEMS} items`);
      return null;
    }
    if (opts.nonEmpty && v.items.length === 0) this.issue(v.at, `${where} is empty`);
    return v.items;
  }

  /** A string; a number or boolean where text is meant is refused (`123456` must be quoted to be compared as text). */
  str(v: YValue | undefined, where: string, max = MAX_STRING): string | null {
    if (!v || v.kind === 'refused') return null;
    if (v.kind !== 'scalar' || typeof v.value !== 'string') {
      const hint = v.kind === 'scalar' && v.value !== null ? ` (quote it: "${String(v.value)}")` : '';
      this.issue(v.at, `${where} must be a string${hint}`);
      return null;
    }
    if (v.value === '') {
      this.issue(v.at, `${where} is empty`);
      return null;
    }
    if (v.value.length > max) {
      this.issue(v.at, `${where} is longer than ${max} characters`);
      return null;
    }
    return v.value;
  }

  int(v: YValue | undefined, where: string, min: number): number | null {
    if (!v || v.kind === 'refused') return null;
    if (v.kind !== 'scalar' || typeof v.value !== 'number' || !Number.isSafeInteger(v.value) || v.value < min) {
      this.issue(v.at, `${where} must be a whole number, at least ${min}`);
      return null;
    }
    return v.value;
  }

  globs(v: YValue | undefined, where: string): Glob[] | null {
    const items = this.list(v, where, { nonEmpty: true });
    if (!items) return null;
    const out: Glob[] = [];
    for (const [i, item] of items.entries()) {
      const s = this.str(item, `${where}[${i}]`);
      if (s === null) continue;
      const problem = globProblem(s);
      if (problem) this.issue(item.at, `${where}[${i}] ${JSON.stringify(s)}: ${problem}`);
      else out.push(compileGlob(s));
    }
    return out;
  }
}

const IDENTITY_KEYS = { required: ['issuer'], optional: ['subject', 'subjectPattern', 'claims'] };

/** An armored OpenPGP certificate is a few KiB; one with many signatures or a large key, more. */
const MAX_CERTIFICATE = 64 * 1024;
const OPENPGP_FINGERPRINT = /^([0-9A-F]{40}|[0-9A-F]{64})$/;

/** `openpgp: FINGERPRINT`, or `openpgp: {fingerprint: ..., certificate: ...}`. */
function readOpenPgpKey(r: SchemaReader, v: YValue, where: string): KeySpec | null {
  let fingerprintValue: YValue | undefined = v;
  let certificate: string | null = null;
  if (v.kind === 'map') {
    const e = r.map(v, where, { required: ['fingerprint'], optional: ['certificate'] });
    fingerprintValue = e?.get('fingerprint')?.value;
    const certValue = e?.get('certificate')?.value;
    certificate = certValue ? r.str(certValue, `${where}.certificate`, MAX_CERTIFICATE) : null;
    if (certificate !== null && certValue && !certificate.trimStart().startsWith('-----BEGIN PGP PUBLIC KEY BLOCK-----')) {
      r.issue(certValue.at, `${where}.certificate must be an armored OpenPGP certificate (-----BEGIN PGP PUBLIC KEY BLOCK-----)`);
    }
  }
  const text = r.str(fingerprintValue, `${where}${v.kind === 'map' ? '.fingerprint' : ''}`);
  if (text === null || !fingerprintValue) return null;
  const fingerprint = text.replace(/\s+/g, '').toUpperCase();
  if (!OPENPGP_FINGERPRINT.test(fingerprint)) {
    r.issue(fingerprintValue.at, `${where}: ${JSON.stringify(text.slice(0, 80))} is not an OpenPGP fingerprint (40 hex digits, or 64 for a v6 key; never a short key ID)`);
    return null;
  }
  return { kind: 'openpgp', fingerprint, certificate };
}

/** `ssh: "<allowed_signers line>"` (or a bare public key line). */
function readSshKey(r: SchemaReader, v: YValue, where: string): KeySpec | null {
  const line = r.str(v, where, MAX_ALLOWED_SIGNERS_LINE);
  if (line === null) return null;
  try {
    const s = parseAllowedSigner(line);
    return { kind: 'ssh', fingerprint: s.key.fingerprint, namespaces: s.namespaces, validAfter: s.validAfter, validBefore: s.validBefore, principals: s.principals };
  } catch (err) {
    r.issue(v.at, `${where}: ${toGitsignError(err).message}`);
    return null;
  }
}

/** A signer known by its key: exactly one of ssh and openpgp. */
function readKeyIdentity(r: SchemaReader, v: YValue, where: string): IdentitySpec | null {
  const e = r.map(v, where, { optional: ['ssh', 'openpgp'] });
  if (!e) return null;
  if (e.has('ssh') && e.has('openpgp')) r.issue(v.at, `${where} has both ssh and openpgp: one identity is one key`);
  const ssh = e.get('ssh')?.value;
  const openpgp = e.get('openpgp')?.value;
  const key = ssh ? readSshKey(r, ssh, `${where}.ssh`) : openpgp && openpgp.kind !== 'refused' ? readOpenPgpKey(r, openpgp, `${where}.openpgp`) : null;
  return key ? { issuer: '', claims: [], line: v.at.line, key } : null;
}

function readIdentity(r: SchemaReader, v: YValue, where: string): IdentitySpec | null {
  if (v.kind === 'map' && (v.entries.has('ssh') || v.entries.has('openpgp'))) return readKeyIdentity(r, v, where);
  const e = r.map(v, where, IDENTITY_KEYS);
  if (!e) return null;
  const issuer = r.str(e.get('issuer')?.value, `${where}.issuer`);
  const subject = r.str(e.get('subject')?.value, `${where}.subject`);
  const patternValue = e.get('subjectPattern')?.value;
  const patternText = r.str(patternValue, `${where}.subjectPattern`);
  if (e.has('subject') === e.has('subjectPattern')) r.issue(v.at, `${where} needs exactly one of subject (exact) and subjectPattern (RE2, whole string)`);
  let subjectPattern;
  if (patternText !== null && patternValue) {
    try {
      // Compiled alone first: a fragment such as `a)|(b` must not become valid once wrapped.
      goPattern(patternText, 'subjectPattern');
      subjectPattern = goPattern(`\\A(?:${patternText})\\z`, 'subjectPattern');
    } catch (err) {
      r.issue(patternValue.at, `${where}.subjectPattern: ${toGitsignError(err).message}`);
    }
  }
  const claims: [string, string][] = [];
  const claimMap = r.namedMap(e.get('claims')?.value, `${where}.claims`);
  for (const [name, { keyAt, value }] of claimMap ?? []) {
    if (!CLAIMS[name]) {
      r.issue(keyAt, `unknown claim ${JSON.stringify(name)} in ${where}.claims (known: ${CLAIM_NAMES.join(', ')})`);
      continue;
    }
    const s = r.str(value, `${where}.claims.${name}`);
    if (s !== null) claims.push([name, s]);
  }
  if (issuer === null) return null;
  return { issuer, ...(subject !== null ? { subject } : {}), ...(subjectPattern ? { subjectPattern } : {}), claims, line: v.at.line };
}

/** Group and principal names share one namespace: a rule names either. */
function readNames(r: SchemaReader, root: Entries): { principals: Map<string, IdentitySpec[]>; groups: Map<string, string[]> } {
  const principals = new Map<string, IdentitySpec[]>();
  for (const [name, { keyAt, value }] of r.namedMap(root.get('principals')?.value, 'principals') ?? []) {
    if (!NAME.test(name)) r.issue(keyAt, `principal name ${JSON.stringify(name)} is not a name (letters, digits, . _ -, at most 64)`);
    const items = r.list(value, `principals.${name}`, { nonEmpty: true }) ?? [];
    const ids = items.map((item, i) => readIdentity(r, item, `principals.${name}[${i}]`)).filter((x): x is NonNullable<typeof x> => x !== null);
    principals.set(name, ids);
  }
  const groups = new Map<string, string[]>();
  for (const [name, { keyAt, value }] of r.namedMap(root.get('groups')?.value, 'groups') ?? []) {
    if (!NAME.test(name)) r.issue(keyAt, `group name ${JSON.stringify(name)} is not a name (letters, digits, . _ -, at most 64)`);
    if (principals.has(name)) r.issue(keyAt, `${JSON.stringify(name)} is both a principal and a group`);
    const members: string[] = [];
    for (const [i, item] of (r.list(value, `groups.${name}`, { nonEmpty: true }) ?? []).entries()) {
      const m = r.str(item, `groups.${name}[${i}]`);
      if (m === null) continue;
      if (!principals.has(m)) r.issue(item.at, `groups.${name}[${i}]: ${JSON.stringify(m)} is not a principal (groups list principals, not groups)`);
      else members.push(m);
    }
    groups.set(name, members);
  }
  return { principals, groups };
}

function readSigners(r: SchemaReader, v: YValue | undefined, where: string, names: ReturnType<typeof readNames>): Set<string> {
  const out = new Set<string>();
  for (const [i, item] of (r.list(v, where, { nonEmpty: true }) ?? []).entries()) {
    const s = r.str(item, `${where}[${i}]`);
    if (s === null) continue;
    const group = names.groups.get(s);
    if (group) group.forEach((p) => out.add(p));
    else if (names.principals.has(s)) out.add(s);
    else r.issue(item.at, `${where}[${i}]: ${JSON.stringify(s)} is neither a principal nor a group`);
  }
  return out;
}

const label = (where: string, at: Position): string => `${where} (line ${at.line})`;

function readRules(r: SchemaReader, root: Entries, names: ReturnType<typeof readNames>): PathRule[] {
  const rules: PathRule[] = [];
  for (const [i, item] of (r.list(root.get('rules')?.value, 'rules') ?? []).entries()) {
    const where = `rules[${i}]`;
    const e = r.map(item, where, { required: ['paths', 'signers'], optional: ['refs', 'requireAttestedTime'] });
    if (!e) continue;
    const refs = e.has('refs') ? r.globs(e.get('refs')?.value, `${where}.refs`) : null;
    const paths = r.globs(e.get('paths')?.value, `${where}.paths`) ?? [];
    const requireAttestedTime = readFlag(r, e.get('requireAttestedTime')?.value, `${where}.requireAttestedTime`);
    rules.push({ label: label(where, item.at), refs, paths, signers: readSigners(r, e.get('signers')?.value, `${where}.signers`, names), requireAttestedTime });
  }
  return rules;
}

/** true or false (absent: false). */
function readFlag(r: SchemaReader, v: YValue | undefined, where: string): boolean {
  if (!v || v.kind === 'refused') return false;
  if (v.kind !== 'scalar' || typeof v.value !== 'boolean') {
    r.issue(v.at, `${where} must be true or false`);
    return false;
  }
  return v.value;
}

function readTags(r: SchemaReader, root: Entries, names: ReturnType<typeof readNames>): TagRule[] {
  const tags: TagRule[] = [];
  for (const [i, item] of (r.list(root.get('tags')?.value, 'tags') ?? []).entries()) {
    const where = `tags[${i}]`;
    const e = r.map(item, where, { required: ['names', 'signers'], optional: ['branch'] });
    if (!e) continue;
    const branchValue = e.get('branch')?.value;
    let branch = r.str(branchValue, `${where}.branch`);
    if (branch !== null && branchValue) {
      branch = branch.startsWith('refs/') ? branch : `refs/heads/${branch}`;
      if (!branch.startsWith('refs/heads/') || globProblem(branch) || /[*?]/.test(branch)) {
        r.issue(branchValue.at, `${where}.branch must name one branch (main or refs/heads/main)`);
        branch = null;
      }
    }
    const globs = r.globs(e.get('names')?.value, `${where}.names`) ?? [];
    tags.push({ label: label(where, item.at), names: globs, signers: readSigners(r, e.get('signers')?.value, `${where}.signers`, names), branch });
  }
  return tags;
}

/** `pushes`: who may push to which refs (a signed push certificate, checked by the server hook). */
function readPushes(r: SchemaReader, root: Entries, names: ReturnType<typeof readNames>): PushRule[] | null {
  if (!root.has('pushes')) return null;
  const pushes: PushRule[] = [];
  for (const [i, item] of (r.list(root.get('pushes')?.value, 'pushes') ?? []).entries()) {
    const where = `pushes[${i}]`;
    const e = r.map(item, where, { required: ['refs', 'signers'] });
    if (!e) continue;
    const refs = r.globs(e.get('refs')?.value, `${where}.refs`) ?? [];
    pushes.push({ label: label(where, item.at), refs, signers: readSigners(r, e.get('signers')?.value, `${where}.signers`, names) });
  }
  return pushes;
}

function readPolicySection(r: SchemaReader, root: Entries, names: ReturnType<typeof readNames>): PolicySection {
  const v = root.get('policy')?.value;
  const e = r.map(v, 'policy', { required: ['signers'], optional: ['threshold'] });
  const signers = e ? readSigners(r, e.get('signers')?.value, 'policy.signers', names) : new Set<string>();
  const thresholdValue = e?.get('threshold')?.value;
  const threshold = thresholdValue ? (r.int(thresholdValue, 'policy.threshold', 1) ?? 1) : 1;
  if (thresholdValue && threshold > signers.size && signers.size > 0) {
    r.issue(thresholdValue.at, `policy.threshold ${threshold} is more than the ${signers.size} principal${signers.size === 1 ? '' : 's'} policy.signers names: no change could ever be made`);
  }
  return { label: label('policy', v?.at ?? { line: 1, col: 1 }), signers, threshold };
}

function readTime(r: SchemaReader, v: YValue | undefined, where: string): Date | null {
  const s = r.str(v, where);
  if (s === null || !v) return null;
  const m = TIME.exec(s);
  const d = new Date(s.replace(' ', 'T'));
  // Date accepts 2024-02-30; the fields must survive the round trip (in UTC when the zone is Z).
  if (!m || Number.isNaN(d.getTime()) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 59) {
    r.issue(v.at, `${where} must be an RFC 3339 time with a zone, such as 2024-05-01T00:00:00Z`);
    return null;
  }
  return d;
}

function readRevoked(r: SchemaReader, root: Entries): Revocation[] {
  const out: Revocation[] = [];
  for (const [i, item] of (r.list(root.get('revoked')?.value, 'revoked') ?? []).entries()) {
    const where = `revoked[${i}]`;
    if (item.kind === 'refused') continue;
    if (item.kind !== 'map') {
      r.issue(item.at, `${where} must be a mapping (issuer, subject or subjectPattern, after, reason)`);
      continue;
    }
    // The identity keys plus when and why, read as one mapping.
    const identityPart: YValue = { ...item, entries: new Map([...item.entries].filter(([k]) => k !== 'after' && k !== 'reason')) };
    const id = readIdentity(r, identityPart, where);
    for (const key of ['after', 'reason']) if (!item.entries.has(key)) r.issue(item.at, `${where} has no ${key}`);
    const after = readTime(r, item.entries.get('after')?.value, `${where}.after`);
    const reason = r.str(item.entries.get('reason')?.value, `${where}.reason`);
    if (id && after && reason !== null) out.push({ ...id, after, reason });
  }
  return out;
}

function readAllow(r: SchemaReader, root: Entries): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, item] of (r.list(root.get('allow')?.value, 'allow') ?? []).entries()) {
    const where = `allow[${i}]`;
    const e = r.map(item, where, { required: ['commit', 'note'] });
    if (!e) continue;
    const commitValue = e.get('commit')?.value;
    const commit = r.str(commitValue, `${where}.commit`);
    const note = r.str(e.get('note')?.value, `${where}.note`);
    if (commit !== null && commitValue && !COMMIT_ID.test(commit)) r.issue(commitValue.at, `${where}.commit must be a full commit ID (40 or 64 lowercase hex digits)`);
    else if (commit !== null && note !== null) out.set(commit, note);
  }
  return out;
}

/** The canonical JSON of a value: map keys sorted, so formatting and key order do not make two policies differ. */
function canonical(v: YValue): unknown {
  if (v.kind === 'scalar') return v.value;
  if (v.kind === 'refused') return null;
  if (v.kind === 'seq') return v.items.map(canonical);
  return Object.fromEntries([...v.entries.keys()].sort().map((k) => [k, canonical((v.entries.get(k) as { value: YValue }).value)]));
}

const TOP_KEYS = { required: ['version', 'serial', 'principals', 'rules', 'policy'], optional: ['groups', 'tags', 'revoked', 'allow', 'merges', 'pushes'] };

function readPolicy(r: SchemaReader, value: YValue): Policy | null {
  const root = r.map(value, 'the policy', TOP_KEYS);
  if (!root) return null;
  const versionValue = root.get('version')?.value;
  if (versionValue && versionValue.kind !== 'refused' && !(versionValue.kind === 'scalar' && versionValue.value === POLICY_VERSION)) {
    r.issue(versionValue.at, `unsupported policy version ${versionValue.kind === 'scalar' ? JSON.stringify(versionValue.value) : '(not a number)'}: this gitsign-ts reads version ${POLICY_VERSION}`);
    return null; // another version's keys would only produce noise
  }
  const serial = r.int(root.get('serial')?.value, 'serial', 0);
  const names = readNames(r, root);
  const rules = readRules(r, root, names);
  const tags = readTags(r, root, names);
  const policy = readPolicySection(r, root, names);
  const revoked = readRevoked(r, root);
  const allow = readAllow(r, root);
  const pushes = readPushes(r, root, names);
  const mergesValue = root.get('merges')?.value;
  const merges = mergesValue ? r.str(mergesValue, 'merges') : 'strict';
  if (mergesValue && merges !== null && merges !== 'endorse' && merges !== 'strict') r.issue(mergesValue.at, `merges must be endorse or strict, not ${JSON.stringify(merges)}`);
  if (r.issues.length || serial === null) return null;
  return {
    version: POLICY_VERSION,
    serial,
    principals: names.principals,
    rules,
    tags,
    policy,
    revoked,
    allow,
    merges: merges === 'endorse' ? 'endorse' : 'strict',
    pushes,
    key: JSON.stringify(canonical(value)),
  };
}

/** Parses a policy file's bytes; `file` names it in the errors. */
export function parsePolicy(bytes: Buffer, file: string): Policy {
  const fail = (message: string): never => {
    throw new PolicyError(file, [{ line: 1, col: 1, message }]);
  };
  if (bytes.length > MAX_POLICY_BYTES) fail(`the file is ${bytes.length} bytes; a policy is at most ${MAX_POLICY_BYTES}`);
  let text = '';
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('the file is not UTF-8 text');
  }
  const { value, issues } = readYaml(text);
  if (!value) throw new PolicyError(file, issues.length ? issues : [{ line: 1, col: 1, message: 'the policy is empty' }]);
  // The schema is read even after a YAML problem (a duplicate key, an anchor), so one run shows every problem.
  const r = new SchemaReader();
  const policy = readPolicy(r, value);
  const all = [...issues, ...r.issues];
  if (!policy || all.length) throw new PolicyError(file, all.length ? all : [{ line: 1, col: 1, message: 'not a policy' }]);
  return policy;
}
