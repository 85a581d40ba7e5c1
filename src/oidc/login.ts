import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { cannotRead, GitsignError } from '../errors';
import { callDeadlineMs } from '../net/deadline';
import { browserFlow, LOGIN_TIMEOUT_MS } from './browserFlow';
import { deadline } from './deadline';
import { deviceFlow, MAX_DEVICE_CODE_LIFETIME_S } from './deviceFlow';
import { discoverIssuer } from './discovery';
import type { LoginIo } from './flowTypes';
import type { IdToken } from './token';

/**
 * A person's login, in its own bundle file (dist/login.js, with oauth4webapi and open): loaded only
 * when no ambient token exists, so git's signing calls that do not log in never parse it.
 */
function clientSecret(path: string): string {
  if (!path) return '';
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw cannotRead('CONFIG', 'gitsign.clientSecretFile', path, err);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new GitsignError('CONFIG', `gitsign.clientSecretFile ${path} is not UTF-8`);
  }
  return text.trim();
}

/**
 * The whole login, discovery to verified ID token: the flow's own wait (the browser's 120 s, or the
 * longest device code lifetime) and time for the requests around it (discovery, the device code, the
 * exchange, the issuer's keys). Past it everything pending is abandoned.
 */
function loginLimitMs(flow: 'interactive' | 'device'): number {
  return (flow === 'device' ? MAX_DEVICE_CODE_LIFETIME_S * 1000 : LOGIN_TIMEOUT_MS) + 3 * callDeadlineMs();
}

export async function login(cfg: Config, flow: 'interactive' | 'device', io: LoginIo, limitMs = loginLimitMs(flow)): Promise<IdToken> {
  const limit = deadline(limitMs, `the login did not finish within ${limitMs / 1000} s`);
  const run = async (): Promise<IdToken> => {
    const issuer = await discoverIssuer(cfg, clientSecret(cfg.clientSecretFile), limit.signal);
    if (flow === 'device') {
      io.say('using device authorization flow');
      return deviceFlow(cfg, issuer, io);
    }
    return browserFlow(cfg, issuer, io);
  };
  try {
    return await Promise.race([run(), limit.promise]);
  } finally {
    limit.clear();
  }
}
