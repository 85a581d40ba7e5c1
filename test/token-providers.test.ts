/**
 * cosign's token providers as gitsign uses them: each against a local fake of its endpoint (a SPIFFE
 * Workload API speaking gRPC on a unix socket, a GCE metadata server, Google's OAuth token endpoint
 * and IAM Credentials API, the Buildkite agent API, GitHub's token service), never a real service;
 * the order they are tried in, what enables each, hostile answers, and a `git commit -S` signed
 * against the sandbox with a token from the SPIFFE fake.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { generateKeyPairSync, verify as verifySignature } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEFAULTS, type Config } from '../src/config/config';
import { GitsignError } from '../src/errors';
import { setCallDeadlineMs, CALL_DEADLINE_MS } from '../src/net/deadline';
import { readFields, writeFields } from '../src/rekor/protobuf';
import { chooseProvider, obtainIdToken, type IdToken } from '../src/oidc/token';
import { BIN } from './helpers/paths';
import { drip, huge, MiB, serveHostile, silent, within, type Behaviour } from './helpers/hostileServer';
import { gitAsync, mintToken, sandboxPerFile, signingRepo } from './helpers/signingSandbox';

const io = { say: () => undefined, ask: async () => null };
const ACCOUNT = 'signer@project.iam.gserviceaccount.com';

/** An unsigned JWT whose subject says where it came from (Fulcio is not involved in these tests). */
function jwt(sub: string): string {
  const part = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ iss: 'https://issuer.example', sub, aud: 'sigstore', exp: 4102444800 })}.c2ln`;
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
  });
}

function listen(server: Server | Http2Server, where: string | number): Promise<void> {
  return new Promise((resolve) => (typeof where === 'string' ? server.listen(where, resolve) : server.listen(where, '127.0.0.1', resolve)));
}

function close(server: Server | Http2Server): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

// ---------------------------------------------------------------------------------------------
// The SPIFFE Workload API: gRPC (HTTP/2) on a unix socket, as a SPIRE agent serves it.

type WorkloadAnswer = { token: string } | { status: number; message: string } | { raw: Buffer } | 'never';

interface WorkloadApi {
  socket: string;
  calls: { path: string; security: string | undefined; contentType: string | undefined; audience: string[] }[];
  answer: WorkloadAnswer;
  close(): Promise<void>;
}

function grpcFrame(message: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head[0] = flag;
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** JWTSVIDResponse { svids: [JWTSVID { spiffe_id, svid }] } */
function jwtSvidResponse(token: string): Buffer {
  const svid = writeFields([
    { num: 1, wire: 2, value: Buffer.from('spiffe://example.org/ci') },
    { num: 2, wire: 2, value: Buffer.from(token) },
  ]);
  return writeFields([{ num: 1, wire: 2, value: svid }]);
}

async function serveWorkloadApi(dir: string): Promise<WorkloadApi> {
  const socket = join(dir, 'agent.sock');
  const api: WorkloadApi = { socket, calls: [], answer: { token: jwt('spiffe') }, close: () => close(server) };
  const server = createHttp2Server();
  server.on('stream', (stream: ServerHttp2Stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('error', () => undefined);
    stream.on('end', () => {
      const request = Buffer.concat(chunks).subarray(5);
      const audience = readFields(request)
        .filter((f) => f.num === 1)
        .map((f) => (f.value as Buffer).toString());
      api.calls.push({ path: String(headers[':path']), security: headers['workload.spiffe.io'] as string | undefined, contentType: headers['content-type'], audience });
      const answer = api.answer;
      if (answer === 'never') return;
      // As SPIRE: a call without the security header is refused.
      if (headers['workload.spiffe.io'] !== 'true') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '3', 'grpc-message': 'security header missing from request' }, { endStream: true });
        return;
      }
      if ('status' in answer) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(answer.status), 'grpc-message': encodeURIComponent(answer.message) }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end('raw' in answer ? answer.raw : grpcFrame(jwtSvidResponse(answer.token)));
    });
  });
  await listen(server, socket);
  return api;
}

// ---------------------------------------------------------------------------------------------
// Google: the GCE metadata server, the OAuth token endpoint and the IAM Credentials API, on one port.

const saKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

interface GoogleFake {
  url: string;
  host: string;
  /** What the metadata identity endpoint answers: a token, or this status. */
  identity: 'token' | number;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

function claimsOf(assertion: string): Record<string, unknown> {
  const [h, c, s] = assertion.split('.');
  const ok = verifySignature('RSA-SHA256', Buffer.from(`${h}.${c}`), saKeys.publicKey, Buffer.from(s, 'base64url'));
  if (!ok) throw new Error('bad assertion signature');
  return JSON.parse(Buffer.from(c, 'base64url').toString()) as Record<string, unknown>;
}

async function serveGoogle(): Promise<GoogleFake> {
  const fake = { identity: 'token', requests: [] } as unknown as GoogleFake;
  const json = (res: ServerResponse, status: number, value: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await body(req);
    const url = new URL(req.url ?? '/', 'http://x');
    fake.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text });
    if (url.pathname.startsWith('/computeMetadata/v1/')) {
      if (req.headers['metadata-flavor'] !== 'Google') return json(res, 403, { error: 'missing Metadata-Flavor' });
      if (url.pathname.endsWith('/default/identity')) {
        if (fake.identity !== 'token') return json(res, fake.identity, { error: 'no identity' });
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        return void res.end(jwt(`gce:${url.searchParams.get('audience')}:${url.searchParams.get('format')}`));
      }
      if (url.pathname.endsWith('/default/token')) return json(res, 200, { access_token: 'metadata-access', expires_in: 3599, token_type: 'Bearer' });
      return json(res, 404, {});
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      const form = new URLSearchParams(text);
      if (form.get('grant_type') === 'refresh_token') {
        if (form.get('refresh_token') !== 'refresh-me') return json(res, 400, { error: 'invalid_grant' });
        return json(res, 200, { access_token: 'user-access', expires_in: 3599 });
      }
      const claims = claimsOf(form.get('assertion') ?? '');
      if (claims.iss !== ACCOUNT || claims.aud !== `${fake.url}/token`) return json(res, 400, { error: 'invalid_grant' });
      if (typeof claims.target_audience === 'string') return json(res, 200, { id_token: jwt(`key:${claims.target_audience}`) });
      return json(res, 200, { access_token: `key-access:${String(claims.scope)}`, expires_in: 3599 });
    }
    const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateIdToken$/.exec(url.pathname);
    if (m && req.method === 'POST') {
      const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!bearer) return json(res, 401, { error: { message: 'no credentials' } });
      const asked = JSON.parse(text) as { audience: string; includeEmail: boolean };
      return json(res, 200, { token: jwt(`impersonated:${decodeURIComponent(m[1])}:${asked.audience}:${asked.includeEmail}:${bearer}`) });
    }
    json(res, 404, {});
  };
  // A fake that trips over a request answers 500 with why, rather than leaving the client waiting.
  const server = createHttpServer((req, res) => void handle(req, res).catch((err: Error) => json(res, 500, { message: `fake: ${err.message}` })));
  await listen(server, 0);
  const port = (server.address() as AddressInfo).port;
  fake.host = `127.0.0.1:${port}`;
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () => close(server);
  return fake;
}

// ---------------------------------------------------------------------------------------------
// The Buildkite agent API and GitHub's token service.

interface HttpFake {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[];
  status: number;
  close(): Promise<void>;
}

async function serveJson(answer: (req: IncomingMessage, text: string) => unknown): Promise<HttpFake> {
  const fake = { requests: [], status: 200 } as unknown as HttpFake;
  const server = createHttpServer(async (req, res) => {
    const text = await body(req);
    fake.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: text });
    res.writeHead(fake.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(fake.status === 200 ? answer(req, text) : { message: 'refused' }));
  });
  await listen(server, 0);
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () => close(server);
  return fake;
}

// ---------------------------------------------------------------------------------------------

let dir: string;
let spiffe: WorkloadApi;
let google: GoogleFake;
let buildkite: HttpFake;
let github: HttpFake;

/** A service account key file whose token_uri is the fake's. */
function serviceAccountFile(name = 'sa.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ type: 'service_account', client_email: ACCOUNT, private_key_id: 'k1', private_key: saKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: `${google.url}/token` }));
  return path;
}

/** Every provider this machine can have enabled (not filesystem: its path is fixed under /var/run). */
function allEnabled(): NodeJS.ProcessEnv {
  return {
    HOME: dir, // no gcloud credentials file
    SIGSTORE_ID_TOKEN: jwt('envvar'),
    ACTIONS_ID_TOKEN_REQUEST_URL: `${github.url}/token?api-version=2.0`,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'gh-request-token',
    SPIFFE_ENDPOINT_SOCKET: spiffe.socket,
    GCE_METADATA_HOST: google.host,
    GOOGLE_SERVICE_ACCOUNT_NAME: ACCOUNT,
    CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: `${google.url}/`,
    BUILDKITE_AGENT_ACCESS_TOKEN: 'agent-token',
    BUILDKITE_AGENT_ENDPOINT: `${buildkite.url}/v3`,
    BUILDKITE_JOB_ID: 'job-1',
  };
}

function without(env: NodeJS.ProcessEnv, ...names: string[]): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const n of names) delete copy[n];
  return copy;
}

function token(env: NodeJS.ProcessEnv, cfg: Partial<Config> = {}): Promise<IdToken> {
  return within(20_000, obtainIdToken({ ...DEFAULTS, ...cfg }, io, env), 'obtainIdToken');
}

async function refusal(call: Promise<unknown>): Promise<GitsignError> {
  let caught: unknown;
  await within(20_000, call.then(() => assert.fail('a token was obtained'), (err: unknown) => (caught = err)), 'the refusal');
  assert.ok(caught instanceof GitsignError, `not a GitsignError: ${String(caught)}`);
  return caught;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gitsign-providers-'));
  spiffe = await serveWorkloadApi(dir);
  google = await serveGoogle();
  buildkite = await serveJson((req) => ({ token: jwt(`buildkite:${req.url}`) }));
  github = await serveJson((req) => ({ value: jwt(`github:${new URL(req.url ?? '/', 'http://x').searchParams.get('audience')}`) }));
});

after(async () => {
  await Promise.all([spiffe?.close(), google?.close(), buildkite?.close(), github?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('each provider against a local fake of its endpoint', () => {
  test('spiffe: FetchJWTSVID over gRPC on the socket, with the security header and the audience; the first JWT-SVID is the token', async () => {
    spiffe.calls.length = 0;
    spiffe.answer = { token: jwt('spiffe') };
    const t = await token({ SPIFFE_ENDPOINT_SOCKET: spiffe.socket }, { tokenProvider: 'spiffe', clientID: 'my-audience' });
    assert.equal(t.subject, 'spiffe');
    assert.equal(t.provider, 'spiffe');
    assert.deepEqual(spiffe.calls, [{ path: '/SpiffeWorkloadAPI/FetchJWTSVID', security: 'true', contentType: 'application/grpc', audience: ['my-audience'] }]);
  });

  test('spiffe: a refusal by the agent is its gRPC status and message, as a TOKEN sentence', async () => {
    spiffe.answer = { status: 7, message: 'no identity issued' };
    const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'spiffe' }, io, { SPIFFE_ENDPOINT_SOCKET: spiffe.socket }));
    assert.equal(e.code, 'TOKEN');
    assert.match(e.message, /^token provider spiffe: SPIFFE Workload API at .*agent\.sock: it refused the call with gRPC status 7 \(PERMISSION_DENIED\): no identity issued$/);
    spiffe.answer = { token: jwt('spiffe') };
  });

  test('google-workload-identity: the metadata server identity endpoint (audience, format=full, Metadata-Flavor)', async () => {
    google.requests.length = 0;
    google.identity = 'token';
    const t = await token({ HOME: dir, GCE_METADATA_HOST: google.host }, { tokenProvider: 'google-workload-identity' });
    assert.equal(t.subject, 'gce:sigstore:full');
    const [r] = google.requests;
    assert.equal(r.path, '/computeMetadata/v1/instance/service-accounts/default/identity?audience=sigstore&format=full');
    assert.equal(r.headers['metadata-flavor'], 'Google');
  });

  test('google-workload-identity: a service account key in GOOGLE_APPLICATION_CREDENTIALS signs a JWT-bearer grant for an ID token (no metadata server needed)', async () => {
    google.requests.length = 0;
    const t = await token({ HOME: dir, GOOGLE_APPLICATION_CREDENTIALS: serviceAccountFile() }, { tokenProvider: 'google-workload-identity' });
    assert.equal(t.subject, 'key:sigstore');
    assert.deepEqual(
      google.requests.map((r) => r.path),
      ['/token'],
    );
    const form = new URLSearchParams(google.requests[0].body);
    assert.equal(form.get('grant_type'), 'urn:ietf:params:oauth:grant-type:jwt-bearer');
    const claims = claimsOf(form.get('assertion') ?? '');
    assert.equal(claims.target_audience, 'sigstore');
    assert.equal(claims.iss, ACCOUNT);
  });

  test('google-impersonate: generateIdToken for GOOGLE_SERVICE_ACCOUNT_NAME, with the email, authorized by each kind of ambient credential', async () => {
    const iam = `${google.url}/`;
    const userFile = join(dir, 'user.json');
    writeFileSync(userFile, JSON.stringify({ type: 'authorized_user', client_id: 'c', client_secret: 's', refresh_token: 'refresh-me', token_uri: `${google.url}/token` }));
    const cases: [string, NodeJS.ProcessEnv, string][] = [
      ['a service account key', { GOOGLE_APPLICATION_CREDENTIALS: serviceAccountFile() }, 'key-access:https://www.googleapis.com/auth/cloud-platform'],
      ['a gcloud user login', { GOOGLE_APPLICATION_CREDENTIALS: userFile }, 'user-access'],
      ['the metadata server', { GCE_METADATA_HOST: google.host }, 'metadata-access'],
    ];
    for (const [what, extra, bearer] of cases) {
      google.requests.length = 0;
      const t = await token({ HOME: dir, GOOGLE_SERVICE_ACCOUNT_NAME: ACCOUNT, CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: iam, ...extra }, { tokenProvider: 'google-impersonate' });
      assert.equal(t.subject, `impersonated:${ACCOUNT}:sigstore:true:${bearer}`, what);
      const call = google.requests.at(-1)!;
      assert.equal(call.path, `/v1/projects/-/serviceAccounts/${ACCOUNT}:generateIdToken`, what);
    }
  });

  test('google: credentials of a type gitsign-ts does not use are refused by name', async () => {
    const file = join(dir, 'federated.json');
    writeFileSync(file, JSON.stringify({ type: 'external_account', audience: 'x' }));
    const env = { HOME: dir, GOOGLE_APPLICATION_CREDENTIALS: file, GOOGLE_SERVICE_ACCOUNT_NAME: ACCOUNT };
    for (const name of ['google-impersonate', 'google-workload-identity']) {
      const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: name }, io, env));
      assert.equal(e.code, 'CONFIG', e.message);
      assert.match(e.message, /is of type "external_account"/);
    }
  });

  test('buildkite-agent: the job\'s OIDC token from the agent API, as `buildkite-agent oidc request-token --audience` asks it', async () => {
    buildkite.requests.length = 0;
    const env = { BUILDKITE_AGENT_ACCESS_TOKEN: 'agent-token', BUILDKITE_AGENT_ENDPOINT: `${buildkite.url}/v3/`, BUILDKITE_JOB_ID: '0190-a.b', BUILDKITE_REQUEST_HEADER_BUILDKITE_TRACE: 'on', BUILDKITE_REQUEST_HEADER_X_OTHER: 'dropped' };
    const t = await token(env, { tokenProvider: 'buildkite-agent' });
    assert.equal(t.subject, 'buildkite:/v3/jobs/0190-a%2Eb/oidc/tokens');
    const [r] = buildkite.requests;
    assert.equal(r.method, 'POST');
    assert.equal(r.headers.authorization, 'Token agent-token');
    assert.deepEqual(JSON.parse(r.body), { audience: 'sigstore' });
    assert.equal(r.headers['buildkite-trace'], 'on');
    assert.equal(r.headers['x-other'], undefined);
  });

  test('github-actions: the token service, with the audience and the request token', async () => {
    github.requests.length = 0;
    const t = await token(allEnabled(), { tokenProvider: 'github-actions' });
    assert.equal(t.subject, 'github:sigstore');
    assert.equal(github.requests[0].headers.authorization, 'bearer gh-request-token');
  });
});

describe('the default order, and what enables each provider', () => {
  test('with every provider enabled, each is chosen only when those before it are not: envvar, github-actions, spiffe, google-workload-identity, google-impersonate, buildkite-agent', async () => {
    google.identity = 'token';
    let env = allEnabled();
    const chosen: string[] = [];
    // Disabling each winner in turn (google-workload-identity: its identity endpoint stops answering).
    const disable: Record<string, () => void> = {
      envvar: () => (env = without(env, 'SIGSTORE_ID_TOKEN')),
      'github-actions': () => (env = without(env, 'ACTIONS_ID_TOKEN_REQUEST_TOKEN')),
      spiffe: () => (env = without(env, 'SPIFFE_ENDPOINT_SOCKET')),
      'google-workload-identity': () => (google.identity = 404),
      'google-impersonate': () => (env = without(env, 'GOOGLE_SERVICE_ACCOUNT_NAME')),
      'buildkite-agent': () => (env = without(env, 'BUILDKITE_AGENT_ACCESS_TOKEN')),
    };
    for (let step = 0; step < 6; step++) {
      const t = await token(env);
      chosen.push(t.provider);
      disable[t.provider]();
    }
    google.identity = 'token';
    assert.equal(chooseProvider(DEFAULTS, without(env, 'GCE_METADATA_HOST')).name, 'interactive');
    assert.deepEqual(chosen, ['envvar', 'github-actions', 'spiffe', 'google-workload-identity', 'google-impersonate', 'buildkite-agent']);
  });

  test('gitsign doctor\'s choice (no network question) names the same provider and why', () => {
    const env = allEnabled();
    assert.deepEqual(chooseProvider(DEFAULTS, without(env, 'SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL')), {
      name: 'spiffe',
      why: 'the SPIFFE Workload API socket exists (SPIFFE_ENDPOINT_SOCKET, else /tmp/spire-agent/public/api.sock), first in the default order',
      available: true,
    });
    assert.equal(chooseProvider(DEFAULTS, { HOME: dir }).name, 'interactive');
  });

  test('an enabled provider that fails gives way to the next enabled one; when all fail, the last failure is the error and nobody logs in', async () => {
    spiffe.answer = { status: 14, message: 'agent is starting' };
    google.identity = 404;
    spiffe.calls.length = 0;
    const env = without(allEnabled(), 'SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'GOOGLE_SERVICE_ACCOUNT_NAME');
    const t = await token(env);
    assert.equal(t.provider, 'buildkite-agent');
    assert.equal(spiffe.calls.length, 1, 'spiffe was asked first');
    buildkite.status = 500;
    try {
      let said = 0;
      const e = await refusal(obtainIdToken(DEFAULTS, { say: () => void said++, ask: async () => null }, env));
      assert.match(e.message, /^token provider buildkite-agent: Buildkite agent API answered 500/);
      assert.equal(said, 0, 'no login was started');
    } finally {
      buildkite.status = 200;
      spiffe.answer = { token: jwt('spiffe') };
      google.identity = 'token';
    }
  });

  test('a token that is not a JWT is an answer all the same: SIGSTORE_ID_TOKEN="" (set, so enabled) fails, the next provider is not asked', async () => {
    buildkite.requests.length = 0;
    const e = await refusal(obtainIdToken(DEFAULTS, io, { ...without(allEnabled(), 'ACTIONS_ID_TOKEN_REQUEST_URL', 'SPIFFE_ENDPOINT_SOCKET', 'GCE_METADATA_HOST', 'GOOGLE_SERVICE_ACCOUNT_NAME'), SIGSTORE_ID_TOKEN: '' }));
    assert.match(e.message, /^SIGSTORE_ID_TOKEN is set but empty: put a fresh ID token in SIGSTORE_ID_TOKEN/);
    assert.equal(buildkite.requests.length, 0);
  });

  test('enablement as cosign: one GitHub variable, an empty Buildkite token or service account name, a socket that is absent or given as a unix:// URI, an identity endpoint that fails: not enabled', async () => {
    const base = without(allEnabled(), 'SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'SPIFFE_ENDPOINT_SOCKET', 'GOOGLE_SERVICE_ACCOUNT_NAME');
    google.identity = 404;
    google.requests.length = 0;
    try {
      for (const [what, extra] of [
        ['only ACTIONS_ID_TOKEN_REQUEST_URL', {}],
        ['SPIFFE_ENDPOINT_SOCKET naming no file', { SPIFFE_ENDPOINT_SOCKET: join(dir, 'absent.sock') }],
        ['SPIFFE_ENDPOINT_SOCKET as a unix:// URI (cosign reads a path)', { SPIFFE_ENDPOINT_SOCKET: `unix://${spiffe.socket}` }],
        ['SPIFFE_ENDPOINT_SOCKET beneath a regular file (stat fails with ENOTDIR)', { SPIFFE_ENDPOINT_SOCKET: join(serviceAccountFile(), 'agent.sock') }],
        ['GOOGLE_SERVICE_ACCOUNT_NAME empty', { GOOGLE_SERVICE_ACCOUNT_NAME: '' }],
      ] as const) {
        assert.equal((await token({ ...base, ...extra })).provider, 'buildkite-agent', what);
      }
      // google-workload-identity asked the metadata server for a token for a throw-away audience, and got none.
      assert.ok(google.requests.some((r) => r.path.includes('identity?audience=garbage&format=full')));
      assert.equal(chooseProvider(DEFAULTS, { ...without(base, 'GCE_METADATA_HOST'), BUILDKITE_AGENT_ACCESS_TOKEN: '' }).name, 'interactive');
    } finally {
      google.identity = 'token';
    }
  });

  test('a named provider is used alone, ahead of any enabled one, and even when its enabling condition is only a hint (a key file off GCE)', async () => {
    assert.equal((await token(allEnabled(), { tokenProvider: 'buildkite-agent' })).provider, 'buildkite-agent');
    const t = await token({ HOME: dir, GOOGLE_APPLICATION_CREDENTIALS: serviceAccountFile() }, { tokenProvider: 'google-workload-identity' });
    assert.equal(t.subject, 'key:sigstore');
  });

  test('a named provider that cannot work here says what it needs; an unknown name lists the known ones', async () => {
    const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'spiffe' }, io, { SPIFFE_ENDPOINT_SOCKET: join(dir, 'absent.sock') }));
    assert.match(e.message, /^token provider spiffe is not available here: it works when the SPIFFE Workload API socket exists/);
    const u = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'google-impersonation' }, io, {}));
    assert.equal(u.code, 'CONFIG');
    assert.match(u.message, /known: envvar, filesystem, github-actions, spiffe, google-workload-identity, google-impersonate, buildkite-agent, interactive, device/);
  });
});

