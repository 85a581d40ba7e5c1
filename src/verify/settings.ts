import type { Config } from '../config/config';
import { parseDetachedSct } from './detachedSct';
import type { IdentityCheck } from './identity';
import type { Sct } from './sct';
import type { VerifyOptions } from './signature';
import { loadTrust, type LoadedTrust, trustOptionsFromConfig } from '../trust/trustMaterial';

/** Everything verification needs that does not change between objects: loaded once per process. */
export interface VerifySettings {
  trust: LoadedTrust;
  offline: boolean;
  rekorUrl: string;
  ignoreTlog: boolean;
  ignoreSct: boolean;
  /** The detached SCT given with --sct, for a certificate that embeds none. */
  detachedSct?: Sct;
  /** Many objects are verified at once: their signature checks run on libuv's thread pool (see verifyOffThread). */
  concurrent: boolean;
}

/** The verify flags, as they also reach the verification workers. */
export interface VerifyFlags {
  offline: boolean;
  trustedRoot?: string;
  ignoreTlog: boolean;
  ignoreSct: boolean;
  /** The text of the --sct file (read once, by the command). */
  detachedSct?: string;
  concurrent?: boolean;
}

export async function verifySettings(cfg: Config, flags: VerifyFlags, env: NodeJS.ProcessEnv = process.env): Promise<VerifySettings> {
  // Read before the trust root: a bad --sct file is a usage problem, whatever the trust root.
  const detachedSct = flags.detachedSct === undefined ? undefined : parseDetachedSct(flags.detachedSct);
  const trust = await loadTrust(trustOptionsFromConfig(cfg, flags, env));
  return { trust, offline: flags.offline, rekorUrl: cfg.rekor.replace(/\/+$/, ''), ignoreTlog: flags.ignoreTlog, ignoreSct: flags.ignoreSct, detachedSct, concurrent: Boolean(flags.concurrent) };
}

/**
 * Options for one signature: the log entry of an online-mode signature is searched by object SHA.
 * The SHA and the Rekor client are only computed and loaded for such a signature (git's hot path
 * mostly verifies embedded entries).
 */
export function signatureOptions(settings: VerifySettings, objectSha: () => string, identity: IdentityCheck, requireSignedMessageLabel: boolean): VerifyOptions {
  return {
    trust: settings.trust.material,
    findOnlineEntry: settings.offline
      ? undefined
      : async (cert) => (await import('./onlineEntry')).onlineEntryFinder(settings.rekorUrl, objectSha())(cert),
    ignoreTlog: settings.ignoreTlog,
    ignoreSct: settings.ignoreSct,
    detachedSct: settings.detachedSct,
    identity,
    requireSignedMessageLabel,
    concurrent: settings.concurrent,
  };
}
