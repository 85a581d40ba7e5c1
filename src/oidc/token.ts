import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { MAX_DATE_SECONDS } from '../json';
import type { LoginIo } from './flowTypes';
import { FILESYSTEM_TOKEN_PATH, PROVIDERS, type ProviderContext, type TokenProvider } from './providers';

/**
 * Where the OIDC ID token comes from, as the Go gitsign decides: gitsign.tokenProvider names one
 * (interactive, device, or one of cosign's providers, used alone); unset, cosign's providers are tried
 * in their order (src/oidc/providers/index.ts), each that is enabled until one gives a token, and
 * only when none is enabled does a person log in.
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

export { FILESYSTEM_TOKEN_PATH };

/** What to do about a token the ambient provider gave that cannot be used (empty, expired). */
function freshTokenFix(provider: string): string {
  if (provider === 'envvar') {
    return 'put a fresh ID token in SIGSTORE_ID_TOKEN (from a local sandbox: export SIGSTORE_ID_TOKEN="$(gitsign sandbox token)"), or unset SIGSTORE_ID_TOKEN to sign in with the browser';
  }
  if (provider === 'filesystem') return `replace ${FILESYSTEM_TOKEN_PATH} with a fresh token, or remove it to sign in with the browser`;
  return `get a fresh token from ${provider}`;
}

/** Reads the claims without verifying (Fulcio verifies); only to know the subject and issuer. */
export function parseIdToken(raw: string, provider: string): IdToken {
  if (raw.trim() === '') {
    const what = provider === 'envvar' ? 'SIGSTORE_ID_TOKEN is set but empty' : `the ID token from ${provider} is empty`;
    throw new GitsignError('TOKEN', `${what}: ${freshTokenFix(provider)}`);
  }
  const parts = raw.trim().split('.');
  let claims: Record<string, unknown>;
  try {
    // base64url only: Buffer.from skips other characters, and the token is printed (`gitsign debug token`) and sent in headers.
    if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]*$/.test(p))) throw new Error('not a compact JWS');
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

/** "40 seconds", "12 minutes", "3 hours", "2 days": how long ago, in the largest unit that fits. */
function howLong(ms: number): string {
  const units: [string, number][] = [['day', 86_400_000], ['hour', 3_600_000], ['minute', 60_000], ['second', 1000]];
  const [unit, size] = units.find(([, size]) => ms >= 2 * size) ?? ['second', 1000];
  const n = Math.floor(ms / size);
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/**
 * A token past its exp (by this machine's clock) is refused before Fulcio is asked: Fulcio's answer
 * ("There was an error processing the identity token") would not say why.
 */
export function refuseExpired(token: IdToken, now = new Date()): void {
  if (!token.expiresAt || token.expiresAt.getTime() > now.getTime()) return;
  throw new GitsignError(
    'TOKEN',
    `the ID token from ${token.provider} (for ${token.subject}) expired ${howLong(now.getTime() - token.expiresAt.getTime())} ago, at ${token.expiresAt.toISOString()} by this machine's clock: ${freshTokenFix(token.provider)}`,
  );
}

/** Which provider obtainIdToken uses here and why; `gitsign doctor` tells it without logging in. */
export interface ProviderChoice {
  name: string;
  why: string;
  /** False when gitsign.tokenProvider names an ambient provider that has no token here. */
  available: boolean;
}

function providerNamed(name: string): TokenProvider {
  const found = PROVIDERS.find((p) => p.name === name);
  if (!found) throw new GitsignError('CONFIG', `unknown gitsign.tokenProvider "${name}" (known: ${[...PROVIDERS.map((p) => p.name), 'interactive', 'device'].join(', ')})`);
  return found;
}

/**
 * The provider signing would use, from what this machine tells without a network question (so
 * google-workload-identity is chosen on a hint; signing then asks the metadata server).
 */
export function chooseProvider(cfg: Config, env: NodeJS.ProcessEnv = process.env): ProviderChoice {
  const choice = cfg.tokenProvider;
  if (choice === '') {
    const found = PROVIDERS.find((p) => p.enabledHere(env));
    if (found) return { name: found.name, why: `${found.enabledWhen}, first in the default order`, available: true };
    return { name: 'interactive', why: `no ambient token (${PROVIDERS.map((p) => p.name).join(', ')}): a login in the browser`, available: true };
  }
  if (choice === 'interactive' || choice === 'device') return { name: choice, why: 'gitsign.tokenProvider names it', available: true };
  const named = providerNamed(choice);
  // google-workload-identity may work from a service account key anywhere: only trying tells.
  return { name: choice, why: `gitsign.tokenProvider names it (it works when ${named.enabledWhen})`, available: named.enabled !== undefined || named.enabledHere(env) };
}

export async function obtainIdToken(cfg: Config, io: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<IdToken> {
  const named = cfg.tokenProvider;
  if (named === 'interactive' || named === 'device') return interactive(cfg, named, io);
  const ctx: ProviderContext = { env, audience: cfg.clientID };
  if (named !== '') {
    const provider = providerNamed(named);
    if (!provider.enabled && !provider.enabledHere(env)) throw new GitsignError('TOKEN', `token provider ${named} is not available here: it works when ${provider.enabledWhen}`);
    io.say(`using token provider ${named}`);
    return parseIdToken(await provide(provider, ctx), named);
  }
  // As cosign's providers.Provide: each enabled provider in turn; the first token wins, and when every
  // enabled one fails, the last failure is the answer (no login: an ambient identity was expected).
  // A token that is no JWT is an answer all the same (as in Go): it fails, no other provider is asked.
  let failure: unknown;
  for (const provider of PROVIDERS) {
    if (!(await (provider.enabled ? provider.enabled(ctx) : provider.enabledHere(env)))) continue;
    let raw: string;
    try {
      raw = await provide(provider, ctx);
    } catch (err) {
      failure = err;
      continue;
    }
    return parseIdToken(raw, provider.name);
  }
  if (failure) throw failure;
  return interactive(cfg, 'interactive', io);
}

/** The provider's token; its failure names it. */
async function provide(provider: TokenProvider, ctx: ProviderContext): Promise<string> {
  try {
    return await provider.provide(ctx);
  } catch (err) {
    if (err instanceof GitsignError) throw new GitsignError(err.code, `token provider ${provider.name}: ${err.message}`, { cause: err });
    throw err;
  }
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
