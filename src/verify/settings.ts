import type { Config } from '../config/config';
import { loadTrust, type LoadedTrust, trustOptionsFromConfig } from '../trust/trustMaterial';

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
  const trust = await loadTrust(trustOptionsFromConfig(cfg, flags, env));
  return { trust, offline: flags.offline, rekorUrl: cfg.rekor.replace(/\/+$/, ''), ignoreTlog: flags.ignoreTlog, ignoreSct: flags.ignoreSct };
}
