import type { KeyObject } from 'node:crypto';
import { verifyJwt, type Claims } from '../oidc/jwt';
import { ext } from '../x509/build';
import type { Principal } from './ca';

/**
 * Fulcio's token checks for the sandbox's one configured issuer: signature (JWKS key), issuer,
 * audience `sigstore`, expiry; then the identity: a verified email, or a URI subject, or GitHub
 * Actions-shaped claims (URI SAN of the workflow, the 1.3.6.1.4.1.57264.1.2-1.6 extensions and, from
 * the claims Fulcio maps, the 1.9-1.22 ones).
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
  // The 1.9+ extensions (DER strings), from the claims Fulcio maps for GitHub, each when the token has it.
  const url = (...parts: (string | undefined)[]): string | undefined => (parts.every((p) => p !== undefined) ? ['https://github.com', ...parts].join('/') : undefined);
  const v2 = [
    ['9', url(str('job_workflow_ref'))],
    ['10', str('job_workflow_sha')],
    ['11', str('runner_environment')],
    ['12', url(str('repository'))],
    ['13', str('sha')],
    ['14', str('ref')],
    ['15', str('repository_id')],
    ['16', url(str('repository_owner'))],
    ['17', str('repository_owner_id')],
    ['18', url(str('workflow_ref'))],
    ['19', str('workflow_sha')],
    ['20', str('event_name')],
    ['21', url(str('repository'), 'actions/runs', str('run_id'), 'attempts', str('run_attempt'))],
    ['22', str('repository_visibility')],
  ]
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([n, v]) => ext.utf8(`1.3.6.1.4.1.57264.1.${n}`, v));
  return { name: sub, san: { uri: `https://github.com/${str('job_workflow_ref')}` }, issuer, extensions: [...extensions, ...v2] };
}
