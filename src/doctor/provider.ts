import type { Config } from '../config/config';
import { toGitsignError } from '../errors';
import { CI_TOKEN } from '../net/answerLimits';
import { readSmallFile } from '../oidc/providers/smallFile';
import { chooseProvider, FILESYSTEM_TOKEN_PATH, parseIdToken, type ProviderChoice } from '../oidc/token';
import type { Clock } from './clock';
import type { CheckResult } from './report';

/**
 * Which token provider signing would use here, and why, without logging in: an ambient token is read
 * (not sent anywhere) to tell whose it is and whether it has expired.
 */
const UNSET_FIX = 'git config --global --unset gitsign.tokenProvider   (and unset GITSIGN_TOKEN_PROVIDER / SIGSTORE_TOKEN_PROVIDER)';

function ambientToken(name: string, env: NodeJS.ProcessEnv): string | null {
  if (name === 'envvar') return env.SIGSTORE_ID_TOKEN ?? '';
  if (name === 'filesystem') return readSmallFile(FILESYSTEM_TOKEN_PATH, CI_TOKEN, 'the token file');
  return null; // the others: fetching a token is a request to a service (a login, in effect)
}

export function checkProvider(cfg: Config, env: NodeJS.ProcessEnv, clock: Clock): { check: CheckResult; choice?: ProviderChoice } {
  const id = 'token.provider';
  const title = 'token provider';
  let choice: ProviderChoice;
  try {
    choice = chooseProvider(cfg, env);
  } catch (err) {
    return { check: { id, title, status: 'fail', summary: toGitsignError(err).message, fix: [UNSET_FIX] } };
  }
  const details: Record<string, unknown> = { provider: choice.name, why: choice.why };
  if (!choice.available) return { check: { id, title, status: 'fail', summary: `${choice.name}: ${choice.why}, and it is not here`, fix: [UNSET_FIX], details }, choice };
  let raw: string | null;
  try {
    raw = ambientToken(choice.name, env);
  } catch (err) {
    return { check: { id, title, status: 'fail', summary: `${choice.name}: its token cannot be read (${toGitsignError(err).message})`, details }, choice };
  }
  if (raw !== null) {
    try {
      const token = parseIdToken(raw, choice.name);
      Object.assign(details, { subject: token.subject, issuer: token.issuer, expiresAt: token.expiresAt?.toISOString() ?? null });
      if (token.expiresAt && token.expiresAt.getTime() <= clock.now()) {
        const fix = choice.name === 'envvar' ? ['unset SIGSTORE_ID_TOKEN   (or set it to a fresh token)'] : [`replace ${FILESYSTEM_TOKEN_PATH} with a fresh token`];
        return { check: { id, title, status: 'fail', summary: `${choice.name} (${choice.why}): its token for ${token.subject} expired at ${token.expiresAt.toISOString()}`, fix, details }, choice };
      }
      return { check: { id, title, status: 'ok', summary: `${choice.name} (${choice.why}): a token for ${token.subject} from ${token.issuer}`, details }, choice };
    } catch (err) {
      return { check: { id, title, status: 'fail', summary: toGitsignError(err).message, details }, choice };
    }
  }
  // A browser login needs a browser: on a Linux machine without a display, the device flow is the one that works.
  const headless = choice.name === 'interactive' && process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY && !cfg.urlOpener;
  if (headless) {
    return { check: { id, title, status: 'warn', summary: `${choice.name} (${choice.why}), but there is no display to open a browser on`, fix: ['git config --global gitsign.tokenProvider device'], details }, choice };
  }
  return { check: { id, title, status: 'ok', summary: `${choice.name} (${choice.why})`, details }, choice };
}
