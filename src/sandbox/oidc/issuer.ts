import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { BodyTooLarge, parseForm, readBody, send, sendJson, type Request, type Router } from '../http/router';
import type { Claims } from './jwt';
import { mintIdToken, TOKEN_LIFETIME_S } from './token';

/**
 * A sandbox OpenID Provider (Dex-shaped paths under /auth): discovery, JWKS, an authorization endpoint
 * that signs the configured test identity in at once and redirects with code and state, a token
 * endpoint enforcing PKCE S256, and the device authorization grant (approved at once).
 */
export interface Identity {
  subject: string;
  extraClaims?: Claims;
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  identity: Identity;
  expires: number;
}

interface PendingDevice {
  clientId: string;
  challenge?: string;
  identity: Identity;
  expires: number;
  userCode: string;
}

const CODE_LIFETIME_MS = 5 * 60 * 1000;
const DEVICE_LIFETIME_S = 5 * 60;
const FORM_LIMIT = 64 * 1024;
const OOB = 'urn:ietf:wg:oauth:2.0:oob';
export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const random = (n = 24): string => randomBytes(n).toString('base64url');
const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

function isLoopbackRedirect(uri: string): boolean {
  if (uri === OOB) return true;
  try {
    const u = new URL(uri);
    return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res: ServerResponse, status: number, title: string, text: string): void {
  send(res, status, `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>\n`, {
    'Content-Type': 'text/html; charset=utf-8',
  });
}

function oauthError(res: ServerResponse, error: string, description: string, status = 400): void {
  sendJson(res, status, { error, error_description: description }, { 'Cache-Control': 'no-store' });
}

export class OidcIssuer {
  private readonly codes = new Map<string, PendingCode>();
  private readonly devices = new Map<string, PendingDevice>();

  constructor(
    readonly issuer: string,
    private readonly key: KeyObject,
    private readonly publicKey: KeyObject,
    readonly kid: string,
    private readonly identity: Identity,
  ) {}

  /** Forgets codes nobody exchanged in time. */
  private prune(): void {
    const now = Date.now();
    for (const [k, v] of this.codes) if (v.expires < now) this.codes.delete(k);
    for (const [k, v] of this.devices) if (v.expires < now) this.devices.delete(k);
  }

  get endpoints() {
    return {
      authorization: `${this.issuer}/auth`,
      token: `${this.issuer}/token`,
      jwks: `${this.issuer}/keys`,
      device: `${this.issuer}/device/code`,
      deviceVerification: `${this.issuer}/device`,
    };
  }

  mount(router: Router, prefix: string): void {
    router
      .on('GET', `${prefix}/.well-known/openid-configuration`, (_req, res) => this.discovery(res))
      .on('GET', `${prefix}/keys`, (_req, res) => this.jwks(res))
      .on('GET', `${prefix}/auth`, (req, res) => this.authorize(req, res))
      .on('POST', `${prefix}/token`, (req, res) => this.token(req, res))
      .on('POST', `${prefix}/device/code`, (req, res) => this.deviceAuthorization(req, res))
      .on('GET', `${prefix}/device`, (req, res) => this.deviceVerification(req, res));
  }

  private discovery(res: ServerResponse): void {
    const e = this.endpoints;
    sendJson(res, 200, {
      issuer: this.issuer,
      authorization_endpoint: e.authorization,
      token_endpoint: e.token,
      jwks_uri: e.jwks,
      device_authorization_endpoint: e.device,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: ['openid', 'email', 'profile'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      grant_types_supported: ['authorization_code', DEVICE_GRANT],
      claims_supported: ['iss', 'sub', 'aud', 'iat', 'exp', 'nonce', 'at_hash', 'email', 'email_verified'],
    });
  }

  private jwks(res: ServerResponse): void {
    const jwk = this.publicKey.export({ format: 'jwk' });
    sendJson(res, 200, { keys: [{ ...jwk, use: 'sig', alg: 'ES256', kid: this.kid }] });
  }

  private identityFor(loginHint: string | null): Identity {
    return loginHint ? { subject: loginHint, extraClaims: this.identity.extraClaims } : this.identity;
  }

  private authorize(req: Request, res: ServerResponse): void {
    const q = req.query;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!isLoopbackRedirect(redirectUri)) return page(res, 400, 'Bad request', 'redirect_uri must be a loopback http URL or urn:ietf:wg:oauth:2.0:oob');
    const state = q.get('state');
    const fail = (error: string, description: string): void => {
      if (redirectUri === OOB) return page(res, 400, error, description);
      const u = new URL(redirectUri);
      u.searchParams.set('error', error);
      u.searchParams.set('error_description', description);
      if (state !== null) u.searchParams.set('state', state);
      send(res, 302, '', { Location: u.toString() });
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
    const clientId = q.get('client_id');
    if (!clientId) return fail('invalid_request', 'client_id is required');
    const challenge = q.get('code_challenge');
    if (!challenge || q.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required');
    const code = random();
    this.prune();
    this.codes.set(code, {
      clientId,
      redirectUri,
      challenge,
      nonce: q.get('nonce') ?? undefined,
      identity: this.identityFor(q.get('login_hint')),
      expires: Date.now() + CODE_LIFETIME_MS,
    });
    if (redirectUri === OOB) return page(res, 200, 'Signed in to the gitsign sandbox', `Verification code: ${code}`);
    const u = new URL(redirectUri);
    u.searchParams.set('code', code);
    if (state !== null) u.searchParams.set('state', state);
    send(res, 302, '', { Location: u.toString() });
  }

  private async form(req: Request, res: ServerResponse): Promise<URLSearchParams | undefined> {
    try {
      const form = parseForm(await readBody(req.raw, FORM_LIMIT));
      // client_secret_basic: the client ID may come in the Authorization header.
      const auth = req.headers.authorization;
      if (!form.get('client_id') && auth?.startsWith('Basic ')) {
        const id = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0];
        form.set('client_id', decodeURIComponent(id));
      }
      return form;
    } catch (err) {
      oauthError(res, 'invalid_request', err instanceof BodyTooLarge ? 'request body too large' : 'unreadable request body');
      return undefined;
    }
  }

  private issue(res: ServerResponse, identity: Identity, clientId: string, nonce?: string): void {
    const accessToken = random(32);
    const idToken = mintIdToken(
      { issuer: this.issuer, subject: identity.subject, audience: clientId, nonce, accessToken, extraClaims: identity.extraClaims },
      this.key,
      this.kid,
    );
    sendJson(res, 200, { access_token: accessToken, token_type: 'bearer', expires_in: TOKEN_LIFETIME_S, id_token: idToken }, { 'Cache-Control': 'no-store' });
  }

  private async token(req: Request, res: ServerResponse): Promise<void> {
    const form = await this.form(req, res);
    if (!form) return;
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const code = form.get('code') ?? '';
      const pending = this.codes.get(code);
      this.codes.delete(code); // single use, even when the exchange fails
      if (!pending || pending.expires < Date.now()) return oauthError(res, 'invalid_grant', 'invalid or expired authorization code');
      if (form.get('redirect_uri') !== pending.redirectUri) return oauthError(res, 'invalid_grant', 'redirect_uri does not match the authorization request');
      const clientId = form.get('client_id') ?? pending.clientId;
      if (clientId !== pending.clientId) return oauthError(res, 'invalid_grant', 'client_id does not match the authorization request');
      const verifier = form.get('code_verifier');
      if (!verifier) return oauthError(res, 'invalid_request', 'code_verifier is required (PKCE)');
      if (s256(verifier) !== pending.challenge) return oauthError(res, 'invalid_grant', 'code_verifier does not match code_challenge');
      return this.issue(res, pending.identity, pending.clientId, pending.nonce);
    }
    if (grant === DEVICE_GRANT) {
      const deviceCode = form.get('device_code') ?? '';
      const pending = this.devices.get(deviceCode);
      if (!pending) return oauthError(res, 'invalid_grant', 'unknown device_code');
      if (pending.expires < Date.now()) {
        this.devices.delete(deviceCode);
        return oauthError(res, 'expired_token', 'the device code has expired');
      }
      if (pending.challenge !== undefined) {
        const verifier = form.get('code_verifier');
        if (!verifier || s256(verifier) !== pending.challenge) return oauthError(res, 'invalid_grant', 'code_verifier does not match code_challenge');
      }
      this.devices.delete(deviceCode);
      return this.issue(res, pending.identity, pending.clientId);
    }
    return oauthError(res, 'unsupported_grant_type', `unsupported grant_type ${grant ?? '(none)'}`);
  }

  private async deviceAuthorization(req: Request, res: ServerResponse): Promise<void> {
    const form = await this.form(req, res);
    if (!form) return;
    const clientId = form.get('client_id');
    if (!clientId) return oauthError(res, 'invalid_request', 'client_id is required');
    const challenge = form.get('code_challenge') ?? undefined;
    if (challenge !== undefined && (form.get('code_challenge_method') ?? 'S256') !== 'S256') {
      return oauthError(res, 'invalid_request', 'only code_challenge_method=S256 is supported');
    }
    const deviceCode = random(32);
    this.prune();
    const raw = randomBytes(8).toString('hex').toUpperCase().slice(0, 8);
    const userCode = `${raw.slice(0, 4)}-${raw.slice(4)}`;
    this.devices.set(deviceCode, {
      clientId,
      challenge,
      identity: this.identityFor(form.get('login_hint')),
      expires: Date.now() + DEVICE_LIFETIME_S * 1000,
      userCode,
    });
    const e = this.endpoints;
    sendJson(res, 200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: e.deviceVerification,
      verification_uri_complete: `${e.deviceVerification}?user_code=${encodeURIComponent(userCode)}`,
      expires_in: DEVICE_LIFETIME_S,
      interval: 1,
    });
  }

  private deviceVerification(req: Request, res: ServerResponse): void {
    const userCode = req.query.get('user_code');
    const found = [...this.devices.values()].find((d) => d.userCode === userCode);
    if (!found) return page(res, 200, 'gitsign sandbox', 'Device codes are approved automatically in the sandbox; nothing to do here.');
    page(res, 200, 'Device approved', `Signed in as ${found.identity.subject}. You may return to your terminal.`);
  }
}
