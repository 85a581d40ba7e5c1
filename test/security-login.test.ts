/**
 * Finding 14 (and 15 for the issuer's endpoints): the login does not take the issuer's word for what
 * to open, print, request or wait for. A hostile issuer (a node:http server in this process) names
 * endpoints of other schemes or cleartext remote hosts, and answers the device flow with absurd
 * intervals and lifetimes; the login must refuse, stay bounded, and end by its deadline.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type Config, DEFAULTS } from '../src/config/config';
import { GitsignError } from '../src/errors';
import { deviceFlow } from '../src/oidc/deviceFlow';
import { discoverIssuer } from '../src/oidc/discovery';
import { login } from '../src/oidc/login';
import { type Hostile, jsonRoutes, serveHostile, within } from './helpers/hostileServer';
import { removeDir } from './sandbox/support';

/** What the hostile issuer says; reset before each test. */
let metadata: Record<string, unknown> = {};
let deviceAnswer: Record<string, unknown> = {};
let polls = 0;
let server: Hostile;
let issuer: string;
const work = mkdtempSync(join(tmpdir(), 'gitsign-login-'));

before(async () => {
  server = await serveHostile(
    jsonRoutes((path) => {
      if (path === '/.well-known/openid-configuration') return [200, { issuer, response_types_supported: ['code'], ...metadata }];
      if (path === '/device') return [200, deviceAnswer];
      if (path === '/token') {
        polls++;
        return [400, { error: 'authorization_pending' }];
      }
      return [404, {}];
    }),
  );
  issuer = server.url;
});

after(async () => {
  await server.close();
  removeDir(work);
});

beforeEach(() => {
  metadata = { authorization_endpoint: `${issuer}/auth`, token_endpoint: `${issuer}/token`, jwks_uri: `${issuer}/keys`, device_authorization_endpoint: `${issuer}/device` };
  deviceAnswer = { device_code: 'dc', user_code: 'ABCD-EFGH', verification_uri: `${issuer}/activate`, expires_in: 600, interval: 1 };
  polls = 0;
});

const cfg = (extra: Partial<Config> = {}): Config => ({ ...DEFAULTS, issuer, clientID: 'sigstore', ...extra });

/** A terminal that records what is printed and never has a line to give. */
function terminal(): { say: (l: string) => void; ask: () => Promise<null>; said: string[]; asked: number } {
  const t = {
    said: [] as string[],
    asked: 0,
    say: (l: string) => void t.said.push(l),
    ask: async () => {
      t.asked++;
      return null;
    },
  };
  return t;
}

/** A gitsign.urlOpener that records the URL it was given (and opens nothing). */
function recordingOpener(name: string): { urlOpener: string; opened: () => boolean } {
  const record = join(work, `${name}.opened`);
  const script = join(work, `${name}.js`);
  writeFileSync(script, `require('node:fs').writeFileSync(${JSON.stringify(record)}, process.argv[2] ?? '');\n`);
  return { urlOpener: `${process.execPath} ${script} {{.URL}}`, opened: () => existsSync(record) };
}

function isTokenError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof GitsignError, String(err));
    assert.equal(err.code, 'TOKEN', err.message);
    assert.match(err.message, pattern);
    return true;
  };
}

/** A sleep for the device flow that records its waits, and refuses to be a busy loop. */
function recordingSleep(): { sleep: (ms: number) => Promise<void>; slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    sleep: async (ms) => {
      slept.push(ms);
      if (slept.length > 100) throw new Error(`polled ${slept.length} times: an unbounded loop`);
    },
  };
}

const HOSTILE_URLS: [string, string][] = [
  ['file:', 'file:///etc/passwd'],
  ['javascript:', 'javascript:alert(document.cookie)'],
  ['a shell command', '$(touch /tmp/gitsign-pwned)'],
  ['cleartext http to another host', 'http://issuer.invalid/auth'],
  ['data:', 'data:text/html,<script>alert(1)</script>'],
];