describe('settings that would send a credential in clear are refused', () => {
  test('GCE_METADATA_HOST: plain http only to the metadata address itself or this machine; a host[:port], nothing more', async () => {
    for (const [host, words] of [
      ['10.1.2.3', /GCE_METADATA_HOST http:\/\/10\.1\.2\.3 is plain http to another machine/],
      ['169.254.169.254:8080', /is plain http to another machine/],
      ['evil.example/x?', /GCE_METADATA_HOST "evil\.example\/x\?" is not a host\[:port\]/],
    ] as const) {
      const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'google-workload-identity' }, io, { HOME: dir, GCE_METADATA_HOST: host }));
      assert.equal(e.code, 'CONFIG', e.message);
      assert.match(e.message, words);
    }
  });

  test('the Buildkite endpoint, the IAM Credentials override and a key file\'s token_uri follow the https rule', async () => {
    const file = join(dir, 'sa-http.json');
    writeFileSync(file, JSON.stringify({ type: 'service_account', client_email: ACCOUNT, private_key: saKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: 'http://oauth.example/token' }));
    for (const [name, env] of [
      ['buildkite-agent', { BUILDKITE_AGENT_ACCESS_TOKEN: 't', BUILDKITE_AGENT_ENDPOINT: 'http://agent.example/v3' }],
      ['google-impersonate', { GOOGLE_SERVICE_ACCOUNT_NAME: ACCOUNT, GCE_METADATA_HOST: google.host, CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: 'http://iam.example/' }],
      ['google-workload-identity', { GOOGLE_APPLICATION_CREDENTIALS: file }],
    ] as const) {
      const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: name }, io, { HOME: dir, ...env }));
      assert.equal(e.code, 'CONFIG', e.message);
      assert.match(e.message, /is plain http to another machine/, name);
    }
  });
});

