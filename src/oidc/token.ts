import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { CI_TOKEN } from '../net/answerLimits';
import { httpCall, parseJson } from '../net/http';
import { checkedUrl } from '../net/transport';
import { MAX_DATE_SECONDS } from '../json';
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
  /** The exp claim, when the token has one (`gitsign doctor` tells an expired token). */
  expiresAt?: Date;
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
  const expiresAt = typeof claims.exp === 'number' && Math.abs(claims.exp) < MAX_DATE_SECONDS ? new Date(claims.exp * 1000) : undefined;
  return { raw: raw.trim(), subject, issuer: typeof claims.iss === 'string' ? claims.iss : '', provider, ...(expiresAt ? { expiresAt } : {}) };
}

/** Which provider obtainIdToken uses here and why; `gitsign doctor` tells it without logging in. */
export interface ProviderChoice {
  name: string;
  why: string;
  /** False when gitsign.tokenProvider names an ambient provider that has no token here. */
  available: boolean;
}

const AMBIENT_WHY: Record<string, string> = {
  envvar: 'SIGSTORE_ID_TOKEN is set',
  'github-actions': 'ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are set (GitHub Actions with id-token: write)',
  filesystem: `${FILESYSTEM_TOKEN_PATH} exists`,
};

export function chooseProvider(cfg: Config, env: NodeJS.ProcessEnv = process.env): ProviderChoice {
  const choice = cfg.tokenProvider;
  if (choice === '') {
    const found = PROVIDERS.find((p) => p.enabled(env));
    if (found) return { name: found.name, why: `${AMBIENT_WHY[found.name]}, first in the default order`, available: true };
    return { name: 'interactive', why: 'no ambient token (SIGSTORE_ID_TOKEN, GitHub Actions, the filesystem token): a login in the browser', available: true };
  }
  if (choice === 'interactive' || choice === 'device') return { name: choice, why: 'gitsign.tokenProvider names it', available: true };
  const named = PROVIDERS.find((p) => p.name === choice);
  if (!named) throw new GitsignError('CONFIG', `unknown gitsign.tokenProvider "${choice}" (known: ${[...PROVIDERS.map((p) => p.name), 'interactive', 'device'].join(', ')})`);
  return { name: choice, why: `gitsign.tokenProvider names it (${AMBIENT_WHY[choice]} is needed)`, available: named.enabled(env) };
}

export async function obtainIdToken(cfg: Config, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<IdToken> {
  const chosen = chooseProvider(cfg, env);
  if (chosen.name === 'interactive' || chosen.name === 'device') return interactive(cfg, chosen.name, io);
  if (!chosen.available) throw new GitsignError('TOKEN', `token provider ${chosen.name} is not available here`);
  const provider = PROVIDERS.find((p) => p.name === chosen.name) as Provider;
  return parseIdToken(await provider.get(env, cfg), provider.name);
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
