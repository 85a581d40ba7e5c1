/**
 * Issue 12, "behaviour that differs today": where gitsign-ts now does what the Go gitsign does, read
 * from its internal/config, internal/fulcio and sigstore's oauthflow. The configuration edge cases of
 * rekorVersion, autoclose, autocloseTimeout and matchCommitter (real git config through `git config`);
 * the login listener on gitsign.redirectURL (it listens where the URL says, answers only the login);
 * the urlOpener's argv as a real program receives it; and a login end to end on a configured redirect
 * URL with a quoted `{{ .URL }}` opener, against the sandbox's issuer.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Config, loadConfig } from '../src/config/config';
import { GitsignError } from '../src/errors';
import { isLoopback, listenForCallback } from '../src/oidc/loopback';
import { openBrowser } from '../src/oidc/opener';
import { TempRepo } from './helpers/gitRepo';
import { within } from './helpers/hostileServer';
import { peerMissing } from './helpers/peers';
import { gitAsync, loginRepo, removeDir, type SigningSandbox, startSigningSandbox, tempDir } from './helpers/signingSandbox';

let repo: TempRepo;
let work: string;
before(() => {
  repo = new TempRepo();
  work = tempDir();
});
after(() => {
  repo?.remove();
  if (work) removeDir(work);
});

/** The configuration with these git config entries (command scope, as `git -c`) and variables. */
function configWith(git: [string, string][], vars: NodeJS.ProcessEnv = {}): { cfg: Config; warnings: string[] } {
  const env: NodeJS.ProcessEnv = { ...repo.env, GIT_CONFIG_COUNT: String(git.length), ...vars };
  git.forEach(([k, v], i) => Object.assign(env, { [`GIT_CONFIG_KEY_${i}`]: k, [`GIT_CONFIG_VALUE_${i}`]: v }));
  const warnings: string[] = [];
  return { cfg: loadConfig(env, repo.dir, (l) => warnings.push(l)), warnings };
}

function refused(git: [string, string][], vars: NodeJS.ProcessEnv, message: RegExp): void {
  assert.throws(
    () => configWith(git, vars),
    (e: unknown) => e instanceof GitsignError && e.code === 'CONFIG' && message.test(e.message),
    JSON.stringify([git, vars]),
  );
}

