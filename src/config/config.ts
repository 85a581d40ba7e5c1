import { execFileSync } from 'node:child_process';
import { GitsignError } from '../errors';
import { setCallDeadlineMs } from '../net/http';
import { allowCleartextHttp } from '../net/transport';

/**
 * gitsign's configuration: defaults, then git config (all scopes, last value wins, keys
 * case-insensitive), then SIGSTORE_* and GITSIGN_* variables (GITSIGN_ wins; set-but-empty counts).
 */
export interface Config {
  fulcio: string;
  fulcioRoot: string;
  rekor: string;
  rekorMode: string;
  enableSigstoreGo: boolean;
  rekorVersion: number;
  clientID: string;
  clientSecretFile: string;
  redirectURL: string;
  issuer: string;
  connectorID: string;
  tokenProvider: string;
  timestampURL: string;
  timestampCert: string;
  logPath: string;
  committerName: string;
  committerEmail: string;
  matchCommitter: boolean;
  autoclose: boolean;
  autocloseTimeout: number;
  urlOpener: string;
  /** Ours: a Sigstore trusted_root.json replacing TUF and the per-service roots. */
  trustedRoot: string;
  /** Ours: verify with no network request at all (git's verify calls take no flags). */
  offline: boolean;
  /** Ours: allow plain http to hosts other than this machine (the ID token then crosses the network in clear). */
  insecureAllowHTTP: boolean;
  /** Ours: seconds one network call may take, retries included, before it is given up. */
  networkTimeout: number;
}

export const DEFAULTS: Config = {
  fulcio: 'https://fulcio.sigstore.dev',
  fulcioRoot: '',
  rekor: 'https://rekor.sigstore.dev',
  // gitsign's default is online; ours embeds the entry so any verifier works without network.
  rekorMode: 'offline',
  enableSigstoreGo: true,
  rekorVersion: 1,
  clientID: 'sigstore',
  clientSecretFile: '',
  redirectURL: '',
  issuer: 'https://oauth2.sigstore.dev/auth',
  connectorID: '',
  tokenProvider: '',
  timestampURL: '',
  timestampCert: '',
  logPath: '',
  committerName: '',
  committerEmail: '',
  matchCommitter: false,
  autoclose: true,
  autocloseTimeout: 6,
  urlOpener: '',
  trustedRoot: '',
  offline: false,
  insecureAllowHTTP: false,
  networkTimeout: 30,
};

/** The range gitsign.networkTimeout accepts, in seconds: a tenth of a second to an hour. */
const NETWORK_TIMEOUT_RANGE = [0.1, 3600] as const;

type Key = keyof Config;

/** git config key (lowercase) -> field. */
const GIT_KEYS: Record<string, Key> = {
  'gitsign.fulcio': 'fulcio',
  'gitsign.fulcioroot': 'fulcioRoot',
  'gitsign.rekor': 'rekor',
  'gitsign.rekormode': 'rekorMode',
  'gitsign.enablesigstorego': 'enableSigstoreGo',
  'gitsign.rekorversion': 'rekorVersion',
  'gitsign.clientid': 'clientID',
  'gitsign.clientsecretfile': 'clientSecretFile',
  'gitsign.redirecturl': 'redirectURL',
  'gitsign.issuer': 'issuer',
  'gitsign.connectorid': 'connectorID',
  'gitsign.tokenprovider': 'tokenProvider',
  'gitsign.timestampserverurl': 'timestampURL',
  'gitsign.timestampcertchain': 'timestampCert',
  'gitsign.logpath': 'logPath',
  'gitsign.matchcommitter': 'matchCommitter',
  'gitsign.autoclose': 'autoclose',
  'gitsign.autoclosetimeout': 'autocloseTimeout',
  'gitsign.urlopener': 'urlOpener',
  'gitsign.trustedroot': 'trustedRoot',
  'gitsign.offline': 'offline',
  'gitsign.insecureallowhttp': 'insecureAllowHTTP',
  'gitsign.networktimeout': 'networkTimeout',
  'user.name': 'committerName',
  'user.email': 'committerEmail',
};

/** Variables read for both prefixes, SIGSTORE_ first so GITSIGN_ overrides. */
const SHARED_ENV: [string, Key][] = [
  ['FULCIO_URL', 'fulcio'],
  ['FULCIO_ROOT', 'fulcioRoot'],
  ['REKOR_URL', 'rekor'],
  ['REKOR_VERSION', 'rekorVersion'],
  ['OIDC_CLIENT_ID', 'clientID'],
  ['OIDC_CLIENT_SECRET_FILE', 'clientSecretFile'],
  ['OIDC_REDIRECT_URL', 'redirectURL'],
  ['OIDC_ISSUER', 'issuer'],
  ['CONNECTOR_ID', 'connectorID'],
  ['TOKEN_PROVIDER', 'tokenProvider'],
  ['TIMESTAMP_SERVER_URL', 'timestampURL'],
  ['TIMESTAMP_CERT_CHAIN', 'timestampCert'],
  ['AUTOCLOSE', 'autoclose'],
  ['AUTOCLOSE_TIMEOUT', 'autocloseTimeout'],
];

