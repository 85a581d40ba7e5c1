/**
 * The login's parts against a scripted issuer in this process: the device flow's polling (pending,
 * slow_down, refusal), the ID token checks (signature, issuer, audience, nonce, expiry), and the
 * urlOpener template.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DEFAULTS, type Config } from '../src/config/config';
import { deviceFlow } from '../src/oidc/deviceFlow';
import { discoverIssuer } from '../src/oidc/discovery';
import { verifyIdToken } from '../src/oidc/idToken';
import { openerArgv, splitWords } from '../src/oidc/opener';
import { successPage } from '../src/oidc/successPage';
import { type Hostile, jsonRoutes, serveHostile } from './helpers/hostileServer';

const KID = 'k1';
let key: KeyObject;
let server: Hostile;
let issuer: string;
/** Token endpoint answers, in order; then a valid ID token. */
let script: { error: string }[] = [];
let polls = 0;

function jwt(claims: Record<string, unknown>, signer = key, kid = KID): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc({ alg: 'ES256', kid, typ: 'JWT' })}.${enc(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: signer, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer, sub: 'u1', aud: 'sigstore', email: 'dev@example.com', email_verified: true, iat: now, exp: now + 60, ...extra };
}

before(async () => {
  ({ privateKey: key } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const pub = generateKeyPairSync('ec', { namedCurve: 'P-256' }); // unused second key in the set
  server = await serveHostile(
    jsonRoutes((path) => {
      if (path === '/.well-known/openid-configuration') {
        return [200, { issuer, authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/keys`, device_authorization_endpoint: `${issuer}/device`, response_types_supported: ['code'], id_token_signing_alg_values_supported: ['ES256'] }];
      }
      if (path === '/keys') {
        return [200, { keys: [{ ...key.export({ format: 'jwk' }), d: undefined, kid: KID, use: 'sig', alg: 'ES256' }, { ...pub.publicKey.export({ format: 'jwk' }), kid: 'other' }] }];
      }
      if (path === '/device') return [200, { device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: `${issuer}/activate`, expires_in: 600, interval: 1 }];
      if (path === '/token') {
        polls++;
        const next = script.shift();
        if (next) return [400, next];
        return [200, { access_token: 'at', token_type: 'bearer', id_token: jwt(claims()) }];
      }
      return [404, {}];
    }),
  );
  issuer = server.url;
});

after(() => server.close());

const cfg = (): Config => ({ ...DEFAULTS, issuer, clientID: 'sigstore' });

describe('device flow', () => {
  test('waits the interval, 5 s more after slow_down (RFC 8628), and keeps polling while pending', async () => {
    script = [{ error: 'authorization_pending' }, { error: 'slow_down' }, { error: 'authorization_pending' }];
    polls = 0;
    const slept: number[] = [];
    const said: string[] = [];
    const io = { say: (l: string) => said.push(l), ask: async () => null };
    const token = await deviceFlow(cfg(), await discoverIssuer(cfg(), ''), io, async (ms) => void slept.push(ms));
    assert.deepEqual(slept, [1000, 1000, 6000, 6000]);
    assert.equal(polls, 4);
    assert.equal(token.subject, 'dev@example.com');
    assert.deepEqual(said, [`Enter the verification code ABCD-EFGH in your browser at: ${issuer}/activate`, 'Code will be valid for 600 seconds']);
  });

  for (const error of ['access_denied', 'expired_token']) {
    test(`${error} ends the login with the issuer's words`, async () => {
      script = [{ error }];
      const io = { say: () => undefined, ask: async () => null };
      await assert.rejects(deviceFlow(cfg(), await discoverIssuer(cfg(), ''), io, async () => undefined), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'TOKEN');
        assert.match(e.message, new RegExp(error));
        return true;
      });
    });
  }
});

describe('ID token verification', () => {
  const want = (nonce?: string) => ({ issuer, audience: 'sigstore', jwksUri: `${issuer}/keys`, nonce });

  test('a token signed by the issuer with our audience and nonce is accepted', async () => {
    const t = await verifyIdToken(jwt(claims({ nonce: 'n1' })), want('n1'), 'interactive');
    assert.equal(t.subject, 'dev@example.com');
  });

  const cases: [string, () => string, RegExp][] = [
    ['another key', () => jwt(claims(), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey), /signature does not verify/],
    ['an unknown key id', () => jwt(claims(), key, 'nope'), /no single key "nope"/],
    ['another issuer', () => jwt(claims({ iss: 'https://evil.example' })), /issuer "https:\/\/evil\.example"/],
    ['another audience', () => jwt(claims({ aud: 'someone-else' })), /audience "someone-else"/],
    ['another nonce', () => jwt(claims({ nonce: 'replayed' })), /nonce/],
    ['no nonce', () => jwt(claims()), /nonce/],
    ['an expired token', () => jwt(claims({ exp: Math.floor(Date.now() / 1000) - 120 })), /expired/],
    ['no expiry', () => jwt(claims({ exp: undefined })), /no expiry/],
    ['alg none', () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`, /unsupported signature algorithm "none"/],
    ['an unverified email', () => jwt(claims({ nonce: 'n1', email_verified: false })), /unverified email/],
  ];
  for (const [what, make, message] of cases) {
    test(`refused: ${what}`, async () => {
      await assert.rejects(verifyIdToken(make(), want('n1'), 'interactive'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'TOKEN');
        assert.match(e.message, message);
        return true;
      });
    });
  }
});

describe('urlOpener template and success page', () => {
  test('split like a shell, run without one: the URL stays one argument, metacharacters are inert', () => {
    const url = 'http://h/a?b=1&c=$(rm -rf /);d';
    assert.deepEqual(openerArgv('firefox --new-tab {{.URL}}', url), ['firefox', '--new-tab', url]);
    assert.deepEqual(openerArgv('sh -c "echo $0" {{.URL}}', url), ['sh', '-c', 'echo $0', url]);
  });

  test('words split as gitsign splits them: quotes group and join, a backslash is an ordinary character, only space, tab, CR and LF separate', () => {
    assert.deepEqual(splitWords(`open -na "Google Chrome" --args --profile-directory="Profile 1" {{.URL}}`), ['open', '-na', 'Google Chrome', '--args', '--profile-directory=Profile 1', '{{.URL}}']);
    assert.deepEqual(splitWords('"C:\\Program Files\\Chrome\\chrome.exe" {{.URL}}'), ['C:\\Program Files\\Chrome\\chrome.exe', '{{.URL}}']);
    assert.deepEqual(splitWords('x\\ y "a\\"b'), ['x\\', 'y', 'a\\b']);
    assert.deepEqual(splitWords(`'say "hi"' "it's" a""b "" \t`), ['say "hi"', "it's", 'ab', '']);
    assert.deepEqual(splitWords('a\u00a0b\u000bc\td'), ['a\u00a0b\u000bc', 'd']);
  });

  test('each word is a Go text/template with .URL: spacing inside the braces, trim markers, comments, $.URL (results as Go 1.19 renders them)', () => {
    const cases: [string, string][] = [
      ['{{.URL}}', 'U'],
      ["'{{ .URL }}'", 'U'],
      ['"{{  .URL\t}}"', 'U'],
      ['{{$.URL}}', 'U'],
      ['"{{ $.URL }}"', 'U'],
      ['"a {{- .URL -}} b"', 'aUb'],
      ['"{{.URL -}}   x"', 'Ux'],
      ['"x  {{- .URL}}"', 'xU'],
      ['--app={{.URL}}&x', '--app=U&x'],
      ['{{.URL}}{{.URL}}', 'UU'],
      ['a}}b{{.URL}}', 'a}}bU'],
      ['{{/**/}}{{.URL}}', 'U'],
      ['"{{- /* c */ -}}{{.URL}}"', 'U'],
    ];
    for (const [word, rendered] of cases) assert.deepEqual(openerArgv(`browser ${word}`, 'U'), ['browser', rendered], word);
  });

  test('templates Go refuses, actions other than .URL, line breaks, an empty command or no URL are configuration errors', () => {
    const refused: [string, RegExp][] = [
      // Split first, as gitsign does: unquoted, "{{" is a word of its own with an unclosed action.
      ['firefox {{ .URL }}', /unclosed action \(write \{\{\.URL\}\}, quoted if it has spaces/],
      ['firefox {{.URL}', /unclosed action/],
      ['firefox {{.url}}', /the action \{\{\.url\}\}; only \{\{\.URL\}\} is supported/],
      ['firefox "{{. URL}}"', /only \{\{\.URL\}\} is supported/],
      ['firefox {{}}', /only \{\{\.URL\}\} is supported/],
      ['firefox {{-.URL}}', /only \{\{\.URL\}\} is supported/],
      ['firefox {{.URL-}}', /only \{\{\.URL\}\} is supported/],
      ['firefox "{{/* c */ }}{{.URL}}"', /comment .* does not end right before the closing braces/],
      ['firefox "{{ /* c */}}{{.URL}}"', /only \{\{\.URL\}\} is supported/],
      // Go would run these; we refuse rather than implement template functions.
      ['firefox {{.URL|urlquery}}', /only \{\{\.URL\}\} is supported/],
      ['firefox\n{{.URL}}', /cannot contain a line break/],
      ['firefox\r{{.URL}}', /cannot contain a line break/],
      [' \t ', /the command is empty/],
      ['firefox', /must have \{\{\.URL\}\} in its arguments/],
      ['firefox "{{/* only a comment */}}"', /must have \{\{\.URL\}\} in its arguments/],
      ['firefox "{{.URL}}', /unterminated " quote/],
    ];
    for (const [command, message] of refused) assert.throws(() => openerArgv(command, 'http://x'), (e: Error & { code?: string }) => e.code === 'CONFIG' && message.test(e.message), command);
  });

  test('the success page closes itself only with autoclose', () => {
    assert.match(successPage(true, 6), /window\.close\(\)/);
    assert.match(successPage(true, 6), /closes itself in <span id="n">6<\/span> seconds/);
    assert.doesNotMatch(successPage(false, 6), /window\.close/);
  });
});
