import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { CI_TOKEN } from '../net/answerLimits';
import { httpCall, parseJson } from '../net/http';
import { checkedUrl } from '../net/transport';
import type { LoginIo } from './flowTypes';

/**
 * Where the OIDC ID token comes from. One documented order when gitsign.tokenProvider is unset:
 * SIGSTORE_ID_TOKEN, then GitHub Actions, then the filesystem token, then an interactive login.
 * A named provider is used alone.
 */
export interface IdToken {
  raw: string;
  /** What Fulcio certifies and the proof of possession signs: the email if present, else sub. */
  subject: string;
  issuer: string;
  provider: string;
}

export const FILESYSTEM_TOKEN_PATH = '/var/run/sigstore/cosign/oidc-token';

type Provider = { name: string; enabled: (env: NodeJS.ProcessEnv) => boolean; get: (env: NodeJS.ProcessEnv, cfg: Config) => Promise<string> };

const PROVIDERS: Provider[] = [
  { name: 'envvar', enabled: (env) => env.SIGSTORE_ID_TOKEN !== undefined, get: async (env) => env.SIGSTORE_ID_TOKEN ?? '' },
  {
    name: 'github-actions',
    enabled: (env) => Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
    get: async (env, cfg) => {
      const url = checkedUrl(env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'CONFIG');
      url.searchParams.set('audience', cfg.clientID);
      const res = await httpCall(url.toString(), { service: 'GitHub Actions token service', method: 'GET', limit: CI_TOKEN, headers: { Authorization: `bearer ${env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
      if (res.status !== 200) throw new GitsignError('TOKEN', `GitHub Actions token service answered ${res.status}`);
      const value = parseJson<{ value?: unknown } | null>('GitHub Actions token service', res)?.value; // JSON null is an answer too
      if (typeof value !== 'string') throw new GitsignError('TOKEN', 'GitHub Actions token service answered without a token');
      return value;
    },
  },
  { name: 'filesystem', enabled: () => existsSync(FILESYSTEM_TOKEN_PATH), get: async () => readFileSync(FILESYSTEM_TOKEN_PATH, 'utf8') },
];

/** Reads the claims without verifying (Fulcio verifies); only to know the subject and issuer. */
export function parseIdToken(raw: string, provider: string): IdToken {
  const parts = raw.trim().split('.');
  let claims: Record<string, unknown>;
  try {
    if (parts.length !== 3) throw new Error('not three parts');
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new Error('not an object');
  } catch {
    throw new GitsignError('TOKEN', `the ID token from ${provider} is not a JWT`);
  }
  const email = claims.email;
  let subject: unknown = claims.sub;
  if (typeof email === 'string' && email) {
    if (!(claims.email_verified === true || claims.email_verified === 'true')) {
      throw new GitsignError('TOKEN', `the ID token from ${provider} has an unverified email`);
    }
    subject = email;
  }
  if (typeof subject !== 'string' || !subject) throw new GitsignError('TOKEN', `the ID token from ${provider} has no subject`);
  return { raw: raw.trim(), subject, issuer: typeof claims.iss === 'string' ? claims.iss : '', provider };
}

export async function obtainIdToken(cfg: Config, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<IdToken> {
  const choice = cfg.tokenProvider;
  if (choice === '') {
    for (const p of PROVIDERS) {
      if (p.enabled(env)) return parseIdToken(await p.get(env, cfg), p.name);
    }
    return interactive(cfg, 'interactive', io);
  }
  if (choice === 'interactive' || choice === 'device') return interactive(cfg, choice, io);
  const named = PROVIDERS.find((p) => p.name === choice);
  if (!named) throw new GitsignError('CONFIG', `unknown gitsign.tokenProvider "${choice}" (known: ${[...PROVIDERS.map((p) => p.name), 'interactive', 'device'].join(', ')})`);
  if (!named.enabled(env)) throw new GitsignError('TOKEN', `token provider ${choice} is not available here`);
  return parseIdToken(await named.get(env, cfg), named.name);
}

/**
 * A person's login; its code (oauth4webapi, open) is a separate bundle file loaded only now, with
 * require() as the other bundle files (see src/cli/main.ts).
 */
async function interactive(cfg: Config, flow: 'interactive' | 'device', io: LoginIo): Promise<IdToken> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { login } = require('./login') as typeof import('./login');
  return login(cfg, flow, io);
}
