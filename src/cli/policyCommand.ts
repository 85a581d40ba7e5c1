import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkRevision } from '../audit/history';
import { loadConfig } from '../config/config';
import { GitsignError, quoted, toGitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { revList } from '../git/revisions';
import { runGit } from '../git/run';
import { PolicyError, parsePolicy } from '../policy/parse';
import { type KeySpec, type Policy, POLICY_PATH } from '../policy/policy';
import type { PolicyIssue } from '../policy/yamlTree';
import { type FoundIdentity, foundIdentity, foundKey, starterPolicy } from '../policy/starter';
import type { SignatureFacts } from '../audit/types';
import { readPolicyFile } from '../policy/file';
import { clip } from '../text/terminal';
import { verifySettings } from '../verify/settings';
import { auditVerifier, type TrustArgs, trustFlags } from './auditVerifier';
import { printErr, printOut } from './io';

/**
 * `gitsign policy check [FILE]`: is FILE (default: the repository's .gitsign/policy.yaml) a valid
 * policy? Exit 0 with a one-line description, or 1 with every problem, its line, column and source line.
 * `gitsign policy init [RANGE] [-o FILE] [--force]`: a starting policy from the verified signers of RANGE.
 */
export interface PolicyCheckArgs {
  file?: string;
}

export interface PolicyInitArgs extends TrustArgs {
  range?: string;
  output?: string;
  force?: boolean;
}

/** The repository's policy file (at its top level), or the path as given. */
async function policyPath(file: string | undefined): Promise<string> {
  if (file !== undefined) return file;
  const top = await runGit(['rev-parse', '--show-toplevel']);
  if (top.code !== 0) throw new GitsignError('USAGE', `not in a git repository: name the policy file (gitsign policy check FILE)`);
  return join(top.stdout.toString('utf8').trim(), POLICY_PATH);
}

/** Each problem as FILE:LINE:COL: message, then the line it is on and a caret under the column. */
function explain(file: string, bytes: Buffer, err: PolicyError): string[] {
  const source = bytes.toString('utf8').split(/\r?\n/);
  const out: string[] = [];
  for (const i of [...err.issues].sort((a, b) => a.line - b.line || a.col - b.col).slice(0, 100)) {
    out.push(`${file}:${i.line}:${i.col}: ${i.message}`);
    const text = source[i.line - 1];
    if (text !== undefined && text.trim() !== '') out.push(`  ${String(i.line).padStart(4)} | ${clip(text, 200)}`, `       | ${' '.repeat(Math.min(i.col - 1, 200))}^`);
  }
  if (err.issues.length > 100) out.push(`... and ${err.issues.length - 100} more problems`);
  return out;
}

/**
 * The OpenPGP certificates a policy carries, read as an audit would read them: one that does not read,
 * or whose primary key is not the fingerprint stated beside it, would verify nothing (its principal's
 * signatures would all be OPENPGP_UNKNOWN_KEY), so policy check says so at its line.
 */
async function certificateIssues(policy: Policy): Promise<PolicyIssue[]> {
  const specs = [...[...policy.principals.values()].flat(), ...policy.revoked].filter((s) => s.key?.kind === 'openpgp' && s.key.certificate);
  if (specs.length === 0) return [];
  const { readOpenPgpKeys } = await import('../openpgp');
  const issues: PolicyIssue[] = [];
  for (const spec of specs) {
    const key = spec.key as Extract<KeySpec, { kind: 'openpgp' }>;
    try {
      const found = (await readOpenPgpKeys([key.certificate as string])).keys.map((k) => k.fingerprint.toUpperCase());
      if (!found.includes(key.fingerprint)) issues.push({ line: spec.line, col: 1, message: `the OpenPGP certificate given for ${key.fingerprint} is the key ${found.join(', ') || '(none)'}: the fingerprint and the certificate must be of the same key` });
    } catch (err) {
      issues.push({ line: spec.line, col: 1, message: `the OpenPGP certificate given for ${key.fingerprint} cannot be read: ${toGitsignError(err).message}` });
    }
  }
  return issues;
}

export async function policyCheckCommand(args: PolicyCheckArgs): Promise<number> {
  const file = await policyPath(args.file);
  const bytes = readPolicyFile(file);
  try {
    const p = parsePolicy(bytes, file);
    const issues = await certificateIssues(p);
    if (issues.length) throw new PolicyError(file, issues);
    const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
    printOut(
      `${file}: a valid policy (version ${p.version}, serial ${p.serial}): ${count(p.principals.size, 'principal')}, ${count(p.rules.length, 'rule')}, ${count(p.tags.length, 'tag rule')}, ` +
        `policy changes by ${p.policy.threshold} of ${count(p.policy.signers.size, 'principal')}, ${count(p.revoked.length, 'revocation')}, ${count(p.allow.size, 're-admitted object')}, merges: ${p.merges}`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof PolicyError)) throw err;
    printErr(...explain(file, bytes, err));
    printErr(`gitsign: ${file}: not a valid policy (${err.issues.length} problem${err.issues.length === 1 ? '' : 's'}); see gitsign-policy(5)`);
    return 1;
  }
}

