import { readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { browserFlow } from './browserFlow';
import { deviceFlow } from './deviceFlow';
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
    throw new GitsignError('CONFIG', `cannot read gitsign.clientSecretFile ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new GitsignError('CONFIG', `gitsign.clientSecretFile ${path} is not UTF-8`);
  }
  return text.trim();
}

export async function login(cfg: Config, flow: 'interactive' | 'device', io: LoginIo): Promise<IdToken> {
  const issuer = await discoverIssuer(cfg, clientSecret(cfg.clientSecretFile));
  if (flow === 'device') {
    io.say('using device authorization flow');
    return deviceFlow(cfg, issuer, io);
  }
  return browserFlow(cfg, issuer, io);
}