describe('ambient values that would reach a terminal or a header raw', () => {
  test('a token whose parts are not base64url (an escape sequence in its header) is refused as no JWT, before it is printed or sent', async () => {
    const [, payload, signature] = jwt('envvar').split('.');
    const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'envvar' }, io, { SIGSTORE_ID_TOKEN: `\x1b]0;owned\x07eyJ.${payload}.${signature}` }));
    assert.equal(e.code, 'TOKEN');
    assert.equal(e.message, 'the ID token from envvar is not a JWT');
  });

  test('a request token with a newline is a CONFIG sentence naming the variable, not a TypeError from node:http', async () => {
    const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'github-actions' }, io, { ACTIONS_ID_TOKEN_REQUEST_URL: `${github.url}/token?x=1`, ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't\r\nX-Injected: 1' }));
    assert.equal(e.code, 'CONFIG', e.message);
    assert.match(e.message, /ACTIONS_ID_TOKEN_REQUEST_TOKEN holds a character that cannot be sent in an HTTP header/);
  });

  test('a credentials file that is a FIFO or too large is refused at once, not waited on or read whole', async () => {
    const fifo = join(dir, 'creds.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const big = join(dir, 'big.json');
    writeFileSync(big, Buffer.alloc(1024 * 1024, 0x20));
    for (const [file, words] of [
      [fifo, /is not a regular file/],
      [big, /is larger than 64 KiB, too much for a credentials file/],
    ] as const) {
      const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'google-workload-identity' }, io, { HOME: dir, GOOGLE_APPLICATION_CREDENTIALS: file }));
      assert.match(e.message, words);
    }
  });
});

