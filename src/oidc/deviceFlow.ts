import * as oauth from 'oauth4webapi';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { OIDC_DEVICE, OIDC_TOKEN } from '../net/answerLimits';
import { abortableSleep } from '../net/http';
import { checkedUrl } from '../net/transport';
import { type Issuer, loginError } from './discovery';
import { type LoginIo, SCOPE } from './flowTypes';
import { verifyIdToken } from './idToken';
import { newPkce } from './pkce';
import type { IdToken } from './token';

/**
 * The OAuth 2.0 device authorization grant (RFC 8628), for machines without a browser: a code and a URL
 * on the terminal, then polling the token endpoint at the issuer's interval, 5 s slower after each
 * slow_down, until the person approves, refuses, or the code expires. The issuer's numbers are
 * bounded and its URLs held to the transport rule, so no answer makes us poll in a loop, wait forever
 * or show a link of another scheme.
 */
export type Sleep = (ms: number) => Promise<void>;

const DEFAULT_INTERVAL_S = 5;
/** RFC 8628 section 3.5: slow_down adds 5 s, for this poll and every later one. */
const SLOW_DOWN_STEP_S = 5;
/** Under a second is a flood of requests; over a minute, a login nobody sits through. */
const MIN_INTERVAL_S = 1;
const MAX_INTERVAL_S = 60;
/** The longest a device code is waited for, whatever the issuer says (public issuers give 5 to 15 min). */
export const MAX_DEVICE_CODE_LIFETIME_S = 15 * 60;

/** The issuer's answer with its URLs checked and normalized, its lifetime and interval bounded. */
function bounded(auth: oauth.DeviceAuthorizationResponse): oauth.DeviceAuthorizationResponse & { interval: number } {
  const uri = (value: string, name: string): string => checkedUrl(value, `the issuer's ${name}`, 'TOKEN').href;
  return {
    ...auth,
    verification_uri: uri(auth.verification_uri, 'verification_uri'),
    verification_uri_complete: auth.verification_uri_complete === undefined ? undefined : uri(auth.verification_uri_complete, 'verification_uri_complete'),
    expires_in: Math.min(auth.expires_in, MAX_DEVICE_CODE_LIFETIME_S),
    interval: Math.min(Math.max(auth.interval ?? DEFAULT_INTERVAL_S, MIN_INTERVAL_S), MAX_INTERVAL_S),
  };
}

export async function deviceFlow(cfg: Config, issuer: Issuer, io: LoginIo, sleep?: Sleep): Promise<IdToken> {
  const wait: Sleep = sleep ?? ((ms) => abortableSleep(ms, issuer.signal));
  const pkce = newPkce();
  let auth: ReturnType<typeof bounded>;
  try {
    const params: Record<string, string> = { scope: SCOPE, code_challenge_method: 'S256', code_challenge: pkce.challenge };
    if (cfg.redirectURL) params.redirect_uri = cfg.redirectURL;
    const res = await oauth.deviceAuthorizationRequest(issuer.as, issuer.client, issuer.clientAuth, params, issuer.http(OIDC_DEVICE));
    auth = bounded(await oauth.processDeviceAuthorizationResponse(issuer.as, issuer.client, res));
  } catch (err) {
    throw loginError('starting the device login', err);
  }
  io.say(`Enter the verification code ${auth.user_code} in your browser at: ${auth.verification_uri_complete ?? auth.verification_uri}`);
  io.say(`Code will be valid for ${auth.expires_in} seconds`);
  // Expiry counts both the clock and the intervals waited, so a sleep that returns early cannot stretch it.
  const lifetimeMs = auth.expires_in * 1000;
  const expires = Date.now() + lifetimeMs;
  let waitedMs = 0;
  let interval = auth.interval;
  for (;;) {
    await wait(interval * 1000);
    waitedMs += interval * 1000;
    if (issuer.signal.aborted) throw new GitsignError('TOKEN', 'the login was abandoned');
    if (waitedMs > lifetimeMs || Date.now() > expires) throw new GitsignError('TOKEN', 'the device code expired before the login was approved');
    let tokens: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.deviceCodeGrantRequest(issuer.as, issuer.client, issuer.clientAuth, auth.device_code, {
        ...issuer.http(OIDC_TOKEN),
        additionalParameters: { scope: SCOPE, code_verifier: pkce.verifier },
      });
      tokens = await oauth.processDeviceCodeResponse(issuer.as, issuer.client, res);
    } catch (err) {
      if (err instanceof oauth.ResponseBodyError && err.error === 'authorization_pending') continue;
      if (err instanceof oauth.ResponseBodyError && err.error === 'slow_down') {
        interval += SLOW_DOWN_STEP_S;
        continue;
      }
      throw loginError('the device login', err);
    }
    if (!tokens.id_token) throw new GitsignError('TOKEN', 'the issuer answered the device login without an ID token');
    return verifyIdToken(tokens.id_token, { issuer: issuer.as.issuer, audience: cfg.clientID, jwksUri: issuer.as.jwks_uri!, signal: issuer.signal }, 'device');
  }
}
