import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { runAudit } from '../audit/engine';
import { checkRevision } from '../audit/history';
import type { AuditEntry } from '../audit/types';
import { loadConfig } from '../config/config';
import { cannotRead, GitsignError, quoted, toGitsignError } from '../errors';
import type { ObjectType } from '../git/rawobj';
import { runGit } from '../git/run';
import type { TrustLevel } from '../git/status';
import { readPolicyFile } from '../policy/file';
import { verifySettings } from '../verify/settings';
import { openPathCache } from '../audit/pathCache';
import { VERSION } from './version';
import { auditVerifier } from './auditVerifier';

/**
 * The signing policy on git's own verify calls (gitsign.policy): a good signature is trusted FULLY
 * when the policy authorizes its object, NEVER when the policy refuses it, UNDEFINED when the policy
 * cannot be evaluated. Loaded only when gitsign.policy is set (its own bundle file: the audit, the
 * policy and YAML stay out of git's hot path).
 *
 * What git does with the trust level (git's gpg-interface.c, commit.c, pretty.c, builtin/merge.c and
 * builtin/pull.c; the same in git 2.39 and today):
 * - a `TRUST_<LEVEL>` status line sets the signature's trust level (UNDEFINED < NEVER < MARGINAL <
 *   FULLY < ULTIMATE); an unknown level makes the signature E.
 * - %G? shows U for a good signature whose trust is UNDEFINED or NEVER, G above.
 * - check_signature() (verify-commit, verify-tag, log --show-signature) fails when the trust is below
 *   gpg.minTrustLevel, which defaults to UNDEFINED: so by default verify-commit still exits 0 for an
 *   untrusted good signature, and fails with gpg.minTrustLevel=marginal (or fully).
 * - merge/pull --verify-signatures die ("Commit X has an untrusted GPG signature, allegedly by S.")
 *   below MARGINAL when gpg.minTrustLevel is unset; once it is set (to anything), they use it instead.
 * Our exit status stays 0 for a good signature (as gpg's), so git's settings decide, as for gpg.
 *
 * git passes only the payload and the signature: the object's ID is rebuilt from them (as for the
 * Rekor search) and the object is judged in the repository by `gitsign audit`'s engine, from the trust
 * root up to it, so git's answer is the audit's answer for that object: the policy its parents leave
 * (never a policy read from their trees, which anyone could have changed on the way), with every
 * earlier change of the policy judged too.
 */
export interface PolicyTrust {
  trust: TrustLevel;
  /** One line for stderr (git shows it), saying what the policy decided or why it could not. */
  line: string;
}

const PUSH_CERT = Buffer.from('certificate version ');

/** Why the policy could not say: the signature is good, its signer not trusted. */
const undecided = (why: string): PolicyTrust => ({ trust: 'UNDEFINED', line: `gitsign: policy: not trusted: ${why}` });

async function gitLine(args: string[]): Promise<string | null> {
  const r = await runGit(args);
  return r.code === 0 ? r.stdout.toString('utf8').trim() : null;
}

/** The policy file of gitsign.policy: an absolute path outside the worktree (a checkout must not be able to write it). */
async function policyFile(path: string): Promise<{ name: string; bytes: Buffer } | string> {
  if (!isAbsolute(path)) return `gitsign.policy must be true, false or an absolute path to a policy file outside the repository, not ${quoted(path)}`;
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    return cannotRead('USAGE', 'the policy file', path, err).message;
  }
  const top = await gitLine(['rev-parse', '--show-toplevel']);
  if (top) {
    const rel = relative(realpathSync(top), real);
    if (!rel.startsWith('..') && !isAbsolute(rel)) return `the policy file ${quoted(path)} is inside the repository's worktree, where any checkout can change it: keep it outside`;
  }
  try {
    // readPolicyFile refuses a FIFO or a device on the open descriptor: reading one could wait for ever (git waits for us).
    return { name: path, bytes: readPolicyFile(real, path) };
  } catch (err) {
    if (err instanceof GitsignError) return err.message;
    throw err;
  }
}