describe('finding 14: the issuer\'s endpoints', () => {
  for (const [what, url] of HOSTILE_URLS) {
    test(`finding 14: an authorization_endpoint that is ${what} never reaches the opener or the terminal`, async () => {
      metadata.authorization_endpoint = url;
      const opener = recordingOpener(`auth-${what.replace(/\W+/g, '-')}`);
      const io = terminal();
      await assert.rejects(within(20_000, login(cfg({ urlOpener: opener.urlOpener }), 'interactive', io), 'the login'), isTokenError(/the issuer's authorization_endpoint/));
      assert.equal(opener.opened(), false, 'the opener ran');
      assert.equal(io.asked, 0);
      assert.ok(!io.said.some((l) => l.includes(url)), io.said.join('\n'));
    });
  }

  for (const endpoint of ['token_endpoint', 'device_authorization_endpoint', 'jwks_uri']) {
    for (const [what, url] of HOSTILE_URLS) {
      test(`finding 14: a ${endpoint} that is ${what} is refused at discovery`, async () => {
        metadata[endpoint] = url;
        await assert.rejects(within(20_000, discoverIssuer(cfg(), ''), 'discovery'), isTokenError(new RegExp(`the issuer's ${endpoint}`)));
      });
    }
  }

  test('finding 14: an endpoint that is not a string is refused', async () => {
    metadata.token_endpoint = { href: 'https://x' };
    await assert.rejects(discoverIssuer(cfg(), ''), isTokenError(/the issuer's token_endpoint is not a URL/));
  });
});

describe('finding 14: the device flow\'s words', () => {
  for (const field of ['verification_uri', 'verification_uri_complete']) {
    for (const [what, url] of HOSTILE_URLS) {
      test(`finding 14: a ${field} that is ${what} is refused and never printed`, async () => {
        deviceAnswer[field] = url;
        const io = terminal();
        const { sleep } = recordingSleep();
        await assert.rejects(within(20_000, deviceFlow(cfg(), await discoverIssuer(cfg(), ''), io, sleep), 'the device flow'), isTokenError(new RegExp(`the issuer's ${field}`)));
        assert.deepEqual(io.said, []);
        assert.equal(polls, 0);
      });
    }
  }

  test('finding 14: the printed verification URI is the parsed URL, control characters escaped', async () => {
    deviceAnswer.verification_uri_complete = `${issuer}/activate?user_code=\u001b[2J\u001b[31mGood`;
    const io = terminal();
    const { sleep } = recordingSleep();
    await assert.rejects(deviceFlow(cfg(), await discoverIssuer(cfg(), ''), io, sleep));
    assert.ok(io.said.length > 0);
    assert.ok(!io.said.join('\n').includes('\u001b'), JSON.stringify(io.said));
    assert.match(io.said[0], /activate\?user_code=%1B\[2J%1B\[31mGood$/);
  });

  test('finding 14: an interval under a second is raised to 1 s (no flood of polls)', async () => {
    deviceAnswer.interval = 0.0001;
    deviceAnswer.expires_in = 5;
    const { sleep, slept } = recordingSleep();
    await assert.rejects(within(20_000, deviceFlow(cfg(), await discoverIssuer(cfg(), ''), terminal(), sleep), 'the device flow'), isTokenError(/the device code expired/));
    assert.ok(slept.every((ms) => ms === 1000), JSON.stringify(slept.slice(0, 10)));
    assert.ok(polls <= 5, `${polls} polls`);
  });

  test('finding 14: an interval over a minute is lowered to 60 s; an expires_in over 15 min is cut to 15 min', async () => {
    deviceAnswer.interval = 1e9;
    deviceAnswer.expires_in = 1e12;
    const io = terminal();
    const { sleep, slept } = recordingSleep();
    await assert.rejects(within(20_000, deviceFlow(cfg(), await discoverIssuer(cfg(), ''), io, sleep), 'the device flow'), isTokenError(/the device code expired/));
    assert.ok(slept.every((ms) => ms === 60_000), JSON.stringify(slept));
    assert.equal(polls, 15);
    assert.equal(io.said[1], 'Code will be valid for 900 seconds');
  });

  test('finding 14: a missing interval is 5 s', async () => {
    delete deviceAnswer.interval;
    deviceAnswer.expires_in = 12;
    const { sleep, slept } = recordingSleep();
    await assert.rejects(deviceFlow(cfg(), await discoverIssuer(cfg(), ''), terminal(), sleep), isTokenError(/expired/));
    assert.deepEqual(slept, [5000, 5000, 5000]);
  });
});

/** Resolves true when something accepts a TCP connection on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

describe('finding 14: the whole login has a deadline', () => {
  test('finding 14: a device login the issuer keeps pending ends at the deadline and stops polling', async () => {
    deviceAnswer.expires_in = 900;
    await assert.rejects(within(20_000, login(cfg(), 'device', terminal(), 2_500), 'the login'), isTokenError(/the login did not finish within 2\.5 s/));
    const seen = polls;
    assert.ok(seen >= 1, 'never polled');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(polls, seen, 'still polling after the deadline');
  });

  test('finding 14: a browser login nobody completes ends at the deadline and closes its listener', async () => {
    const opener = recordingOpener('deadline');
    const io = terminal();
    await assert.rejects(within(20_000, login(cfg({ urlOpener: opener.urlOpener }), 'interactive', io, 2_000), 'the login'), isTokenError(/the login did not finish within 2 s/));
    assert.equal(opener.opened(), true);
    const authUrl = io.said.join('\n').split('\n').find((l) => l.startsWith(`${issuer}/auth?`)) ?? '';
    const port = Number(new URL(new URL(authUrl).searchParams.get('redirect_uri') ?? '').port);
    assert.ok(port > 0, io.said.join('\n'));
    assert.equal(await within(5_000, listening(port), 'connect'), false, 'the loopback listener is still open');
  });
});
