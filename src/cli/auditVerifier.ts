import { availableParallelism } from 'node:os';
import { withResultCache } from '../audit/cachedVerifier';
import { withKeyFormats } from '../audit/formats';
import { type KeyringSources, openPgpChecker } from '../audit/formatsOpenPgp';
import type { AuditRecords, VerifierFactory } from '../audit/engine';
import { factsFromReport } from '../audit/signatures';
import type { SignatureFacts } from '../audit/types';
import type { Config } from '../config/config';
import type { RawObject } from '../git/catFile';
import { verifyGitObject } from '../verify/gitObject';
import type { JsonReport } from '../verify/jsonReport';
import type { VerifyFlags, VerifySettings } from '../verify/settings';
import { type RenderedOutcome, renderFailure, renderOutcome } from './verifyOutput';
import { VerifyPool } from './verifyPool';

/**
 * The signature checks of `gitsign audit` and `gitsign policy init`: exactly `gitsign verify --json`'s
 * (same trust options, same worker pool), with no identity required: the policy decides who may sign.
 */
/** Fewer objects than this are checked in this thread: starting workers costs more than it saves. */
const POOL_FROM = 16;

const NONE = { kind: 'none' as const };

/** What `gitsign verify --json` says about the object, as facts (one reading for the pool's and this thread's answers). */
function factsOf(r: RenderedOutcome, obj: RawObject): SignatureFacts {
  try {
    return factsFromReport(JSON.parse(r.out[0] ?? '') as JsonReport, obj);
  } catch {
    return { state: 'error', code: 'VERIFIER_FAILED', message: 'the verifier gave no report for this object', identities: [], issuer: null };
  }
}

/** `gitsign verify`'s trust options, as both commands take them. */
export interface TrustArgs {
  'insecure-ignore-sct'?: boolean;
  'insecure-ignore-tlog'?: boolean;
  offline?: boolean;
  'trusted-root'?: string;
  /** false with --no-cache. */
  cache?: boolean;
}

export function trustFlags(args: TrustArgs, cfg: Config): VerifyFlags {
  return { offline: Boolean(args.offline) || cfg.offline, trustedRoot: args['trusted-root'], ignoreTlog: Boolean(args['insecure-ignore-tlog']), ignoreSct: Boolean(args['insecure-ignore-sct']) };
}

/**
 * The checker of every audit-like command: SSH and OpenPGP signatures (OpenPGP against the certificates
 * the policies of `keyring` carry) in front of gitsign verify's checks, which sit behind the repository's
 * result cache unless --no-cache (only gitsign's results are kept: the others depend on the keys); and
 * where that cache keeps the records of audits.
 */
export async function auditVerifier(args: TrustArgs, cfg: Config, flags: VerifyFlags, settings: VerifySettings, keyring: KeyringSources): Promise<{ verifier: VerifierFactory; records?: AuditRecords; readAhead?: () => void }> {
  const checks = verifierFor(cfg, flags, settings);
  const cached = args.cache === false ? { factory: checks } : await withResultCache(checks, settings, (await import('./version')).VERSION, keyring.cwd);
  return { verifier: withKeyFormats(cached.factory, openPgpChecker(keyring)), records: cached.records, readAhead: cached.readAhead };
}

export function verifierFor(cfg: Config, flags: VerifyFlags, settings: VerifySettings): VerifierFactory {
  const render = { json: true, heading: false };
  return (count) => {
    if (count < POOL_FROM) {
      return {
        verify: async (obj) => {
          const r = await verifyGitObject(obj, settings, NONE).then(
            (o) => renderOutcome(obj, o, render),
            (err: unknown) => renderFailure(obj, err, NONE, render),
          );
          return factsOf(r, obj);
        },
        close: async () => undefined,
      };
    }
    const pool = new VerifyPool(Math.min(availableParallelism(), 4), { cfg, flags, identity: NONE, render });
    return { verify: async (obj) => factsOf(await pool.verify(obj), obj), close: () => pool.close() };
  };
}
