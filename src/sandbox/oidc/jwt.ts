import { createHash, sign, verify, type KeyObject } from 'node:crypto';

/** Compact JWS with ES256 (P-256, raw r||s signatures), enough for ID tokens and their checks. */
export type Claims = Record<string, unknown>;

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function signJwt(claims: Claims, key: KeyObject, kid: string): string {
  const header = b64url(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' }));
  const payload = b64url(JSON.stringify(claims));
  const sig = sign('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' });
  return `${header}.${payload}.${b64url(sig)}`;
}

export class JwtError extends Error {}

/** Checks the signature with the key named by `kid` and returns the claims (no claim checks). */
export function verifyJwt(token: string, keys: Map<string, KeyObject>): Claims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwtError('malformed JWT');
  let header: { alg?: string; kid?: string };
  let claims: Claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Claims;
  } catch {
    throw new JwtError('malformed JWT');
  }
  if (header.alg !== 'ES256') throw new JwtError(`unsupported JWT algorithm ${String(header.alg)}`);
  const key = header.kid !== undefined ? keys.get(header.kid) : keys.size === 1 ? [...keys.values()][0] : undefined;
  if (!key) throw new JwtError('unknown signing key');
  const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url'));
  if (!ok) throw new JwtError('invalid JWT signature');
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new JwtError('malformed JWT claims');
  return claims;
}

/** RFC 7638 JWK thumbprint of an EC public key: a stable key ID. */
export function keyId(pub: KeyObject): string {
  const jwk = pub.export({ format: 'jwk' });
  return b64url(createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest());
}

/** OIDC at_hash: base64url of the left half of SHA-256 of the access token. */
export function atHash(accessToken: string): string {
  return b64url(createHash('sha256').update(accessToken).digest().subarray(0, 16));
}
