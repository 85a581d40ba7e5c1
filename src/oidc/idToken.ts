import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { GitsignError, quoted } from '../errors';
import { OIDC_JWKS } from '../net/answerLimits';
import { httpCall, parseJson } from '../net/http';
import { isObject, MAX_DATE_SECONDS } from '../json';
import { type IdToken, parseIdToken } from './token';

/**
 * Verifies an ID token from a login before Fulcio ever sees it: the signature with the issuer's
 * published keys (JWKS), the issuer, our client ID in the audience, the nonce we sent, and the
 * validity period. Ambient tokens (environment, CI) are not ours to judge; Fulcio verifies those.
 */
export interface Expected {
  issuer: string;
  audience: string;
  jwksUri: string;
  /** Required when the login sent one (authorization code flow); the device flow sends none. */
  nonce?: string;
  now?: Date;
  /** The login's deadline. */
  signal?: AbortSignal;
}

/** Clock skew allowed on exp, iat and nbf, as most OIDC libraries do. */
const LEEWAY_S = 60;

/** JWS algorithm -> node:crypto verify parameters. */
const ALGORITHMS: Record<string, { hash: string | null; opts?: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number } }> = {
  ES256: { hash: 'sha256', opts: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', opts: { dsaEncoding: 'ieee-p1363' } },
  ES512: { hash: 'sha512', opts: { dsaEncoding: 'ieee-p1363' } },
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', opts: { padding: 6, saltLength: 32 } },
  PS384: { hash: 'sha384', opts: { padding: 6, saltLength: 48 } },
  PS512: { hash: 'sha512', opts: { padding: 6, saltLength: 64 } },
  EdDSA: { hash: null },
};

const bad = (why: string): GitsignError => new GitsignError('TOKEN', `the ID token from the login is not valid: ${why}`);

function decodePart(part: string, what: string): Record<string, unknown> {
  try {
    const v = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  throw bad(`its ${what} is not a JSON object`);
}

interface Jwk extends JsonWebKey {
  kid?: string;
  use?: string;
  alg?: string;
}

async function signingKey(jwksUri: string, kid: unknown, alg: string, signal?: AbortSignal): Promise<KeyObject> {
  const res = await httpCall(jwksUri, { service: 'the OIDC issuer (JWKS)', method: 'GET', limit: OIDC_JWKS, signal, headers: { Accept: 'application/json' } });
  if (res.status !== 200) throw new GitsignError('TOKEN', `the OIDC issuer's keys (${jwksUri}) answered ${res.status}`);
  const body = parseJson<unknown>('the OIDC issuer (JWKS)', res);
  const keys = isObject(body) ? body.keys : undefined;
  if (!Array.isArray(keys)) throw new GitsignError('TOKEN', `the OIDC issuer's keys (${jwksUri}) are not a JWK set`);
  const notKey = keys.findIndex((k) => !isObject(k));
  if (notKey >= 0) throw new GitsignError('TOKEN', `the OIDC issuer's keys (${jwksUri}) are not a JWK set: keys[${notKey}] is not an object`);
  const usable = (keys as Jwk[]).filter((k) => (k.use === undefined || k.use === 'sig') && (k.alg === undefined || k.alg === alg));
  const candidates = typeof kid === 'string' ? usable.filter((k) => k.kid === kid) : usable;
  if (candidates.length !== 1) throw bad(typeof kid === 'string' ? `no single key ${quoted(kid)} in the issuer's JWKS` : 'no key id and not exactly one key in the JWKS');
  return keyOf(candidates[0]);
}

/** The members each key type needs (RFC 7518 section 6), all base64url strings. */
const KEY_MEMBERS: Record<string, string[]> = { EC: ['crv', 'x', 'y'], RSA: ['n', 'e'], OKP: ['crv', 'x'] };

function keyOf(jwk: Jwk): KeyObject {
  const members = typeof jwk.kty === 'string' ? KEY_MEMBERS[jwk.kty] : undefined;
  if (!members) throw bad(`the issuer's key has the key type ${quoted(jwk.kty)}, not EC, RSA or OKP`);
  const missing = members.find((m) => typeof (jwk as Record<string, unknown>)[m] !== 'string');
  if (missing) throw bad(`the issuer's ${jwk.kty} key has no "${missing}" text`);
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch {
    throw bad(`the issuer's ${jwk.kty} key is unusable (its members do not form a public key)`);
  }
}

function checkClaims(claims: Record<string, unknown>, want: Expected): void {
  if (claims.iss !== want.issuer) throw bad(`issuer ${quoted(claims.iss)}, expected "${want.issuer}"`);
  const aud = claims.aud;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.includes(want.audience)) throw bad(`audience ${quoted(aud)} does not include "${want.audience}"`);
  // With several audiences, the authorized party must be us (OIDC Core 3.1.3.7).
  if (audiences.length > 1 && claims.azp !== undefined && claims.azp !== want.audience) throw bad(`authorized party ${quoted(claims.azp)} is not "${want.audience}"`);
  const now = Math.floor((want.now ?? new Date()).getTime() / 1000);
  if (typeof claims.exp !== 'number') throw bad('no expiry (exp)');
  if (!Number.isFinite(claims.exp) || Math.abs(claims.exp) > MAX_DATE_SECONDS) throw bad('its expiry (exp) is not a time');
  if (claims.exp + LEEWAY_S <= now) throw bad(`it expired at ${new Date(claims.exp * 1000).toISOString()}`);
  if (typeof claims.iat === 'number' && claims.iat - LEEWAY_S > now) throw bad('it was issued in the future (iat)');
  if (typeof claims.nbf === 'number' && claims.nbf - LEEWAY_S > now) throw bad('it is not valid yet (nbf)');
  if (want.nonce !== undefined && claims.nonce !== want.nonce) throw bad('the nonce is not the one this login sent');
}

export async function verifyIdToken(raw: string, want: Expected, provider: string): Promise<IdToken> {
  const parts = raw.split('.');
  if (parts.length !== 3) throw bad('not a signed JWT (three parts)');
  const header = decodePart(parts[0], 'header');
  const claims = decodePart(parts[1], 'payload');
  const alg = typeof header.alg === 'string' ? header.alg : '';
  const algorithm = ALGORITHMS[alg];
  if (!algorithm) throw bad(`unsupported signature algorithm ${quoted(alg)}`);
  const key = await signingKey(want.jwksUri, header.kid, alg, want.signal);
  let ok: boolean;
  try {
    ok = verify(algorithm.hash, Buffer.from(`${parts[0]}.${parts[1]}`), { key, ...algorithm.opts }, Buffer.from(parts[2], 'base64url'));
  } catch {
    ok = false; // a key of another type than the algorithm names
  }
  if (!ok) throw bad("its signature does not verify with the issuer's key");
  checkClaims(claims, want);
  return parseIdToken(raw, provider);
}
