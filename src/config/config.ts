import { GitsignError } from '../errors';
import { runCapturedSync } from '../git/runSync';
import { setCallDeadlineMs } from '../net/deadline';
import { allowCleartextHttp } from '../net/transport';
import { terminalLines } from '../text/terminal';

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
  /** Ours: git's verify calls judge by the signing policy: '' off, 'true' the repository's (from auditTrustRoot), else a policy file's path. */
  policy: string;
  /** Ours: gitsign.audit.trustRoot, the revision whose policy the repository's history is judged from. */
  auditTrustRoot: string;
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
  policy: '',
  auditTrustRoot: '',
};

/** The range gitsign.networkTimeout accepts, in seconds: a tenth of a second to an hour. */
const NETWORK_TIMEOUT_RANGE = [0.1, 3600] as const;

type Key = keyof Config;

/** git config key (lowercase) -> field. */
export const GIT_KEYS: Record<string, Key> = {
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
  'gitsign.policy': 'policy',
  'gitsign.audit.trustroot': 'auditTrustRoot',
  'user.name': 'committerName',
  'user.email': 'committerEmail',
};

/** Variables read for both prefixes, SIGSTORE_ first so GITSIGN_ overrides. */
export const SHARED_ENV: [string, Key][] = [
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

export const GITSIGN_ONLY_ENV: [string, Key][] = [
  ['GITSIGN_REKOR_MODE', 'rekorMode'],
  ['GITSIGN_ENABLE_SIGSTORE_GO', 'enableSigstoreGo'],
  ['GITSIGN_LOG', 'logPath'],
  ['GITSIGN_URL_OPENER', 'urlOpener'],
  ['GITSIGN_TRUSTED_ROOT', 'trustedRoot'],
  ['GITSIGN_OFFLINE', 'offline'],
  ['GITSIGN_INSECURE_ALLOW_HTTP', 'insecureAllowHTTP'],
  ['GITSIGN_NETWORK_TIMEOUT', 'networkTimeout'],
];

/** git config runs to its end within this, or the configuration cannot be read (a stuck include, a hung disk). */
const GIT_CONFIG_TIMEOUT_MS = 10_000;
const GIT_CONFIG_MAX_BYTES = 1 << 20;

/** [name, value] per git config entry; value null for a key written without "=" (git's implicit true). */
function gitConfigEntries(env: NodeJS.ProcessEnv, cwd?: string): [string, string | null][] {
  const r = runCapturedSync('git', ['config', '-z', '--get-regexp', '^(gitsign|user)\\.'], { cwd, env, maxBytes: GIT_CONFIG_MAX_BYTES, timeoutMs: GIT_CONFIG_TIMEOUT_MS });
  if (r.error?.code === 'ENOENT') return [];
  if (r.error) throw new GitsignError('CONFIG', `reading git config failed: cannot run git (${r.error.code ?? r.error.message})`);
  if (r.stopped === 'timeout') throw new GitsignError('CONFIG', `reading git config failed: git config did not finish within ${GIT_CONFIG_TIMEOUT_MS / 1000} s`);
  if (r.stopped === 'too-large') throw new GitsignError('CONFIG', `reading git config failed: its gitsign.* and user.* values exceed ${GIT_CONFIG_MAX_BYTES} bytes`);
  // Exit 1 with nothing on stderr: no matching key. Outside a repository git still reads global config.
  if (r.status === 1 && r.stderr.length === 0) return [];
  if (r.status !== 0) throw new GitsignError('CONFIG', `reading git config failed: ${r.stderr.toString().trim() || (r.status === null ? 'git was stopped by a signal' : `exit code ${r.status}`)}`);
  const out = r.stdout;
  return out
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((rec) => {
      const nl = rec.indexOf('\n');
      return nl === -1 ? [canonicalKey(rec), null] : [canonicalKey(rec.slice(0, nl)), rec.slice(nl + 1)];
    });
}

/**
 * A key as git compares it: section and variable name case-insensitive, a subsection (the middle of
 * gitsign.audit.trustRoot) case-sensitive, so gitsign.Audit.trustRoot is another key, as for git config.
 */
function canonicalKey(key: string): string {
  const first = key.indexOf('.');
  const last = key.lastIndexOf('.');
  if (first === last) return key.toLowerCase();
  return `${key.slice(0, first).toLowerCase()}${key.slice(first, last)}${key.slice(last).toLowerCase()}`;
}

export type Warn = (line: string) => void;

const stderrWarn: Warn = (line) => process.stderr.write(terminalLines([`gitsign: ${line}`]));

const INT64_MAX = 2n ** 63n - 1n;
const UINT32_MAX = 2n ** 32n - 1n;

/** Go's strconv.Atoi: an optional sign and decimal digits, nothing else; null when it is not one, 'range' past int64. */
function goAtoi(raw: string): number | null | 'range' {
  if (!/^[+-]?\d+$/.test(raw)) return null;
  const n = BigInt(raw);
  return n > INT64_MAX || n < -INT64_MAX - 1n ? 'range' : Number(n);
}

/** Go's strconv.ParseUint(raw, 10, 32): decimal digits only (no sign, no space); null otherwise or past 2^32-1. */
function goParseUint32(raw: string): number | null {
  return /^\d+$/.test(raw) && BigInt(raw) <= UINT32_MAX ? Number(raw) : null;
}

/** git's boolean spellings (git config --type=bool); undefined for anything else. */
function gitBool(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (['true', 'yes', 'on'].includes(v) || /^[+-]?0*[1-9]\d*$/.test(v)) return true;
  if (['false', 'no', 'off', ''].includes(v) || /^[+-]?0+$/.test(v)) return false;
  return undefined;
}

/** What the rekor version came from, so a refusal names the setting that holds the bad value. */
interface RekorVersionSetting {
  value: number;
  raw: string;
  source: string;
}

/** The parsing of one value, as gitsign parses it (where gitsign's reading is unsafe, ours is said). */
function setField(cfg: Config, key: Key, raw: string, source: string, fromEnv: boolean, rekor: RekorVersionSetting, warn: Warn): void {
  const current = cfg[key];
  if (key === 'matchCommitter') {
    // gitsign takes only "true" and reads yes, on, 1 and typos as false: a check the user asked for
    // would be silently skipped. git's own spellings count; anything else is refused.
    const b = gitBool(raw);
    if (b === undefined) throw new GitsignError('CONFIG', `invalid ${source}: ${JSON.stringify(raw.slice(0, 40))} is not a boolean (true/false, yes/no, on/off, 1/0)`);
    cfg.matchCommitter = b;
  } else if (typeof current === 'boolean') {
    // gitsign compares to "true": case-insensitively in git config, exactly in the environment.
    (cfg[key] as boolean) = fromEnv ? raw === 'true' : raw.toLowerCase() === 'true';
  } else if (key === 'policy') {
    // git's boolean spellings switch it on or off; anything else names a policy file.
    const b = gitBool(raw);
    cfg.policy = b === undefined ? raw : b ? 'true' : '';
  } else if (key === 'rekorVersion') {
    const n = goParseUint32(raw);
    if (n === null) {
      // As gitsign: a git config value that is not a number is ignored (with a warning), a variable's is an error.
      if (fromEnv) throw new GitsignError('CONFIG', `invalid ${source}: rekor version must be 1 or 2, got ${JSON.stringify(raw.slice(0, 40))}`);
      warn(`invalid ${source} value ${JSON.stringify(raw.slice(0, 40))}, ignoring`);
      return;
    }
    Object.assign(rekor, { value: n, raw, source });
  } else if (key === 'autocloseTimeout') {
    const n = goAtoi(raw);
    if (fromEnv) {
      // gitsign ignores the variable's parse error: junk is 0 (the page closes at once), out of range is clamped.
      cfg.autocloseTimeout = n === null ? 0 : n === 'range' ? (raw.startsWith('-') ? -Number(INT64_MAX) : Number(INT64_MAX)) : n;
    } else if (typeof n === 'number' && n > 0) {
      cfg.autocloseTimeout = n;
    } else {
      warn(`invalid ${source} value ${JSON.stringify(raw.slice(0, 40))}, defaulting to ${DEFAULTS.autocloseTimeout}`);
      cfg.autocloseTimeout = DEFAULTS.autocloseTimeout;
    }
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
    (cfg[key] as string) = raw;
  }
}

/** gitsign's checks once every source is read: 0 means unset (version 1), anything but 1 or 2 is refused. */
function settleRekorVersion(cfg: Config, rekor: RekorVersionSetting): void {
  if (rekor.value === 0) {
    cfg.rekorVersion = DEFAULTS.rekorVersion;
    return;
  }
  if (rekor.value !== 1 && rekor.value !== 2) {
    throw new GitsignError('CONFIG', `invalid ${rekor.source}: rekor version must be 1 or 2, got ${JSON.stringify(rekor.raw)}`);
  }
  // The version is chosen on the sigstore-go path only; gitsign refuses it, even 1, with the legacy path.
  if (!cfg.enableSigstoreGo) {
    throw new GitsignError('CONFIG', `rekorVersion=${rekor.value} requires enableSigstoreGo=true (${rekor.source} sets it; Rekor version selection only applies to the sigstore-go path)`);
  }
  cfg.rekorVersion = rekor.value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd?: string, warn: Warn = stderrWarn): Config {
  const cfg: Config = { ...DEFAULTS };
  const rekor: RekorVersionSetting = { value: 0, raw: '', source: '' };
  for (const [name, value] of gitConfigEntries(env, cwd)) {
    const key = GIT_KEYS[name];
    if (!key) continue;
    // gitsign skips a key written without a value; matchCommitter and policy take git's meaning of it (true).
    if (value === null && key !== 'matchCommitter' && key !== 'policy') continue;
    setField(cfg, key, value ?? 'true', `git config ${name}`, false, rekor, warn);
  }
  if (env.SIGSTORE_ROOT_FILE !== undefined) cfg.fulcioRoot = env.SIGSTORE_ROOT_FILE;
  for (const prefix of ['SIGSTORE', 'GITSIGN']) {
    for (const [suffix, key] of SHARED_ENV) {
      const v = env[`${prefix}_${suffix}`];
      if (v !== undefined) setField(cfg, key, v, `${prefix}_${suffix}`, true, rekor, warn);
    }
  }
  for (const [name, key] of GITSIGN_ONLY_ENV) {
    const v = env[name];
    if (v !== undefined) setField(cfg, key, v, name, true, rekor, warn);
  }
  settleRekorVersion(cfg, rekor);
  // Every command that reads the configuration applies its http rule to all its requests (src/net).
  allowCleartextHttp(cfg.insecureAllowHTTP);
  setCallDeadlineMs(cfg.networkTimeout * 1000);
  return cfg;
}
