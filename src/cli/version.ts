import { type Config, loadConfig } from '../config/config';
import { jsonLines } from '../text/terminal';
import { printOut } from './io';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { version: string };

export const VERSION = pkg.version;

/** The configuration under gitsign's Go field names, in its struct order (ours last). */
function goConfig(c: Config): Record<string, unknown> {
  return {
    Fulcio: c.fulcio,
    FulcioRoot: c.fulcioRoot,
    Rekor: c.rekor,
    RekorMode: c.rekorMode,
    EnableSigstoreGo: c.enableSigstoreGo,
    RekorVersion: c.rekorVersion,
    ClientID: c.clientID,
    RedirectURL: c.redirectURL,
    Issuer: c.issuer,
    ConnectorID: c.connectorID,
    TokenProvider: c.tokenProvider,
    TimestampURL: c.timestampURL,
    TimestampCert: c.timestampCert,
    LogPath: c.logPath,
    CommitterName: c.committerName,
    CommitterEmail: c.committerEmail,
    MatchCommitter: c.matchCommitter,
    Autoclose: c.autoclose,
    AutocloseTimeout: c.autocloseTimeout,
    URLOpener: c.urlOpener,
    TrustedRoot: c.trustedRoot,
    Offline: c.offline,
    InsecureAllowHTTP: c.insecureAllowHTTP,
    NetworkTimeout: c.networkTimeout,
  };
}

/** The variables that change what gitsign, Sigstore or TUF clients do (gitsign's pkg/version prefixes). */
const ENV_PREFIXES = ['GITSIGN_', 'SIGSTORE_', 'TUF_'];
/** A live credential is not shown: `gitsign version` output is what people paste into bug reports. */
const SECRET_ENV = new Set(['SIGSTORE_ID_TOKEN']);

/** Go's unicode.IsSpace, which strings.TrimSpace trims (JavaScript's trim() differs on U+0085 and U+FEFF). */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/**
 * The `env:` entries as gitsign lists them: in the environment's own order, one `NAME=VALUE` each,
 * skipped when the value is empty (gitsign trims the entry, and takes the text between its first and
 * second "=" as the value, so a blank value and `NAME==x` are skipped too).
 */
export function envLines(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !ENV_PREFIXES.some((p) => name.startsWith(p))) continue;
    const parts = `${name}=${value}`.replace(GO_TRIM, '').split('=');
    if (parts.length === 1 || parts[1] === '') continue;
    out.push(`\t ${name}=${SECRET_ENV.has(name) ? '<redacted>' : value}`);
  }
  return out;
}

/** Go's json.Encoder output: `<`, `>` and `&` in strings are \u escapes (JSON.stringify keeps them). */
function goJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `gitsign version` (and `gitsign --version`): gitsign's layout, line for line (`gitsign version
 * vX.Y.Z`, the `env:` block only when a variable is set, `parsed config:` and the configuration as
 * Go's JSON encoder indents it), with one line naming this implementation.
 */
export function printVersion(): number {
  const config = goConfig(loadConfig());
  const env = envLines(process.env);
  const lines = [`gitsign version v${VERSION}`, `implementation: gitsign-ts (Node.js ${process.version})`];
  if (env.length > 0) lines.push('env:', ...env);
  printOut(...lines, 'parsed config:', ...jsonLines(goJson(config)));
  return 0;
}
