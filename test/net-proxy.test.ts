/**
 * HTTPS_PROXY, HTTP_PROXY and NO_PROXY as Go's net/http reads them (gitsign uses ProxyFromEnvironment),
 * and every call of ours going through the proxy they name: a real CONNECT proxy on 127.0.0.1 in front
 * of a real TLS server whose name ("service.test") resolves nowhere, so only the proxy can reach it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { proxyFor } from '../src/net/proxy';
import { ROOT } from './helpers/paths';

const url = (u: string): URL => new URL(u);
const via = (u: string, env: NodeJS.ProcessEnv): string | null => {
  const c = proxyFor(url(u), env);
  return c.proxy ? c.proxy.href : null;
};

describe('which proxy a URL goes through (Go httpproxy semantics)', () => {
  test('HTTPS_PROXY for https, HTTP_PROXY for http, upper case first, http:// assumed', () => {
    const env = { HTTPS_PROXY: 'proxy.corp:3128', https_proxy: 'http://other:1', HTTP_PROXY: 'http://plain:8080' };
    assert.equal(via('https://rekor.sigstore.dev/api/v1/log', env), 'http://proxy.corp:3128/');
    assert.equal(via('http://rekor.internal/', env), 'http://plain:8080/');
    assert.equal(via('https://fulcio.sigstore.dev/', { https_proxy: 'https://lower:443' }), 'https://lower/');
    assert.equal(via('https://fulcio.sigstore.dev/', { HTTP_PROXY: 'http://plain:8080' }), null);
    assert.equal(via('https://fulcio.sigstore.dev/', {}), null);
  });

  test('this machine is never proxied', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', HTTP_PROXY: 'http://proxy:3128' };
    for (const u of ['http://localhost:8080/', 'http://127.0.0.1:5555/', 'http://127.9.9.9/', 'https://[::1]:443/']) assert.equal(via(u, env), null, u);
  });

  test('NO_PROXY: names with their subdomains, .names, *.names, ports, IPs, CIDRs, IPv6 and *', () => {
    const env = { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: 'sigstore.dev, .corp.example, *.lab.example, tsa.example:8443, 10.1.2.3, 192.168.0.0/16, [2001:db8::1]:443' };
    assert.equal(via('https://sigstore.dev/', env), null);
    assert.equal(via('https://rekor.sigstore.dev/', env), null);
    assert.ok(via('https://notsigstore.dev/', env));
    assert.ok(via('https://corp.example/', env), '.corp.example is for subdomains only');
    assert.equal(via('https://fulcio.corp.example/', env), null);
    assert.equal(via('https://a.lab.example/', env), null);
    assert.equal(via('https://tsa.example:8443/', env), null);
    assert.ok(via('https://tsa.example/', env), 'another port is proxied');
    assert.equal(via('https://10.1.2.3/', env), null);
    assert.ok(via('https://10.1.2.4/', env));
    assert.equal(via('https://192.168.7.7/', env), null);
    assert.equal(via('https://[2001:db8::1]/', env), null);
    assert.equal(via('https://anything.example/', { HTTPS_PROXY: 'http://proxy:3128', no_proxy: '*' }), null);
    assert.deepEqual(proxyFor(url('https://rekor.sigstore.dev/'), env), { proxy: null, bypassed: true });
  });
});

/** A CA and a certificate for service.test, made by openssl. */
function pki(dir: string): { ca: string; key: string; cert: string } {
  const run = (args: string[]): void => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=proxy test CA', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem']);
  run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=service.test', '-keyout', 'leaf.key', '-out', 'leaf.csr']);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:service.test\n');
  run(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'leaf.pem']);
  return { ca: join(dir, 'ca.pem'), key: join(dir, 'leaf.key'), cert: join(dir, 'leaf.pem') };
}

const listen = (s: Server): Promise<number> => new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

interface Seen {
  authority: string;
  authorization: string | undefined;
}

/** One httpCall in a fresh node (NODE_EXTRA_CA_CERTS is read at start-up): status and text, or the error's sentence. */
function call(target: string, env: NodeJS.ProcessEnv): Promise<{ out: string; err: string }> {
  const script = `
    const { httpCall } = require(${JSON.stringify(join(ROOT, 'dist/tsc/src/net/http.js'))});
    const { setCallDeadlineMs } = require(${JSON.stringify(join(ROOT, 'dist/tsc/src/net/deadline.js'))});
    setCallDeadlineMs(3000);
    httpCall(process.argv[1], { service: 'Rekor', method: 'GET', limit: { bytes: 1 << 16, what: 'a test answer' } }).then(
      (r) => process.stdout.write(r.status + ' ' + r.text),
      (e) => process.stderr.write(e.code + ': ' + e.message));`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script, target], { env: { PATH: process.env.PATH, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', () => {
      clearTimeout(killer);
      resolve({ out, err });
    });
  });
}

