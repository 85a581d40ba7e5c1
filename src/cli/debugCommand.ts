import { loadConfig } from '../config/config';
import { setNetworkWarningSink } from '../net/transport';
import { obtainIdToken } from '../oidc/token';
import { printOut, teeStderrTo } from './io';
import { ask, say, sayError } from './tty';

/**
 * `gitsign debug token` (hidden, as in Go): gets the ID token exactly as signing would (the same
 * provider choice, the same login) and prints it on stdout, one line; nothing is certified or signed.
 * Prompts and messages go to the terminal, so the token can be piped. It is a credential: whoever
 * holds it can get a signing certificate for its identity until it expires.
 */
export async function debugTokenCommand(): Promise<number> {
  const cfg = loadConfig();
  teeStderrTo(cfg.logPath);
  setNetworkWarningSink(sayError);
  const token = await obtainIdToken(cfg, { say, ask });
  printOut(token.raw);
  return 0;
}
