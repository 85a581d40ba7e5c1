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
  };
}

/** `gitsign version`: version, the GITSIGN_/SIGSTORE_/TUF_ environment, and the parsed configuration. */
export function printVersion(): number {
  const lines = [`gitsign version ${VERSION} (gitsign-ts)`, 'env:'];
  for (const [k, v] of Object.entries(process.env).sort()) {
    if (v && /^(GITSIGN_|SIGSTORE_|TUF_)/.test(k)) lines.push(`\t${k}=${k === 'SIGSTORE_ID_TOKEN' ? '<redacted>' : v}`);
  }
  printOut(...lines, 'parsed config:', ...jsonLines(JSON.stringify(goConfig(loadConfig()), null, 2)));
  return 0;
}
