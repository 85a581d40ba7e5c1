import * as oauth from 'oauth4webapi';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { type Issuer, loginError } from './discovery';
import { type LoginIo, SCOPE } from './flowTypes';
import { verifyIdToken } from './idToken';
import { newPkce } from './pkce';
import type { IdToken } from './token';

/**
 * The OAuth 2.0 device authorization grant (RFC 8628), for machines without a browser: a code and a URL
 * on the terminal, then polling the token endpoint at the issuer's interval, 10 s slower after each
 * slow_down, until the person approves, refuses, or the code expires.
 */
export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const DEFAULT_INTERVAL_S = 5;
const SLOW_DOWN_STEP_S = 10;

export async function deviceFlow(cfg: Config, issuer: Issuer, io: LoginIo, sleep: Sleep = realSleep): Promise<IdToken> {
  const pkce = newPkce();
  let auth: oauth.DeviceAuthorizationResponse;
  try {
    const params: Record<string, string> = { scope: SCOPE, code_challenge_method: 'S256', code_challenge: pkce.challenge };
    if (cfg.redirectURL) params.redirect_uri = cfg.redirectURL;
    const res = await oauth.deviceAuthorizationRequest(issuer.as, issuer.client, issuer.clientAuth, params, issuer.http);
    auth = await oauth.processDeviceAuthorizationResponse(issuer.as, issuer.client, res);
  } catch (err) {
    throw loginError('starting the device login', err);
  }
  io.say(`Enter the verification code ${auth.user_code} in your browser at: ${auth.verification_uri_complete ?? auth.verification_uri}`);
  io.say(`Code will be valid for ${auth.expires_in} seconds`);
  const expires = Date.now() + auth.expires_in * 1000;
  let interval = auth.interval ?? DEFAULT_INTERVAL_S;
  for (;;) {
    await sleep(interval * 1000);
    if (Date.now() > expires) throw new GitsignError('TOKEN', 'the device code expired before the login was approved');
    let tokens: oauth.TokenEndpointResponse;
    try {
      const res = await oauth.deviceCodeGrantRequest(issuer.as, issuer.client, issuer.clientAuth, auth.device_code, {
        ...issuer.http,
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
    return verifyIdToken(tokens.id_token, { issuer: issuer.as.issuer, audience: cfg.clientID, jwksUri: issuer.as.jwks_uri! }, 'device');
  }
}
