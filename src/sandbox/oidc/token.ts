import type { KeyObject } from 'node:crypto';
import { atHash, signJwt, type Claims } from './jwt';

/** The sandbox's ID tokens: Dex-like claims for a test identity, audience `sigstore` by default. */
export const DEFAULT_SUBJECT = 'sandbox-user@example.com';
export const DEFAULT_CLIENT_ID = 'sigstore';
export const TOKEN_LIFETIME_S = 10 * 60;

export interface TokenRequest {
  issuer: string;
  subject: string;
  audience?: string;
  nonce?: string;
  accessToken?: string;
  /** Merged last: may add claims or override any of the above (e.g. `exp` for an expired token). */
  extraClaims?: Claims;
  now?: number;
}

/** A subject `--subject` may name: an email or a URI, one printable word of sane length. */
export const isUsableSubject = (s: string): boolean => s.length > 0 && s.length <= 256 && !/[\s\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(s);

export const looksLikeEmail = (s: string): boolean => /^[^@\s]+@[^@\s]+$/.test(s);

export function identityClaims(req: TokenRequest): Claims {
  const now = Math.floor((req.now ?? Date.now()) / 1000);
  const claims: Claims = {
    iss: req.issuer,
    sub: req.subject,
    aud: req.audience ?? DEFAULT_CLIENT_ID,
    exp: now + TOKEN_LIFETIME_S,
    iat: now,
  };
  if (req.nonce !== undefined) claims.nonce = req.nonce;
  if (req.accessToken) claims.at_hash = atHash(req.accessToken);
  if (looksLikeEmail(req.subject)) {
    claims.email = req.subject;
    claims.email_verified = true;
  }
  return { ...claims, ...(req.extraClaims ?? {}) };
}

export function mintIdToken(req: TokenRequest, key: KeyObject, kid: string): string {
  return signJwt(identityClaims(req), key, kid);
}
