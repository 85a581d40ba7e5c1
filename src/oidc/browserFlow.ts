import * as oauth from 'oauth4webapi';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { OIDC_TOKEN } from '../net/answerLimits';
import { type Deadline, deadline } from './deadline';
import { type Issuer, loginError } from './discovery';
import { type LoginIo, SCOPE } from './flowTypes';
import { verifyIdToken } from './idToken';
import { type Callback, listenForCallback } from './loopback';
import { openBrowser, openerArgv } from './opener';
import { newPkce, type Pkce, randomToken } from './pkce';
import type { IdToken } from './token';

/**
 * The authorization code flow with PKCE S256, as gitsign: the browser is sent to the issuer and comes
 * back to our loopback listener with a code. When no browser can be started, the out-of-band variant:
 * the issuer shows the code and the person pastes it on the terminal. 120 s at most either way.
 */
export const LOGIN_TIMEOUT_MS = 120_000;
export const OOB_REDIRECT = 'urn:ietf:wg:oauth:2.0:oob';

interface Attempt {
  pkce: Pkce;
  state: string;
  nonce: string;
}

function authorizationUrl(issuer: Issuer, cfg: Config, redirectUri: string, a: Attempt): string {
  if (!issuer.as.authorization_endpoint) throw new GitsignError('TOKEN', `the issuer ${cfg.issuer} publishes no authorization_endpoint`);
  const u = new URL(issuer.as.authorization_endpoint);
  const params: Record<string, string> = {
    access_type: 'online',
    client_id: cfg.clientID,
    code_challenge: a.pkce.challenge,
    code_challenge_method: 'S256',
    ...(cfg.connectorID ? { connector_id: cfg.connectorID } : {}),
    nonce: a.nonce,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: SCOPE,
    state: a.state,
  };
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

async function exchange(issuer: Issuer, cfg: Config, params: URLSearchParams, redirectUri: string, a: Attempt): Promise<IdToken> {
  let idToken: string | undefined;
  try {
    const res = await oauth.authorizationCodeGrantRequest(issuer.as, issuer.client, issuer.clientAuth, params, redirectUri, a.pkce.verifier, {
      ...issuer.http(OIDC_TOKEN),
      // gitsign sends the nonce with the exchange too; issuers ignore it or check it.
      additionalParameters: { nonce: a.nonce },
    });
    const tokens = await oauth.processAuthorizationCodeResponse(issuer.as, issuer.client, res, { expectedNonce: a.nonce, requireIdToken: true });
    idToken = tokens.id_token;
  } catch (err) {
    throw loginError('exchanging the authorization code', err);
  }
  if (!idToken) throw new GitsignError('TOKEN', 'the issuer answered the code exchange without an ID token');
  return verifyIdToken(idToken, { issuer: issuer.as.issuer, audience: cfg.clientID, jwksUri: issuer.as.jwks_uri!, nonce: a.nonce, signal: issuer.signal }, 'interactive');
}

function validated(issuer: Issuer, query: URLSearchParams, a: Attempt): URLSearchParams {
  try {
    return oauth.validateAuthResponse(issuer.as, issuer.client, query, a.state);
  } catch (err) {
    throw loginError('the login redirect', err);
  }
}

async function outOfBand(issuer: Issuer, cfg: Config, io: LoginIo, a: Attempt, why: string, limit: Deadline): Promise<IdToken> {
  const url = authorizationUrl(issuer, cfg, OOB_REDIRECT, a);
  io.say(`No browser could be opened (${why}).`);
  // One line per call: say() escapes each line whole, so the URL cannot start a line of its own.
  for (const line of ['Go to the following link in a browser:', '', `\t ${url}`, '']) io.say(line);
  const code = await Promise.race([io.ask('Enter verification code: ', limit.signal), limit.promise]);
  if (code === null) {
    throw new GitsignError('TOKEN', `no browser could be opened (${why}) and there is no terminal to paste the code into: set gitsign.urlOpener, use gitsign.tokenProvider=device, or provide an ID token`);
  }
  const word = code.trim().split(/\s+/)[0] ?? '';
  if (!word) throw new GitsignError('TOKEN', 'no verification code was entered');
  // A pasted code comes from the issuer's own page: it stands for a redirect with our state (and the
  // issuer's name, when it promises one on every redirect).
  const pasted = new URLSearchParams({ code: word, state: a.state });
  if (issuer.as.authorization_response_iss_parameter_supported) pasted.set('iss', issuer.as.issuer);
  return exchange(issuer, cfg, validated(issuer, pasted, a), OOB_REDIRECT, a);
}

export async function browserFlow(cfg: Config, issuer: Issuer, io: LoginIo, timeoutMs = LOGIN_TIMEOUT_MS): Promise<IdToken> {
  const a: Attempt = { pkce: newPkce(), state: randomToken(), nonce: randomToken() };
  // The wait for the browser; the login's own deadline (issuer.signal) ends it too.
  const limit = deadline(timeoutMs, `no login within ${timeoutMs / 1000} s`, issuer.signal);
  let cb: Callback | undefined;
  try {
    // A bad urlOpener is a configuration error before anything listens, as in gitsign.
    if (cfg.urlOpener) openerArgv(cfg.urlOpener, '');
    // Autoclose only without the issuer's identity chooser, whose page would show a countdown that cannot close it (gitsign's rule).
    cb = await listenForCallback(cfg.redirectURL, a.state, { autoclose: cfg.autoclose && cfg.connectorID !== '', timeoutS: cfg.autocloseTimeout });
    if (cb.exposed) io.say(`gitsign: the login listener on ${cb.address} (gitsign.redirectURL) can be reached from other machines; it answers only this login's redirect.`);
    const url = authorizationUrl(issuer, cfg, cb.redirectUri, a);
    io.say('Your browser will now be opened to:');
    io.say(url);
    const opened = openBrowser(url, cfg.urlOpener);
    // A callback can arrive before the opener has even exited (a fast browser); either may come first.
    const first = await Promise.race([cb.result.then((q) => ({ q })), opened.then((why) => ({ why })), limit.promise]);
    if ('why' in first && first.why !== null) {
      cb.close();
      return await outOfBand(issuer, cfg, io, a, first.why, limit);
    }
    const query = 'q' in first ? first.q : await Promise.race([cb.result, limit.promise]);
    return await exchange(issuer, cfg, validated(issuer, query, a), cb.redirectUri, a);
  } finally {
    limit.clear();
    cb?.close();
  }
}