describe('rekorVersion as gitsign parses it', () => {
  test('git config: decimal digits only (leading zeros allowed); 0 means unset; anything that is not a number is ignored with a warning', () => {
    const cases: [string, number, boolean][] = [
      ['2', 2, false],
      ['01', 1, false],
      ['002', 2, false],
      ['0', 1, false],
      ['two', 1, true],
      ['+2', 1, true],
      ['-1', 1, true],
      [' 2', 1, true],
      ['4294967296', 1, true],
    ];
    for (const [value, version, warned] of cases) {
      const { cfg, warnings } = configWith([['gitsign.rekorVersion', value]]);
      assert.equal(cfg.rekorVersion, version, value);
      assert.equal(warnings.length, warned ? 1 : 0, value);
      if (warned) assert.equal(warnings[0], `invalid git config gitsign.rekorversion value ${JSON.stringify(value)}, ignoring`);
    }
  });

  test('a number other than 0, 1 or 2 is refused, naming where it came from', () => {
    refused([['gitsign.rekorVersion', '3']], {}, /^invalid git config gitsign\.rekorversion: rekor version must be 1 or 2, got "3"$/);
    refused([], { SIGSTORE_REKOR_VERSION: '4294967295' }, /^invalid SIGSTORE_REKOR_VERSION: rekor version must be 1 or 2/);
  });

  test('variables: anything that is not a number is refused, the empty value too; SIGSTORE_ < GITSIGN_, both over git config', () => {
    for (const bad of ['', 'x', ' 2', '+2', '2.0', '4294967296']) refused([], { GITSIGN_REKOR_VERSION: bad }, /^invalid GITSIGN_REKOR_VERSION: rekor version must be 1 or 2, got /);
    assert.equal(configWith([['gitsign.rekorVersion', '2']], { GITSIGN_REKOR_VERSION: '0' }).cfg.rekorVersion, 1);
    assert.equal(configWith([], { SIGSTORE_REKOR_VERSION: '2', GITSIGN_REKOR_VERSION: '1' }).cfg.rekorVersion, 1);
    assert.equal(configWith([], { SIGSTORE_REKOR_VERSION: '2' }).cfg.rekorVersion, 2);
    // The check comes after every source: a bad git config value that a variable overrides is no error.
    assert.equal(configWith([['gitsign.rekorVersion', '3']], { GITSIGN_REKOR_VERSION: '2' }).cfg.rekorVersion, 2);
  });

  test('set at all (even to 1) with enableSigstoreGo=false is refused; unset or 0 is fine', () => {
    refused([['gitsign.enableSigstoreGo', 'false'], ['gitsign.rekorVersion', '1']], {}, /^rekorVersion=1 requires enableSigstoreGo=true \(git config gitsign\.rekorversion sets it/);
    refused([], { GITSIGN_ENABLE_SIGSTORE_GO: 'TRUE', GITSIGN_REKOR_VERSION: '2' }, /^rekorVersion=2 requires enableSigstoreGo=true/);
    assert.equal(configWith([['gitsign.enableSigstoreGo', 'false']]).cfg.rekorVersion, 1);
    assert.equal(configWith([['gitsign.enableSigstoreGo', 'false'], ['gitsign.rekorVersion', '0']]).cfg.rekorVersion, 1);
  });
});

describe('autoclose and autocloseTimeout as gitsign parses them', () => {
  test('gitsign.autocloseTimeout: an integer above 0 (sign and leading zeros allowed); anything else is 6, with a warning', () => {
    const cases: [string, number][] = [
      ['10', 10],
      ['+7', 7],
      ['007', 7],
      ['0', 6],
      ['-3', 6],
      ['5s', 6],
      [' 5', 6],
      ['1.5', 6],
      ['9223372036854775808', 6],
    ];
    for (const [value, seconds] of cases) {
      const { cfg, warnings } = configWith([['gitsign.autocloseTimeout', value]]);
      assert.equal(cfg.autocloseTimeout, seconds, value);
      assert.deepEqual(warnings, seconds === 6 ? [`invalid git config gitsign.autoclosetimeout value ${JSON.stringify(value)}, defaulting to 6`] : [], value);
    }
  });

  test('AUTOCLOSE_TIMEOUT variables: gitsign ignores their parse error, so junk is 0 (the page closes at once) and negatives stay', () => {
    const cases: [string, number][] = [
      ['12', 12],
      ['abc', 0],
      ['', 0],
      ['5s', 0],
      ['-5', -5],
      ['0', 0],
      ['99999999999999999999', 2 ** 63],
      ['-99999999999999999999', -(2 ** 63)],
    ];
    for (const [value, seconds] of cases) {
      const { cfg, warnings } = configWith([['gitsign.autocloseTimeout', '9']], { GITSIGN_AUTOCLOSE_TIMEOUT: value });
      assert.equal(cfg.autocloseTimeout, seconds, value);
      assert.deepEqual(warnings, []);
    }
    assert.equal(configWith([], { SIGSTORE_AUTOCLOSE_TIMEOUT: '3', GITSIGN_AUTOCLOSE_TIMEOUT: '4' }).cfg.autocloseTimeout, 4);
    assert.equal(configWith([], { SIGSTORE_AUTOCLOSE_TIMEOUT: '3' }).cfg.autocloseTimeout, 3);
  });

  test('autoclose: "true" in any case in git config, exactly "true" in a variable; other spellings are false; a key without a value is skipped', () => {
    const git: [string, boolean][] = [
      ['TRUE', true],
      ['true', true],
      ['yes', false],
      ['1', false],
      ['false', false],
    ];
    for (const [value, on] of git) assert.equal(configWith([['gitsign.autoclose', value]]).cfg.autoclose, on, value);
    for (const [value, on] of [['true', true], ['True', false], ['1', false], ['', false]] as const) {
      assert.equal(configWith([], { GITSIGN_AUTOCLOSE: value }).cfg.autoclose, on, value);
    }
    assert.equal(configWith([], { SIGSTORE_AUTOCLOSE: 'false', GITSIGN_AUTOCLOSE: 'true' }).cfg.autoclose, true);
    // Without a connector gitsign leaves the setting as parsed (gitsign version shows it) and only the page ignores it.
    assert.equal(configWith([]).cfg.autoclose, true);
  });
});

describe('matchCommitter and the other keys written without a value', () => {
  test('matchCommitter takes git\'s boolean spellings (gitsign reads only "true": yes, on and 1 would silently skip the check)', () => {
    for (const on of ['true', 'TRUE', 'yes', 'On', '1', '2']) assert.equal(configWith([['gitsign.matchCommitter', on]]).cfg.matchCommitter, true, on);
    for (const off of ['false', 'no', 'OFF', '0', '']) assert.equal(configWith([['gitsign.matchCommitter', off]]).cfg.matchCommitter, false, off);
  });

  test('a matchCommitter value that is not a boolean is a configuration error, never "off"', () => {
    for (const bad of ['ture', 'enabled', 'y']) refused([['gitsign.matchCommitter', bad]], {}, /^invalid git config gitsign\.matchcommitter: ".*" is not a boolean/);
  });

  test('a key written without "=" is skipped as gitsign skips it (autoclose stays on, fulcio keeps its default); matchCommitter alone means true, as in git', () => {
    const r = new TempRepo();
    try {
      writeFileSync(join(r.dir, '.git', 'config'), `${readFileSync(join(r.dir, '.git', 'config'), 'utf8')}[gitsign]\n\tautoclose\n\tfulcio\n\tmatchCommitter\n`);
      const cfg = loadConfig(r.env, r.dir, () => assert.fail('no warning expected'));
      assert.equal(cfg.autoclose, true);
      assert.equal(cfg.fulcio, 'https://fulcio.sigstore.dev');
      assert.equal(cfg.matchCommitter, true);
    } finally {
      r.remove();
    }
  });

  test('gitsign version shows the parsed values as gitsign does: Autoclose stays true without a connector, warnings on stderr', () => {
    const r = repo.gitsign(['version'], undefined, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'gitsign.autocloseTimeout', GIT_CONFIG_VALUE_0: 'soon' });
    assert.equal(r.status, 0, r.stderr);
    const config = JSON.parse(r.stdout.split('parsed config:\n')[1]) as { Autoclose: boolean; AutocloseTimeout: number; ConnectorID: string };
    assert.deepEqual([config.Autoclose, config.AutocloseTimeout, config.ConnectorID], [true, 6, '']);
    assert.match(r.stderr, /^gitsign: invalid git config gitsign\.autoclosetimeout value "soon", defaulting to 6$/m);
  });
});

