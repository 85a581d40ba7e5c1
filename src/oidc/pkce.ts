import { createHash, randomBytes } from 'node:crypto';

/**
 * PKCE S256 (RFC 7636) and the random state and nonce of a login. The verifier has gitsign's length,
 * 64 characters (384 random bits); plain PKCE is never used.
 */
export interface Pkce {
  verifier: string;
  challenge: string;
}

export function randomToken(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function newPkce(): Pkce {
  const verifier = randomToken(48);
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
