/**
 * Finding 8: every server we run (the `gitsign sandbox` process, the login's loopback listener) answers
 * malformed requests with a 4xx and goes on serving. Requests are raw bytes over node:net, as no HTTP
 * client would send them; after each, a good request must still be answered.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { listenForCallback } from '../src/oidc/loopback';
import { rawRequest, statusOf, within } from './helpers/hostileServer';
import { removeDir, spawnSandbox, type Spawned, tempDir } from './sandbox/support';

const CRLF = '\r\n';
/** A raw HTTP/1.1 request: request line, headers, blank line, body. */
function raw(line: string, headers: string[] = [], body = ''): string {
  return [line, 'Host: 127.0.0.1', 'Connection: close', ...headers, '', body].join(CRLF);
}

/** Requests every server must refuse with a 4xx, whatever it serves. */
const MALFORMED_ANYWHERE: [string, string | Buffer, number][] = [
  ['a target that is not a URL (GET //[)', raw('GET //[ HTTP/1.1'), 400],
  ['absolute-form garbage (GET http://[::1)', raw('GET http://[::1 HTTP/1.1'), 400],
  ['an absolute-form URL without a host', raw('GET http://user@/x HTTP/1.1'), 400],
  ['a header of 100 KiB', raw('GET / HTTP/1.1', [`X-Big: ${'a'.repeat(100 * 1024)}`]), 431],
  ['an unknown method', raw('BREW / HTTP/1.1'), 400],
  ['bytes that are not HTTP', Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]), 400],
  ['Content-Length and Transfer-Encoding together', raw('POST / HTTP/1.1', ['Content-Length: 5', 'Transfer-Encoding: chunked'], '0\r\n\r\n'), 400],
];

/** The sandbox's services on top of those. */
const MALFORMED_SANDBOX: [string, string | Buffer, number][] = [
  ['a bad percent-escape in a Rekor UUID', raw('GET /api/v1/log/entries/%E0%A4%A HTTP/1.1'), 400],
  ['a percent sign alone in a Rekor UUID', raw('GET /api/v1/log/entries/% HTTP/1.1'), 400],
  ['a body announced at 600 MiB', raw('POST /api/v1/log/entries HTTP/1.1', ['Content-Type: application/json', `Content-Length: ${600 * 1024 * 1024}`], '{"kind":'), 413],
  ['a Rekor body over its 4 MiB limit', raw('POST /api/v1/log/entries HTTP/1.1', ['Content-Type: application/json', `Content-Length: ${5 * 1024 * 1024}`], 'x'.repeat(5 * 1024 * 1024)), 413],
  ['invalid JSON to Rekor', raw('POST /api/v1/log/entries HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 8'], '{"kind":'), 400],
  ['invalid JSON to Fulcio', raw('POST /api/v2/signingCert HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 3'], '{{{'), 400],
  ['invalid JSON to Rekor v2', raw('POST /api/v2/log/entries HTTP/1.1', ['Content-Type: application/json', 'Content-Length: 3'], '[[['), 400],
  ['garbage to the TSA', raw('POST /api/v1/timestamp HTTP/1.1', ['Content-Type: application/timestamp-query', 'Content-Length: 4'], '\x30\x82\xff\xff'), 400],
  ['an unreadable Basic header at the token endpoint', raw('POST /auth/token HTTP/1.1', ['Content-Type: application/x-www-form-urlencoded', 'Authorization: Basic JSUl', 'Content-Length: 3'], 'a=b'), 400],
  ['a redirect_uri that is not a URL', raw('GET /auth/auth?redirect_uri=http://[ HTTP/1.1'), 400],
  ['a wrong method on a known path', raw('DELETE /api/v1/log/entries HTTP/1.1'), 405],
];

async function expectRefusedThenServed(port: number, request: string | Buffer, expected: number, good: () => Promise<void>): Promise<void> {
  const answer = await within(15_000, rawRequest(port, request), 'the malformed request');
  const status = statusOf(answer);
  assert.equal(status, expected, `answered ${JSON.stringify(answer.slice(0, 200))}`);
  await good();
}

describe('finding 8: the sandbox answers malformed requests with 4xx and stays up', () => {
  let dir: string;
  let sandbox: Spawned;
  let exited = false;
  before(async () => {
    dir = tempDir();
    sandbox = await spawnSandbox(dir);
    sandbox.proc.on('exit', () => (exited = true));
  });
  after(async () => {
    await sandbox?.stop();
    removeDir(dir);
  });

  const port = (): number => Number(new URL(sandbox.url).port);
  const ping = async (): Promise<void> => {
    assert.equal(exited, false, `the sandbox exited: ${sandbox.stderr()}`);
    const answer = await within(15_000, rawRequest(port(), raw('GET /ping HTTP/1.1')), 'GET /ping');
    assert.equal(statusOf(answer), 200, answer.slice(0, 200));
    assert.match(answer, /\r\n\r\npong$/);
  };

  for (const [what, request, status] of [...MALFORMED_ANYWHERE, ...MALFORMED_SANDBOX]) {
    test(`finding 8: sandbox: ${what} -> ${status}, then a good request is answered`, async () => {
      await expectRefusedThenServed(port(), request, status, ping);
    });
  }
});

describe('finding 8: the login\'s loopback listener answers malformed requests with 400 and keeps waiting', () => {
  const STATE = 'the-state';
  let callback: Awaited<ReturnType<typeof listenForCallback>>;
  before(async () => {
    callback = await listenForCallback('', STATE, { autoclose: false, timeoutS: 6 });
  });
  after(() => callback?.close());
  const port = (): number => Number(new URL(callback.redirectUri).port);
  /** The listener is up: a stray request is still refused with its page. */
  const stillListening = async (): Promise<void> => {
    const answer = await within(15_000, rawRequest(port(), raw('GET /auth/callback?state=another HTTP/1.1')), 'a stray request');
    assert.equal(statusOf(answer), 400);
    assert.match(answer, /not the login gitsign is waiting for/);
  };

  const listenerCases: [string, string | Buffer, number][] = [
    ...MALFORMED_ANYWHERE,
    ['a POST to the callback', raw('POST /auth/callback?state=the-state&code=c HTTP/1.1', ['Content-Length: 0']), 400],
    ['a bad percent-escape in the query', raw('GET /auth/callback?state=%E0%A4%A&code=%ZZ HTTP/1.1'), 400],
  ];
  for (const [what, request, status] of listenerCases) {
    test(`finding 8: loopback listener: ${what} -> ${status}, and it keeps listening`, async () => {
      await expectRefusedThenServed(port(), request, status, stillListening);
    });
  }

  test('finding 8: after all of them, the real redirect still completes the login', async () => {
    const answer = await within(15_000, rawRequest(port(), raw(`GET /auth/callback?state=${STATE}&code=the-code HTTP/1.1`)), 'the redirect');
    assert.equal(statusOf(answer), 200);
    const query = await within(5_000, callback.result, 'the callback result');
    assert.equal(query.get('code'), 'the-code');
  });
});
