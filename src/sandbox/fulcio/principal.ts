import type { KeyObject } from 'node:crypto';
import { verifyJwt, type Claims } from '../oidc/jwt';
import { ext } from '../x509/build';
import type { Principal } from './ca';

/**
 * Fulcio's token checks for the sandbox's one configured issuer: signature (JWKS key), issuer,
 * audience `sigstore`, expiry; then the identity: a verified email, or a URI subject, or GitHub
 * Actions-shaped claims (URI SAN of the workflow and the 1.3.6.1.4.1.57264.1.2-1.6 extensions).
 */
export class TokenRejected extends Error {}

export const FULCIO_AUDIENCE = 'sigstore';

export function authenticate(token: string, issuer: string, keys: Map<string, KeyObject>, now = Date.now()): Principal {
  if (!token) throw new TokenRejected('no identity token');
  let claims: Claims;
  try {
    claims = verifyJwt(token, keys);
  } catch (err) {
    throw new TokenRejected((err as Error).message);
  }
  if (claims.iss !== issuer) throw new TokenRejected(`unknown issuer ${String(claims.iss)}`);
  const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!aud.includes(FULCIO_AUDIENCE)) throw new TokenRejected(`audience does not include ${FULCIO_AUDIENCE}`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= now) throw new TokenRejected('token is expired');
  if (typeof claims.nbf === 'number' && claims.nbf * 1000 > now + 60_000) throw new TokenRejected('token is not valid yet');
  const sub = typeof claims.sub === 'string' ? claims.sub : '';
  if (typeof claims.job_workflow_ref === 'string') return githubPrincipal(claims, sub, issuer);
  if (typeof claims.email === 'string') {
    if (claims.email_verified !== true && claims.email_verified !== 'true') throw new TokenRejected('email is not verified');
    return { name: claims.email, san: { email: claims.email }, issuer, extensions: [] };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(sub)) return { name: sub, san: { uri: sub }, issuer, extensions: [] };
  throw new TokenRejected('the token has neither a verified email nor a URI subject');
}

function githubPrincipal(claims: Claims, sub: string, issuer: string): Principal {
  const str = (k: string): string | undefined => (typeof claims[k] === 'string' ? (claims[k] as string) : undefined);
  const extensions = [
    ['1.3.6.1.4.1.57264.1.2', str('event_name')],
    ['1.3.6.1.4.1.57264.1.3', str('sha')],
    ['1.3.6.1.4.1.57264.1.4', str('workflow')],
    ['1.3.6.1.4.1.57264.1.5', str('repository')],
    ['1.3.6.1.4.1.57264.1.6', str('ref')],
  ]
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([o, v]) => ext.raw(o, v));
  return { name: sub, san: { uri: `https://github.com/${str('job_workflow_ref')}` }, issuer, extensions };
}