/** The commit an object stands for: itself, or the commit a tag tags directly. */
async function targetOf(type: ObjectType, sha: string): Promise<string | null> {
  if (type === 'commit') return (await gitLine(['cat-file', '-t', sha])) === 'commit' ? sha : null;
  if ((await gitLine(['cat-file', '-t', sha])) !== 'tag') return null;
  const target = await gitLine(['rev-parse', '-q', '--verify', `${sha}^{}`]);
  return target && (await gitLine(['cat-file', '-t', target])) === 'commit' ? target : null;
}

function fromEntry(e: AuditEntry): PolicyTrust {
  const where = [e.rule, `policy serial ${e.policySerial ?? '-'}`].filter(Boolean).join(', ');
  if (e.status === 'ok' || e.status === 'endorsed') return { trust: 'FULLY', line: `gitsign: policy: authorized (${where}): ${e.message}` };
  if (e.status === 'error') return undecided(`${e.reason}: ${e.message}`);
  return { trust: 'NEVER', line: `gitsign: policy: not trusted: ${e.status} ${e.reason} (${where}): ${e.message}` };
}

async function judge(type: ObjectType, sha: string): Promise<PolicyTrust> {
  const cfg = loadConfig(process.env, undefined, () => undefined);
  const fileMode = cfg.policy !== 'true';
  const file = fileMode ? await policyFile(cfg.policy) : null;
  if (typeof file === 'string') return undecided(file);
  const target = await targetOf(type, sha);
  if (!target) return undecided(`the ${type} ${sha} is not in this repository (or tags no commit), so nothing says which policy governs it`);

  let range: string;
  let trustRoot: string | undefined;
  if (file) {
    // One policy judges every commit alone: the object's own commit is all there is to judge.
    range = `${target}^!`;
  } else {
    const root = cfg.auditTrustRoot;
    if (!root) return undecided('no trust root: say which commit\'s policy to trust with git config gitsign.audit.trustRoot REV (or set gitsign.policy to a policy file)');
    checkRevision(root, 'the trust root');
    trustRoot = (await gitLine(['rev-parse', '-q', '--verify', '--end-of-options', `${root}^{commit}`])) ?? undefined;
    if (!trustRoot) return undecided(`the trust root ${quoted(root)} (gitsign.audit.trustRoot) names no commit`);
    const after = trustRoot !== target && (await runGit(['merge-base', '--is-ancestor', trustRoot, target])).code === 0;
    if (!after) return undecided(`${target} is not after the trust root ${trustRoot}: the policy judges only the commits that descend from it`);
    range = `${trustRoot}..${target}`;
  }

  const flags = { offline: cfg.offline, ignoreTlog: false, ignoreSct: false };
  const settings = await verifySettings(cfg, flags);
  // The branch checked out is where merge and pull put what they verify: rules' refs match it.
  const head = await gitLine(['symbolic-ref', '-q', 'HEAD']);
  const report = await runAudit({
    range,
    ref: head ?? undefined,
    trustRoot,
    policyFile: file ?? undefined,
    keepGoing: false,
    // SSH- and OpenPGP-signed commits of the history count too: they may change the policy in force.
    verifier: (await auditVerifier({}, cfg, flags, settings, { range, trustRoot, policyFile: file?.bytes })).verifier,
    approvals: { trust: settings.trust.material, rekorUrl: settings.rekorUrl, ignoreSct: settings.ignoreSct, offline: flags.offline },
    pathCache: await openPathCache(VERSION),
  });
  const entry = report.entries.find((e) => e.object === sha && e.type === type);
  if (!entry) return undecided(`the ${type} ${sha} is not in the audited history ${range}${type === 'tag' ? ' (a tag is judged under refs/tags by its own name)' : ''}`);
  return fromEntry(entry);
}

/**
 * The trust the policy gives the object of a good signature; never throws (an error is "not trusted",
 * said why). Null for a push certificate: receive-pack keeps only its G/B status, never its trust, and
 * the policy's push rules are the server hook's to apply.
 */
export async function policyTrust(type: ObjectType, sha: string, payload: Buffer): Promise<PolicyTrust | null> {
  if (payload.subarray(0, PUSH_CERT.length).equals(PUSH_CERT)) return null;
  try {
    return await judge(type, sha);
  } catch (err) {
    return undecided(toGitsignError(err).message);
  }
}
