import { loadConfig } from '../config/config';
import { writeOut } from './io';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pkg = require('../../package.json') as { version: string };

export const VERSION = pkg.version;

/** `gitsign version`: version, the GITSIGN_/SIGSTORE_/TUF_ environment, and the parsed configuration. */
export function printVersion(): number {
  const lines = [`gitsign version ${VERSION} (gitsign-ts)`, 'env:'];
  for (const [k, v] of Object.entries(process.env).sort()) {
    if (v && /^(GITSIGN_|SIGSTORE_|TUF_)/.test(k)) lines.push(`\t${k}=${v}`);
  }
  writeOut(`${lines.join('\n')}\nparsed config:\n${JSON.stringify(loadConfig(), null, 2)}\n`);
  return 0;
}