/** A port free on 127.0.0.1 a moment ago. */
async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function get(host: string, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('gitsign.redirectURL: the listener is where the URL says', () => {
  const STATE = 'st4te';
  const page = { autoclose: false, timeoutS: 6 };

  test('another loopback address and a path of its own: bound to exactly that address, the URL sent verbatim, only the path and state answered', async () => {
    const port = await freePort('127.0.0.2');
    const url = `http://127.0.0.2:${port}/gobehave/cb`;
    const cb = await listenForCallback(url, STATE, page);
    try {
      assert.equal(cb.redirectUri, url);
      assert.equal(cb.address, `127.0.0.2:${port}`);
      assert.equal(cb.exposed, false);
      assert.equal(await connects('127.0.0.1', port), false, 'not on 127.0.0.1');
      for (const path of [`/auth/callback?state=${STATE}&code=c`, `/gobehave/cb/?state=${STATE}&code=c`, `/gobehave/cb?state=other&code=c`, '/gobehave/cb?code=c']) {
        assert.equal((await within(10_000, get('127.0.0.2', port, path), path)).status, 400, path);
      }
      const ok = await within(10_000, get('127.0.0.2', port, `/gobehave/cb?state=${STATE}&code=the-code`), 'the redirect');
      assert.equal(ok.status, 200);
      assert.equal((await within(5_000, cb.result, 'the result')).get('code'), 'the-code');
    } finally {
      cb.close();
    }
  });

  test('a connection that sends nothing, or half a request, is closed by the listener, which goes on answering', async () => {
    const port = await freePort();
    const cb = await listenForCallback(`http://127.0.0.1:${port}/cb`, STATE, page);
    try {
      const closed = (sock: ReturnType<typeof connect>): Promise<void> => new Promise((resolve) => sock.on('close', () => resolve()).on('error', () => undefined));
      const silent = connect({ host: '127.0.0.1', port });
      const half = connect({ host: '127.0.0.1', port }, () => half.write('GET /cb?state=st4te HTTP/1.1\r\nHost: x\r\n'));
      await within(30_000, Promise.all([closed(silent), closed(half)]), 'the listener closing idle connections');
      assert.equal((await within(10_000, get('127.0.0.1', port, `/cb?state=${STATE}&code=c`), 'the redirect')).status, 200);
    } finally {
      cb.close();
    }
  });

  test('a name is resolved as Go resolves it for a listen: localhost is its first IPv4 address', async () => {
    const port = await freePort();
    const cb = await listenForCallback(`http://localhost:${port}/cb`, STATE, page);
    try {
      assert.equal(cb.address, `127.0.0.1:${port}`);
      assert.equal(cb.redirectUri, `http://localhost:${port}/cb`);
      assert.equal(cb.exposed, false);
    } finally {
      cb.close();
    }
  });

  test('an IPv6 literal is bound as written', async (t) => {
    let port: number;
    try {
      port = await freePort('::1');
    } catch {
      return t.skip('no IPv6 loopback on this machine');
    }
    const cb = await listenForCallback(`http://[::1]:${port}/cb`, STATE, page);
    try {
      assert.equal(cb.address, `[::1]:${port}`);
      assert.equal(cb.exposed, false);
      assert.equal(await connects('::1', port), true);
    } finally {
      cb.close();
    }
  });

  test('URLs gitsign could not listen on, or that no browser could reach, are configuration errors', async () => {
    for (const [url, message] of [
      ['https://localhost:8443/cb', /must be an http:\/\/ URL/],
      ['http://localhost/cb', /must name the port/],
      ['http://localhost:/cb', /must name the port/],
      ['http://127.0.0.1:0/cb', /must name the port/],
      ['http://:8080/cb', /is not a URL with a host/],
      ['localhost:8080', /must be an http:\/\/ URL/],
      ['not a url', /is not a URL/],
    ] as const) {
      await assert.rejects(listenForCallback(url, STATE, page), (e: unknown) => e instanceof GitsignError && e.code === 'CONFIG' && message.test(e.message), url);
    }
  });

  test('a port in use is one clear login error naming the address', async () => {
    const port = await freePort();
    const first = await listenForCallback(`http://127.0.0.1:${port}/cb`, STATE, page);
    try {
      await assert.rejects(listenForCallback(`http://127.0.0.1:${port}/cb`, STATE, page), (e: unknown) => e instanceof GitsignError && e.code === 'TOKEN' && e.message === `cannot listen on 127.0.0.1:${port} for the login redirect: it is already in use by another program; choose another port in gitsign.redirectURL, or unset it (a free port is then chosen)`);
    } finally {
      first.close();
    }
  });

  test('loopback is 127.0.0.0/8 and ::1 (also IPv4-mapped); 0.0.0.0, :: and any other address are reachable by others', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['0.0.0.0', '::', '192.0.2.1', '::ffff:192.0.2.1', '2001:db8::1', '128.0.0.1']) assert.equal(isLoopback(a), false, a);
  });

  test('0.0.0.0 listens on every interface as gitsign would, and is marked exposed (in a network namespace of its own)', async (t) => {
    const missing = peerMissing('unshare') || peerMissing('ip');
    if (missing) return t.skip(missing);
    const probe = spawnSync('unshare', ['-n', 'true'], { timeout: 10_000 });
    if (probe.status !== 0) return t.skip(`no test network namespace here (unshare -n): ${(probe.stderr?.toString() || String(probe.error)).trim()}`);
    const script = join(work, 'exposed.js');
    writeFileSync(
      script,
      `const { listenForCallback } = require(${JSON.stringify(require.resolve('../src/oidc/loopback'))});
listenForCallback('http://0.0.0.0:8765/cb', 's', { autoclose: false, timeoutS: 6 }).then((cb) => { console.log(JSON.stringify({ address: cb.address, exposed: cb.exposed })); cb.close(); });\n`,
    );
    const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'netns', process.execPath, script], { timeout: 20_000, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { address: '0.0.0.0:8765', exposed: true });
  });
});

