import * as oauth from 'oauth4webapi';
import type { Config } from '../config/config';
import { GitsignError, oneLine } from '../errors';
import { type AnswerLimit, OIDC_DISCOVERY } from '../net/answerLimits';
import { checkedUrl } from '../net/transport';
import { clip } from '../text/terminal';
import { type BoundedFetch, boundedFetch } from './fetch';

/**
 * The issuer's metadata (OIDC discovery) and the client we log in as. Every request goes through our
 * HTTP client (size limit, deadline, https or loopback http only: src/net/transport.ts), and every
 * endpoint the issuer names is held to the same rule before anything is requested or opened.
 */
export interface Issuer {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  clientAuth: oauth.ClientAuth;
  /** Aborts with the login's deadline: pending requests and waits end with it. */
  signal: AbortSignal;
  /** Options for an oauth4webapi request whose answer is of this kind. */
  http(limit: AnswerLimit): RequestOptions;
}

export interface RequestOptions {
  // Our transport rule (checked in httpCall) replaces oauth4webapi's https-only one, which would
  // refuse the loopback sandbox.
  [oauth.allowInsecureRequests]: true;
  [oauth.customFetch]: BoundedFetch;
  signal: AbortSignal;
}

const SERVICE = 'the OIDC issuer';

/** The endpoints a login requests or opens: each must pass the transport rule. */
const ENDPOINTS = ['authorization_endpoint', 'token_endpoint', 'device_authorization_endpoint', 'jwks_uri'] as const;

/**
 * One line naming what failed, whatever oauth4webapi threw: its own refusals (which name the field of
 * the answer they refuse) in its words, made one line; a Node error it let through (a bad URL or
 * base64 in an answer) restated, never as the runtime's text or code.
 */
export function loginError(step: string, err: unknown): GitsignError {
  if (err instanceof GitsignError) return err;
  if (err instanceof oauth.ResponseBodyError) {
    return new GitsignError('TOKEN', `${step}: the issuer answered ${err.status} ${clip(oneLine(err.error))}${err.error_description ? `: ${clip(oneLine(err.error_description))}` : ''}`);
  }
  if (
    err instanceof oauth.OperationProcessingError ||
    err instanceof oauth.UnsupportedOperationError ||
    err instanceof oauth.AuthorizationResponseError ||
    err instanceof oauth.WWWAuthenticateChallengeError
  ) {
    return new GitsignError('TOKEN', `${step}: ${oneLine(err.message, 160)}`);
  }
  const e = err as (Error & { code?: unknown }) | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return new GitsignError('NETWORK', `${step}: the login's deadline passed`);
  if (e?.code === 'ERR_INVALID_URL') return new GitsignError('TOKEN', `${step}: a URL in the issuer's answer is not valid`);
  if (e?.code === 'ERR_INVALID_ARG_VALUE' || e?.code === 'ERR_INVALID_ARG_TYPE') {
    return new GitsignError('TOKEN', `${step}: the issuer's answer holds a malformed value${e.message && !/\bERR_|undefined|Received/.test(e.message) ? ` (${oneLine(e.message, 120)})` : ''}`);
  }
  return new GitsignError('TOKEN', `${step}: the issuer's answer could not be processed`);
}

/** The metadata with every endpoint checked and normalized (an unusable one is refused, not skipped). */
function checkedEndpoints(as: oauth.AuthorizationServer): oauth.AuthorizationServer {
  const checked = { ...as };
  for (const name of ENDPOINTS) {
    const value = as[name];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new GitsignError('TOKEN', `the issuer's ${name} is not a URL`);
    checked[name] = checkedUrl(value, `the issuer's ${name}`, 'TOKEN').href;
  }
  return checked;
}

export async function discoverIssuer(cfg: Config, clientSecret: string, signal: AbortSignal = new AbortController().signal): Promise<Issuer> {
  const issuer = checkedUrl(cfg.issuer, 'gitsign.issuer', 'CONFIG');
  const http = (limit: AnswerLimit): RequestOptions => ({ [oauth.allowInsecureRequests]: true, [oauth.customFetch]: boundedFetch(SERVICE, limit), signal });
  let as: oauth.AuthorizationServer;
  try {
    // The discovered issuer must be the configured one, byte for byte (processDiscoveryResponse checks).
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...http(OIDC_DISCOVERY), algorithm: 'oidc' }));
  } catch (err) {
    throw loginError(`OIDC discovery at ${issuer.href}`, err);
  }
  if (!as.jwks_uri) throw new GitsignError('TOKEN', `the issuer ${issuer.href} publishes no jwks_uri`);
  const client: oauth.Client = { client_id: cfg.clientID };
  return { as: checkedEndpoints(as), client, clientAuth: clientSecret ? oauth.ClientSecretBasic(clientSecret) : oauth.None(), signal, http };
}