describe('hostile answers: a clear error within the deadline', () => {
  before(() => setCallDeadlineMs(2_000));
  after(() => setCallDeadlineMs(CALL_DEADLINE_MS));

  test('the Workload API: oversized, not gRPC, garbage bytes, silent, malformed protobuf, compressed: each one sentence', async () => {
    const cases: [string, WorkloadAnswer, string, RegExp][] = [
      ['oversized', { raw: Buffer.concat([grpcFrame(Buffer.alloc(0)).subarray(0, 1), Buffer.from([0x7f, 0, 0, 0]), Buffer.alloc(2 * MiB, 0x41)]) }, 'NETWORK', /sent more than 256 KiB, too much for an ID token/],
      ['silent', 'never', 'NETWORK', /no complete answer within 2 s/],
      ['malformed protobuf', { raw: grpcFrame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f])) }, 'TOKEN', /answered with a malformed JWTSVIDResponse/],
      ['a frame that is not one message', { raw: Buffer.from([0, 0, 0, 0, 9, 1]) }, 'TOKEN', /answered with a malformed message frame/],
      ['compressed', { raw: grpcFrame(jwtSvidResponse(jwt('x')), 1) }, 'TOKEN', /answered with a compressed message/],
      ['no SVID', { raw: grpcFrame(Buffer.alloc(0)) }, 'TOKEN', /answered with no JWT-SVID/],
    ];
    for (const [what, answer, code, words] of cases) {
      spiffe.answer = answer;
      const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'spiffe' }, io, { SPIFFE_ENDPOINT_SOCKET: spiffe.socket }));
      assert.equal(e.code, code, `${what}: ${e.message}`);
      assert.match(e.message, words, what);
    }
    spiffe.answer = { token: jwt('spiffe') };
  });

  test('a socket peer that does not speak HTTP/2 (garbage, or nothing at all) is one NETWORK sentence', async () => {
    for (const [what, onConnection] of [
      ['garbage', (s: Socket) => s.end('HTTP/1.1 200 OK\r\n\r\n\x1b[31mnot gRPC')],
      ['silent', () => undefined],
    ] as const) {
      const socket = join(dir, `${what}.sock`);
      const open = new Set<Socket>();
      const server = createNetServer((s) => {
        open.add(s);
        s.on('error', () => undefined);
        onConnection(s);
      });
      await new Promise<void>((resolve) => server.listen(socket, resolve));
      try {
        const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: 'spiffe' }, io, { SPIFFE_ENDPOINT_SOCKET: socket }));
        assert.equal(e.code, 'NETWORK', e.message);
        assert.match(e.message, /SPIFFE Workload API at .*\.sock: /, what);
        assert.doesNotMatch(e.message, /\x1b/);
      } finally {
        for (const s of open) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    }
  });

  for (const [what, behaviour, words] of [
    ['oversized', huge(600 * MiB, { declare: false }), /sent more than/],
    ['dripping', drip(200), /no complete answer within 2 s/],
    ['silent', silent, /no complete answer within 2 s/],
  ] as [string, Behaviour, RegExp][]) {
    test(`an ${what} metadata server, token endpoint, IAM Credentials API or Buildkite agent API`, async () => {
      const server = await serveHostile(behaviour);
      const host = new URL(server.url).host;
      const file = join(dir, 'sa-hostile.json');
      writeFileSync(file, JSON.stringify({ type: 'service_account', client_email: ACCOUNT, private_key: saKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }), token_uri: `${server.url}/token` }));
      try {
        for (const [name, env] of [
          ['google-workload-identity', { GCE_METADATA_HOST: host }],
          ['google-workload-identity', { GOOGLE_APPLICATION_CREDENTIALS: file }],
          ['google-impersonate', { GOOGLE_SERVICE_ACCOUNT_NAME: ACCOUNT, GCE_METADATA_HOST: google.host, CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS: server.url }],
          ['buildkite-agent', { BUILDKITE_AGENT_ACCESS_TOKEN: 't', BUILDKITE_AGENT_ENDPOINT: server.url }],
        ] as const) {
          const e = await refusal(obtainIdToken({ ...DEFAULTS, tokenProvider: name }, io, { HOME: dir, ...env }));
          assert.equal(e.code, 'NETWORK', `${name}: ${e.message}`);
          assert.match(e.message, words, name);
          assert.ok(e.message.includes(host), e.message);
        }
      } finally {
        await server.close();
      }
    });
  }
});

