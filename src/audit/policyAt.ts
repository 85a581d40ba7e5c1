import { GitsignError } from '../errors';
import type { CatFile } from '../git/catFile';
import { runGit } from '../git/run';
import { parsePolicy } from '../policy/parse';
import { POLICY_DIR, POLICY_PATH } from '../policy/policy';
import { MAX_POLICY_BYTES } from '../policy/yamlTree';
import type { PolicyVersion } from './types';

/**
 * A commit's policy files: the `.gitsign` tree ID (which tells a change of the policy directory from
 * none) and the bytes of `.gitsign/policy.yaml`. A file that is not a regular file, or larger than a
 * policy may be, is read as what it is not: a policy (its bytes are never loaded).
 */
export interface PolicyFiles {
  gitsignTree: string | null;
  policy: Buffer | null;
  /** Why the policy file is there but cannot be a policy (its bytes are then not read). */
  unreadable?: string;
}

export async function policyFilesAt(commit: string, catFile: CatFile, cwd?: string): Promise<PolicyFiles> {
  // One git process: -t lists the `.gitsign` tree it descends into as well as the file (a `.gitsign`
  // that is no tree holds no policy, and leaves no tree ID that an adopted version could have).
  const listed = await runGit(['ls-tree', '-t', '-l', '-z', '--end-of-options', commit, '--', POLICY_PATH], { cwd });
  if (listed.code !== 0) throw new GitsignError('GIT', `git ls-tree ${commit}: ${listed.stderr.trim().split('\n').pop() ?? ''}`);
  let gitsignTree: string | null = null;
  let file: RegExpExecArray | null = null;
  for (const entry of listed.stdout.toString('utf8').split('\0')) {
    const m = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t(.*)$/s.exec(entry);
    if (m?.[5] === POLICY_DIR && m[2] === 'tree') gitsignTree = m[3];
    else if (m?.[5] === POLICY_PATH) file = m;
  }
  if (gitsignTree === null) return { gitsignTree, policy: null };
  const m = file;
  if (!m) return { gitsignTree, policy: null };
  const present = { gitsignTree, policy: Buffer.alloc(0) };
  if (m[1] !== '100644' && m[1] !== '100755') return { ...present, unreadable: `${POLICY_PATH} is not a regular file (mode ${m[1]})` };
  if (Number(m[4]) > MAX_POLICY_BYTES) return { ...present, unreadable: `${POLICY_PATH} is ${m[4]} bytes; a policy is at most ${MAX_POLICY_BYTES}` };
  const blob = await catFile.read(m[3]);
  if (!blob || blob.type !== 'blob') throw new GitsignError('GIT', `${commit}:${POLICY_PATH}: blob ${m[3]} is missing`);
  return { gitsignTree, policy: blob.raw };
}

/** The policy at a commit, as a version adopted from there (the trust root); a POLICY error when absent or invalid. */
export async function loadPolicyAt(commit: string, origin: string, catFile: CatFile, cwd?: string): Promise<PolicyVersion> {
  const files = await policyFilesAt(commit, catFile, cwd);
  if (!files.policy) throw new GitsignError('POLICY', `there is no ${POLICY_PATH} at ${origin}`);
  if (files.unreadable) throw new GitsignError('POLICY', `${origin}: ${files.unreadable}`);
  return { policy: parsePolicy(files.policy, `${origin}:${POLICY_PATH}`), origin, gitsignTree: files.gitsignTree, source: files.policy };
}

/**
 * The version a commit adopted, read again from that commit as the audit read it when the commit
 * adopted it (judge.ts: named by the commit); null when it is no longer there as a valid policy.
 */
export function adoptedVersionAt(commit: string, catFile: CatFile, cwd?: string): Promise<PolicyVersion | null> {
  return loadPolicyAt(commit, commit, catFile, cwd).catch(() => null);
}