describe('calls through a real CONNECT proxy', () => {
  let dir: string;
  let tls: { ca: string; key: string; cert: string };
  let servicePort = 0;
  let proxyPort = 0;
  let mode: 'tunnel' | 'refuse' | 'silent' = 'tunnel';
  const seen: Seen[] = [];
  const open: Socket[] = [];
  const servers: Server[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gitsign-proxy-'));
    tls = pki(dir);
    const { readFileSync } = await import('node:fs');
    const service = createHttpsServer({ key: readFileSync(tls.key), cert: readFileSync(tls.cert) }, (req, res) => {
      res.end(`hello from ${req.headers.host} ${req.url}`);
    });
    servers.push(service);
    servicePort = await listen(service);
    const proxy = createHttpServer((req, res) => {
      // Plain http through the proxy: the absolute URL as the request target.
      seen.push({ authority: req.url ?? '', authorization: req.headers['proxy-authorization'] });
      res.end(`proxied ${req.url}`);
    });
    proxy.on('connect', (req: IncomingMessage, client: Socket) => {
      seen.push({ authority: req.url ?? '', authorization: req.headers['proxy-authorization'] });
      open.push(client);
      client.on('error', () => undefined);
      if (mode === 'refuse') return client.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      if (mode === 'silent') return;
      // Any name goes to the one service: the client never resolved it itself.
      const upstream = connect(servicePort, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      open.push(upstream);
    });
    servers.push(proxy);
    proxyPort = await listen(proxy);
  });

  after(() => {
    for (const s of open) s.destroy();
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('https goes through the tunnel, the proxy sees only the authority, credentials go as Basic', async () => {
    mode = 'tunnel';
    seen.length = 0;
    const r = await call(`https://service.test:${servicePort}/api/v1/log?x=1`, { HTTPS_PROXY: `http://alice:s%3Acret@127.0.0.1:${proxyPort}`, NODE_EXTRA_CA_CERTS: tls.ca });
    assert.equal(r.err, '');
    assert.equal(r.out, `200 hello from service.test:${servicePort} /api/v1/log?x=1`);
    assert.deepEqual(seen, [{ authority: `service.test:${servicePort}`, authorization: `Basic ${Buffer.from('alice:s:cret').toString('base64')}` }]);
  });

  test("the server's certificate is still checked through the tunnel", async () => {
    mode = 'tunnel';
    const r = await call(`https://service.test:${servicePort}/`, { HTTPS_PROXY: `127.0.0.1:${proxyPort}` });
    assert.match(r.err, /^NETWORK: cannot reach Rekor at https:\/\/service\.test:\d+ \(UNABLE_TO_VERIFY_LEAF_SIGNATURE through the proxy http:\/\/127\.0\.0\.1:\d+\): its TLS certificate is not from a CA Node trusts/);
    assert.equal(r.out, '');
  });

  test('a proxy that refuses the tunnel is named (not its credentials), with what it wants', async () => {
    mode = 'refuse';
    const r = await call(`https://service.test:${servicePort}/`, { HTTPS_PROXY: `http://bob:hunter2@127.0.0.1:${proxyPort}`, NODE_EXTRA_CA_CERTS: tls.ca });
    assert.match(r.err, /^NETWORK: cannot reach Rekor at https:\/\/service\.test:\d+ \(the proxy http:\/\/127\.0\.0\.1:\d+ refused the tunnel: HTTP 407 \(it wants credentials/);
    assert.doesNotMatch(r.err, /hunter2|bob/);
  });

  test('a proxy that never answers ends at the deadline with the setting that changes it', async () => {
    mode = 'silent';
    const r = await call(`https://service.test:${servicePort}/`, { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NODE_EXTRA_CA_CERTS: tls.ca });
    assert.match(r.err, /^NETWORK: Rekor at https:\/\/service\.test:\d+: no complete answer within 3 s .*GITSIGN_NETWORK_TIMEOUT/);
  });

  test('NO_PROXY sends the host around the proxy, and the failure says so', async () => {
    mode = 'tunnel';
    seen.length = 0;
    const r = await call(`https://service.test:${servicePort}/`, { HTTPS_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: 'service.test', NODE_EXTRA_CA_CERTS: tls.ca });
    assert.match(r.err, /\(ENOTFOUND\).*NO_PROXY sends this host around the proxy/);
    assert.deepEqual(seen, []);
  });

  test('a proxy that cannot be reached is named as the one that failed', async () => {
    const closed = createHttpServer();
    const port = await listen(closed);
    closed.close();
    const r = await call(`https://service.test:${servicePort}/`, { HTTPS_PROXY: `http://127.0.0.1:${port}` });
    assert.match(r.err, /^NETWORK: cannot reach Rekor at https:\/\/service\.test:\d+ \(the proxy http:\/\/127\.0\.0\.1:\d+ cannot be reached: ECONNREFUSED\)$/);
  });

  test('a SOCKS proxy is refused in one sentence, not tried', async () => {
    const r = await call(`https://service.test:${servicePort}/`, { HTTPS_PROXY: 'socks5://127.0.0.1:1080' });
    assert.match(r.err, /^NETWORK: Rekor at https:\/\/service\.test:\d+: the environment's proxy socks5:\/\/127\.0\.0\.1:1080 is a SOCKS proxy, which gitsign-ts does not speak/);
  });
});