describe('end to end against the sandbox', () => {
  const sb = sandboxPerFile();

  test('git commit -S signs with the JWT-SVID the Workload API gives (no other provider, no login), and gitsign verify names its identity', async () => {
    spiffe.answer = { token: mintToken(sb.dir, 'test@example.com') };
    const log = join(dir, 'e2e.log');
    const repo = signingRepo({ ...sb.env, SPIFFE_ENDPOINT_SOCKET: spiffe.socket, GITSIGN_TIMESTAMP_SERVER_URL: '', GITSIGN_LOG: log });
    try {
      spiffe.calls.length = 0;
      const r = await within(60_000, gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'signed with a JWT-SVID']), 'git commit');
      assert.equal(r.status, 0, `${r.stderr}\n${readFileSync(log, 'utf8')}`);
      assert.equal(spiffe.calls.length, 1);
      const out = JSON.parse(repo.gitsign(['verify', '--json', 'HEAD']).stdout.trim().split('\n')[0]) as { verified: boolean; identity?: unknown };
      assert.equal(out.verified, true, JSON.stringify(out));
      assert.match(JSON.stringify(out), /test@example\.com/);

      // `gitsign debug token` prints the token signing would use, and only it, on stdout.
      const printed = await within(
        30_000,
        new Promise<{ status: number; stdout: string }>((resolve) => {
          execFile(process.execPath, [BIN, 'debug', 'token'], { cwd: repo.dir, env: repo.env }, (err, stdout) => resolve({ status: err ? 1 : 0, stdout }));
        }),
        'gitsign debug token',
      );
      assert.equal(printed.status, 0);
      assert.equal(printed.stdout, `${(spiffe.answer as { token: string }).token}\n`);
    } finally {
      repo.remove();
      spiffe.answer = { token: jwt('spiffe') };
    }
  });
});