/**
 * An OpenPGP signature no certificate verified (no policy carries one yet): its issuer fingerprint is
 * proposed as a principal, for a human to name and complete with the certificate.
 */
function unverifiedOpenPgpKey(facts: Extract<SignatureFacts, { state: 'error' }>): Omit<FoundIdentity, 'commits'> | null {
  const fingerprint = facts.identities[0] ?? '';
  if (facts.code !== 'OPENPGP_UNKNOWN_KEY' || !/^([0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/.test(fingerprint)) return null;
  return { issuer: '', subject: '', claims: [], key: { kind: 'openpgp', fingerprint, userIds: [], verified: false, ...(fingerprint.length === 16 ? { keyIdOnly: true } : {}) } };
}

/** Writes the file, creating it: an existing file is kept unless --force. */
function writeNew(path: string, text: string, force: boolean): void {
  let fd: number;
  try {
    fd = openSync(path, force ? 'w' : 'wx', 0o644);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new GitsignError('USAGE', `${path} exists; it is kept (--force replaces it)`);
    throw new GitsignError('USAGE', `cannot write ${quoted(path)}: ${code ?? 'write error'}`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export async function policyInitCommand(args: PolicyInitArgs): Promise<number> {
  const range = args.range ?? 'HEAD';
  checkRevision(range, 'the range');
  const target = args.output === '-' ? null : await policyPath(args.output);
  const cfg = loadConfig();
  const flags = trustFlags(args, cfg);
  const settings = await verifySettings(cfg, flags);
  const shas = await revList(range);
  if (shas.length === 0) throw new GitsignError('USAGE', `${quoted(range)} holds no commit`);
  const verifier = (await auditVerifier(args, cfg, flags, settings, { range })).verifier(shas.length, shas);
  const catFile = new CatFile();
  const found = new Map<string, FoundIdentity>();
  const skipped = { unsigned: 0, unverified: 0 };
  try {
    async function* names(): AsyncGenerator<string> {
      yield* shas;
    }
    const pending: Promise<void>[] = [];
    for await (const { object } of catFile.readAll(names())) {
      if (!object) continue;
      pending.push(
        verifier.verify(object).then((facts) => {
          if (facts.state === 'unsigned') skipped.unsigned++;
          else {
            const id = facts.state === 'error' ? unverifiedOpenPgpKey(facts) : foundIdentity(facts.signer);
            if (!id) return void skipped.unverified++;
            const k = foundKey(id);
            const known = found.get(k);
            if (known) known.commits++;
            else found.set(k, { ...id, commits: 1 });
          }
        }),
      );
      while (pending.length >= 64) await pending.shift();
    }
    await Promise.all(pending);
  } finally {
    catFile.close();
    await verifier.close();
  }
  if (![...found.values()].some((f) => !f.key?.keyIdOnly)) throw new GitsignError('USAGE', `no verified signature in ${quoted(range)} (${skipped.unsigned} unsigned, ${skipped.unverified} not verified): nothing to start a policy from`);
  const identities = [...found.values()].sort((a, b) => b.commits - a.commits || a.subject.localeCompare(b.subject));
  const text = starterPolicy(identities, range, shas.length);
  // What we write must be what we read: checked before it is written.
  parsePolicy(Buffer.from(text), target ?? 'the starting policy');
  if (target === null) {
    printOut(...text.replace(/\n$/, '').split('\n'));
  } else {
    if (args.output === undefined) mkdirSync(dirname(target), { recursive: true });
    writeNew(target, text, Boolean(args.force));
    printErr(`gitsign: wrote ${target}: ${identities.length} principal${identities.length === 1 ? '' : 's'} from ${shas.length - skipped.unsigned - skipped.unverified} verified commits (${skipped.unsigned} unsigned and ${skipped.unverified} not verified were skipped); review it, then commit it`);
  }
  return 0;
}