describe('gitsign.urlOpener: the argv a real program receives', () => {
  /** A stub browser: records its arguments as JSON and exits 0. */
  function recorder(name: string): { command: (args: string) => string; argv: () => Promise<string[]> } {
    const file = join(work, `${name}.argv`);
    const script = join(work, `${name}.js`);
    writeFileSync(script, `const fs = require('node:fs'); fs.writeFileSync(${JSON.stringify(`${file}.tmp`)}, JSON.stringify(process.argv.slice(2))); fs.renameSync(${JSON.stringify(`${file}.tmp`)}, ${JSON.stringify(file)});\n`);
    return {
      command: (args) => `${process.execPath} '${script}' ${args}`,
      argv: async () => {
        for (let i = 0; i < 500 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
        return JSON.parse(readFileSync(file, 'utf8')) as string[];
      },
    };
  }

  test('quotes group, backslashes stay, {{ .URL }} (quoted) and {{.URL}} become the URL; no shell sees any of it', async () => {
    const url = 'http://127.0.0.1:1/auth?state=a&redirect_uri=http%3A%2F%2Flocalhost%2Fcb&x=$(touch /tmp/pwned)`id`';
    const stub = recorder('argv');
    const opened = await within(10_000, openBrowser(url, stub.command(`--profile-directory="Profile 1" 'C:\\Users\\me\\chrome.exe' "{{ .URL }}" --app={{.URL}} x\\ y "{{- /* c */ -}}"`)), 'the opener');
    assert.equal(opened, null);
    assert.deepEqual(await stub.argv(), ['--profile-directory=Profile 1', 'C:\\Users\\me\\chrome.exe', url, `--app=${url}`, 'x\\', 'y', '']);
  });

  test('a bad opener is a configuration error and nothing is run', async () => {
    const stub = recorder('never');
    await assert.rejects(openBrowser('http://x', stub.command('{{ .URL }}')), (e: unknown) => e instanceof GitsignError && e.code === 'CONFIG' && /unclosed action/.test(e.message));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(existsSync(join(work, 'never.argv')), false);
  });
});

describe('a login end to end on a configured redirect URL', () => {
  let sb: SigningSandbox;
  before(async () => {
    sb = await startSigningSandbox();
  });
  after(async () => {
    await sb?.stop();
  });

  /** A browser stand-in: records its argv, follows the login URL (its last argument), keeps the page it lands on. */
  function follower(name: string): { command: (args: string) => string; argv: () => string[]; page: () => string } {
    const argvFile = join(work, `${name}.argv`);
    const pageFile = join(work, `${name}.html`);
    const script = join(work, `${name}.js`);
    writeFileSync(
      script,
      `const fs = require('node:fs'); const http = require('node:http');
fs.writeFileSync(${JSON.stringify(argvFile)}, JSON.stringify(process.argv.slice(2)));
const get = (url, left) => http.get(url, (res) => {
  let body = ''; res.on('data', (d) => (body += d));
  res.on('end', () => {
    if (res.headers.location && left > 0) return get(new URL(res.headers.location, url).toString(), left - 1);
    fs.writeFileSync(${JSON.stringify(pageFile)}, body); process.exitCode = res.statusCode === 200 ? 0 : 1;
  });
}).on('error', () => { process.exitCode = 1; });
get(process.argv[process.argv.length - 1], 5);\n`,
    );
    return {
      command: (args) => `${process.execPath} ${script} ${args}`,
      argv: () => JSON.parse(readFileSync(argvFile, 'utf8')) as string[],
      page: () => readFileSync(pageFile, 'utf8'),
    };
  }

  test('git commit -S logs in through http://127.0.0.1:PORT/PATH with a quoted "{{ .URL }}" opener; the page does not close itself without a connector', async () => {
    const port = await freePort();
    const redirect = `http://127.0.0.1:${port}/gobehave/callback`;
    const browser = follower('redirect');
    const repo = loginRepo(sb);
    try {
      const r = await within(
        60_000,
        gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'redirect'], {
          GITSIGN_TOKEN_PROVIDER: 'interactive',
          GITSIGN_OIDC_REDIRECT_URL: redirect,
          GITSIGN_URL_OPENER: browser.command(`--new-tab '{{ .URL }}'`),
        }),
        'git commit -S',
      );
      assert.equal(r.status, 0, r.stderr);
      const [flag, url] = browser.argv();
      assert.equal(flag, '--new-tab');
      assert.equal(new URL(url).searchParams.get('redirect_uri'), redirect);
      assert.match(browser.page(), /<title>gitsign: signed in<\/title>/);
      assert.doesNotMatch(browser.page(), /window\.close/);
      assert.equal(repo.git('log', '-1', '--format=%G?').trim(), 'G');
    } finally {
      repo.remove();
    }
  });

  test('with a connector, GITSIGN_AUTOCLOSE_TIMEOUT=junk is 0 as in gitsign: the page closes at once', async () => {
    const browser = follower('autoclose');
    const repo = loginRepo(sb);
    try {
      const r = await within(
        60_000,
        gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'autoclose'], {
          GITSIGN_TOKEN_PROVIDER: 'interactive',
          GITSIGN_CONNECTOR_ID: 'https://github.com/login/oauth',
          GITSIGN_AUTOCLOSE_TIMEOUT: 'soon',
          GITSIGN_URL_OPENER: browser.command('{{.URL}}'),
        }),
        'git commit -S',
      );
      assert.equal(r.status, 0, r.stderr);
      assert.match(browser.page(), /let n=0;if\(n<=0\)window\.close\(\);/);
      assert.match(browser.page(), /window\.close\(\)/);
    } finally {
      repo.remove();
    }
  });
});
