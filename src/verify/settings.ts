import type { Config } from '../config/config';
import { loadTrust, type LoadedTrust } from '../trust/trustMaterial';

/** Everything verification needs that does not change between objects: loaded once per process. */
export interface VerifySettings {
  trust: LoadedTrust;
  offline: boolean;
  rekorUrl: string;
  ignoreTlog: boolean;
  ignoreSct: boolean;
}

export async function verifySettings(
  cfg: Config,
  flags: { offline: boolean; trustedRoot?: string; ignoreTlog: boolean; ignoreSct: boolean },
  env: NodeJS.ProcessEnv = process.env,
): Promise<VerifySettings> {
  const trust = await loadTrust({
    trustedRootPath: flags.trustedRoot || cfg.trustedRoot || undefined,
    fulcioRootPath: cfg.fulcioRoot || undefined,
    rekorPublicKeyPath: env.SIGSTORE_REKOR_PUBLIC_KEY || undefined,
    ctLogPublicKeyPath: env.SIGSTORE_CT_LOG_PUBLIC_KEY_FILE || undefined,
    offline: flags.offline,
  });
  return { trust, offline: flags.offline, rekorUrl: cfg.rekor.replace(/\/+$/, ''), ignoreTlog: flags.ignoreTlog, ignoreSct: flags.ignoreSct };
}