const GITSIGN_ONLY_ENV: [string, Key][] = [
  ['GITSIGN_REKOR_MODE', 'rekorMode'],
  ['GITSIGN_ENABLE_SIGSTORE_GO', 'enableSigstoreGo'],
  ['GITSIGN_LOG', 'logPath'],
  ['GITSIGN_URL_OPENER', 'urlOpener'],
  ['GITSIGN_TRUSTED_ROOT', 'trustedRoot'],
  ['GITSIGN_OFFLINE', 'offline'],
  ['GITSIGN_INSECURE_ALLOW_HTTP', 'insecureAllowHTTP'],
  ['GITSIGN_NETWORK_TIMEOUT', 'networkTimeout'],
];

function gitConfigEntries(cwd?: string): [string, string][] {
  let out: Buffer;
  try {
    out = execFileSync('git', ['config', '-z', '--get-regexp', '^(gitsign|user)\\.'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { status?: number; stderr?: Buffer; code?: string };
    // Exit 1 with nothing on stderr: no matching key. Outside a repository git still reads global config.
    if (e.status === 1 && !e.stderr?.length) return [];
    if (e.code === 'ENOENT') return [];
    throw new GitsignError('CONFIG', `reading git config failed: ${e.stderr?.toString().trim() || String(err)}`);
  }
  return out
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const nl = rec.indexOf('\n');
      return nl === -1 ? [rec.toLowerCase(), ''] : [rec.slice(0, nl).toLowerCase(), rec.slice(nl + 1)];
    });
}

function setField(cfg: Config, key: Key, raw: string, source: string, fromEnv: boolean): void {
  const current = cfg[key];
  if (typeof current === 'boolean') {
    // gitsign compares to "true": case-insensitively in git config, exactly in the environment.
    (cfg[key] as boolean) = fromEnv ? raw === 'true' : raw.toLowerCase() === 'true';
  } else if (typeof current === 'number') {
    const n = Number.parseInt(raw, 10);
    if (key === 'rekorVersion') {
      if (raw === '') return;
      if (!(n === 1 || n === 2) || String(n) !== raw.trim()) {
        throw new GitsignError('CONFIG', `invalid ${source}: rekor version must be 1 or 2, got "${raw}"`);
      }
      cfg.rekorVersion = n;
    } else if (key === 'networkTimeout') {
      if (raw.trim() === '') return;
      // Refused, not defaulted: a typo would otherwise bring back the wait the user set out to shorten.
      const seconds = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
      const [min, max] = NETWORK_TIMEOUT_RANGE;
      if (!(seconds >= min && seconds <= max)) {
        throw new GitsignError('CONFIG', `invalid ${source}: ${JSON.stringify(raw.slice(0, 40))} is not a number of seconds from ${min} to ${max}`);
      }
      cfg.networkTimeout = seconds;
    } else {
      // autocloseTimeout: an invalid or non-positive value falls back to the default.
      cfg.autocloseTimeout = Number.isFinite(n) && n > 0 ? n : DEFAULTS.autocloseTimeout;
    }
  } else {
    (cfg[key] as string) = raw;
  }
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd?: string): Config {
  const cfg: Config = { ...DEFAULTS };
  for (const [name, value] of gitConfigEntries(cwd)) {
    const key = GIT_KEYS[name];
    if (key) setField(cfg, key, value, `git config ${name}`, false);
  }
  if (env.SIGSTORE_ROOT_FILE !== undefined) cfg.fulcioRoot = env.SIGSTORE_ROOT_FILE;
  for (const prefix of ['SIGSTORE', 'GITSIGN']) {
    for (const [suffix, key] of SHARED_ENV) {
      const v = env[`${prefix}_${suffix}`];
      if (v !== undefined) setField(cfg, key, v, `${prefix}_${suffix}`, true);
    }
  }
  for (const [name, key] of GITSIGN_ONLY_ENV) {
    const v = env[name];
    if (v !== undefined) setField(cfg, key, v, name, true);
  }
  if (!cfg.connectorID) cfg.autoclose = false;
  // Every command that reads the configuration applies its http rule to all its requests (src/net).
  allowCleartextHttp(cfg.insecureAllowHTTP);
  setCallDeadlineMs(cfg.networkTimeout * 1000);
  return cfg;
}
