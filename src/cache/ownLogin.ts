import { loadConfig } from '../config/config';
import type { LoginIo } from '../oidc/flowTypes';
import { toWire } from '../sign/cachedCredential';
import { freshCredential } from '../sign/credential';
import { terminalLines } from '../text/terminal';
import { loadTrust, trustOptionsFromConfig } from '../trust/trustMaterial';
import type { OwnLogin } from './loginOnMiss';

/**
 * The daemon's login (see loginOnMiss.ts): its own configuration (its environment, and git's
 * global and system configuration seen from where it was started), the person's flow, its own
 * trust root, and the checks of a fresh credential. What the login says (the URL to open, a
 * device code) goes to the daemon's standard error; it reads nothing: a daemon has no one at a
 * terminal to paste a code, so a browser that cannot be opened ends the login.
 */
const DAEMON_IO: LoginIo = {
  say: (line) => process.stderr.write(terminalLines([`gitsign-credential-cache: ${line}`])),
  ask: async () => null,
};

export function ownLogin(env: NodeJS.ProcessEnv = process.env): OwnLogin {
  const cfg = loadConfig(env);
  const flow = cfg.tokenProvider === 'device' ? 'device' : 'interactive';
  return {
    fulcio: cfg.fulcio,
    issuer: cfg.issuer,
    run: async () => {
      DAEMON_IO.say(`no cached credential: logging in (${flow}) for a client`);
      const trust = (await loadTrust(trustOptionsFromConfig(cfg, { offline: false }, env))).material;
      return toWire(await freshCredential({ ...cfg, tokenProvider: flow }, trust, DAEMON_IO, env));
    },
  };
}
