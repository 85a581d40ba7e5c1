import { GitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { runGit } from '../git/run';
import type { Signer } from '../policy/identity';
import { parsePolicy } from '../policy/parse';
import { POLICY_PATH, type Policy } from '../policy/policy';
import { type OpenPgpKey, type OpenPgpKeyring, readOpenPgpKeys, verifyOpenPgp } from '../openpgp';
import { checkRevision } from './history';
import type { OpenPgpChecker } from './formats';
import { policyFilesAt } from './policyAt';
import type { SignatureFacts } from './types';

/**
 * OpenPGP signatures in an audit. They are verified against every OpenPGP certificate of every policy
 * version the audit could read (the trust root, every version of .gitsign/policy.yaml in the history
 * of the range's tips, the --policy file): a verification by a certificate whose fingerprint matches
 * is sound whatever policy carried it, since the fingerprint binds the key; the policy that governs
 * the object then decides whether that fingerprint is one of its principals. The certificates are
 * gathered, and openpgp.js loaded (by src/openpgp), only when the first OpenPGP-signed object is met.
 */
export interface KeyringSources {
  /** A range, or several revisions (the server hook's updated refs). */
  range: string | readonly string[];
  trustRoot?: string;
  policyFile?: Buffer;
  cwd?: string;
}

/** Policy versions read for their certificates, at most: a longer policy history is refused, not truncated. */
const MAX_POLICY_VERSIONS = 10_000;

/** The blob IDs of every version of the policy file in the history of the range's tips (their negative ends dropped). */
async function policyBlobs(src: KeyringSources): Promise<string[]> {
  const revs = typeof src.range === 'string' ? [src.range] : src.range;
  if (revs.length === 0) return [];
  const parsed = await runGit(['rev-parse', '--revs-only', '--end-of-options', ...revs], { cwd: src.cwd });
  if (parsed.code !== 0) throw new GitsignError('GIT', `cannot read the range ${JSON.stringify(src.range)}`);
  const tips = parsed.stdout.toString('latin1').split('\n').filter((l) => /^[0-9a-f]{40,64}$/.test(l));
  if (tips.length === 0) return [];
  const log = await runGit(['log', '--no-renames', '--no-abbrev', '--format=', '--raw', ...tips, '--', POLICY_PATH], { cwd: src.cwd });
  if (log.code !== 0) throw new GitsignError('GIT', 'git log of the policy file failed');
  const blobs = new Set<string>();
  for (const line of log.stdout.toString('latin1').split('\n')) {
    const m = /^:\d+ \d+ [0-9a-f]+ ([0-9a-f]+) /.exec(line);
    if (m && !/^0+$/.test(m[1])) blobs.add(m[1]);
  }
  if (blobs.size > MAX_POLICY_VERSIONS) throw new GitsignError('POLICY', `${POLICY_PATH} has ${blobs.size} versions; at most ${MAX_POLICY_VERSIONS} are read for OpenPGP certificates`);
  return [...blobs];
}

function certificatesOf(policy: Policy): string[] {
  const out: string[] = [];
  for (const spec of [...[...policy.principals.values()].flat(), ...policy.revoked]) {
    if (spec.key?.kind === 'openpgp' && spec.key.certificate) out.push(spec.key.certificate);
  }
  return out;
}

/** Every certificate the policies the audit may read carry (a policy that does not parse carries none). */
export async function policyCertificates(src: KeyringSources): Promise<string[]> {
  const texts: Buffer[] = src.policyFile ? [src.policyFile] : [];
  const catFile = new CatFile(src.cwd);
  try {
    if (src.trustRoot !== undefined) {
      checkRevision(src.trustRoot, 'the trust root');
      const files = await policyFilesAt(src.trustRoot, catFile, src.cwd);
      if (files.policy && !files.unreadable) texts.push(files.policy);
    }
    if (!src.policyFile) {
      for (const blob of await policyBlobs(src)) {
        const obj = await catFile.read(blob);
        if (obj?.type === 'blob') texts.push(obj.raw);
      }
    }
  } finally {
    catFile.close();
  }
  const certs = new Set<string>();
  for (const bytes of texts) {
    try {
      certificatesOf(parsePolicy(bytes, POLICY_PATH)).forEach((c) => certs.add(c));
    } catch {
      // A version that does not parse is never adopted: its certificates verify nothing anyone trusts.
    }
  }
  return [...certs];
}

/** One certificate that does not read is left out (its principal's signatures then stay unverified), not the audit. */
async function keyringOf(certificates: string[]): Promise<OpenPgpKeyring> {
  const keys: OpenPgpKey[] = [];
  for (const c of certificates) {
    try {
      keys.push(...(await readOpenPgpKeys([c])).keys);
    } catch {
      // left out, as said
    }
  }
  return { keys };
}

const upper = (fingerprint: string): string => fingerprint.replace(/\s+/g, '').toUpperCase();

/** The checker, created on the first OpenPGP-signed object: reads the keyring once. */
export function openPgpChecker(src: KeyringSources): () => OpenPgpChecker {
  return () => {
    const ready = policyCertificates(src).then(keyringOf);
    return async (signature, payload): Promise<SignatureFacts> => {
      const r = await verifyOpenPgp(signature, payload, await ready);
      if (r.state === 'verified') {
        const fingerprint = upper(r.fingerprint);
        const signer: Signer = { identities: [fingerprint, ...r.userIds], issuer: '', claim: () => undefined, key: { kind: 'openpgp', fingerprint, claimedTime: r.claimedTime } };
        return { state: 'verified', kind: 'openpgp', signer, time: r.claimedTime, timeSource: 'claimed', logIndex: null, notChecked: [] };
      }
      if (r.state === 'unknown-key') {
        const who = r.fingerprint ? upper(r.fingerprint) : r.keyId ? `key ID ${r.keyId.toUpperCase()}` : 'an unnamed key';
        return { state: 'error', kind: 'openpgp', code: 'OPENPGP_UNKNOWN_KEY', message: `signed by ${who}, whose certificate no policy the audit read carries`, identities: [r.fingerprint ? upper(r.fingerprint) : (r.keyId ?? '').toUpperCase()].filter(Boolean), issuer: null };
      }
      return { state: 'error', kind: 'openpgp', code: r.code, message: r.message, identities: [], issuer: null };
    };
  };
}
