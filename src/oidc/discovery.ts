import * as oauth from 'oauth4webapi';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { clip } from '../text/terminal';

/**
 * The issuer's metadata (OIDC discovery) and the client we log in as. oauth4webapi insists on HTTPS;
 * plain HTTP is allowed only for an issuer on the loopback interface (the local sandbox), never for a
 * remote one.
 */
export interface Issuer {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  /** Options for every oauth4webapi request to this issuer. */
  http: { [oauth.allowInsecureRequests]?: boolean; signal: () => AbortSignal };
}

const REQUEST_TIMEOUT_MS = 15_000;

export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** One line naming what failed, whatever oauth4webapi or fetch threw. */
export function loginError(step: string, err: unknown): GitsignError {
  if (err instanceof GitsignError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    return new GitsignError('TOKEN', `${step}: the issuer answered ${err.status} ${clip(err.error)}${err.error_description ? `: ${clip(err.error_description)}` : ''}`);
  }
  const e = err as Error & { cause?: { code?: string } };
  const why = e.cause?.code ?? e.message ?? String(err);
  return new GitsignError(e.name === 'TypeError' || e.name === 'TimeoutError' ? 'NETWORK' : 'TOKEN', `${step}: ${why}`);
}

export async function discoverIssuer(cfg: Config, clientSecret: string): Promise<Issuer> {
  let issuer: URL;
  try {
    issuer = new URL(cfg.issuer);
  } catch {
    throw new GitsignError('CONFIG', `gitsign.issuer "${cfg.issuer}" is not a URL`);
  }
  if (issuer.protocol !== 'https:' && !isLoopbackHttp(issuer)) {
    throw new GitsignError('CONFIG', `gitsign.issuer "${cfg.issuer}" must be https (plain http only on localhost)`);
  }
  const http = { ...(isLoopbackHttp(issuer) ? { [oauth.allowInsecureRequests]: true } : {}), signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
  let as: oauth.AuthorizationServer;
  try {
    // The discovered issuer must be the configured one, byte for byte (processDiscoveryResponse checks).
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oidc' }));
  } catch (err) {
    throw loginError(`OIDC discovery at ${cfg.issuer}`, err);
  }
  if (!as.jwks_uri) throw new GitsignError('TOKEN', `the issuer ${cfg.issuer} publishes no jwks_uri`);
  const client: oauth.Client = { client_id: cfg.clientID };
  return { as, client, clientAuth: clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None(), http };
}
