/**
 * The interactive login for real: `git commit -S` waits while headless Chromium (Debian's, driven by
 * playwright-core) goes through the sandbox issuer's login and lands on gitsign's loopback listener;
 * the out-of-band fallback when no browser can be opened (the code pasted on a terminal); the device
 * flow. Each commit must be signed by the sandbox identity.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from './helpers/chromium';
import type { TempRepo } from './helpers/gitRepo';
import { requirePeer } from './helpers/peers';
import { gitAsync, loginRepo, removeDir, type SigningSandbox, startSigningSandbox, tempDir } from './helpers/signingSandbox';

const SUBJECT = 'sandbox-user@example.com'; // the sandbox issuer's default identity
let sb: SigningSandbox;
let chromium: { context: BrowserContext; close: () => Promise<void> };
let work: string;

before(async () => {
  // A missing peer fails the file at once, naming the package, before anything is started.
  requirePeer('chromium');
  requirePeer('script');
  work = tempDir();
  // Each start is kept as soon as it succeeds, so after() stops whatever did start even if the other failed.
  const starts = await Promise.allSettled([startSigningSandbox().then((s) => (sb = s)), launchChromium().then((c) => (chromium = c))]);
  const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
});

after(async () => {
  await Promise.allSettled([chromium?.close(), sb?.stop()]);
  if (work) removeDir(work);
});

/** A urlOpener that hands the URL to this test through a file, as a browser launcher would get it. */
function handoffOpener(name: string): { urlOpener: string; url: () => Promise<string> } {
  const file = join(work, `${name}.url`);
  const script = join(work, `${name}.js`);
  // Written aside then renamed, so the test never reads a file that exists but is still empty.
  writeFileSync(script, `const fs = require('node:fs'); fs.writeFileSync(${JSON.stringify(`${file}.tmp`)}, process.argv[2]); fs.renameSync(${JSON.stringify(`${file}.tmp`)}, ${JSON.stringify(file)});\n`);
  return {
    urlOpener: `${process.execPath} ${script} {{.URL}}`,
    url: async () => {
      for (let i = 0; i < 500 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
      return readFileSync(file, 'utf8');
    },
  };
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

/** The commit is good for git, and gitsign verify finds the sandbox identity and issuer in it. */
function assertSignedBySandbox(repo: TempRepo): void {
  assert.equal(repo.git('log', '-1', '--format=%G?').trim(), 'G');
  const v = repo.gitsign(['verify', '--certificate-identity', SUBJECT, '--certificate-oidc-issuer', sb.env.GITSIGN_OIDC_ISSUER, 'HEAD']);
  assert.equal(v.status, 0, v.stdout + v.stderr);
}

describe('browser login (authorization code + PKCE) in headless Chromium', () => {
  test('git commit -S waits while Chromium signs in; the commit is signed by the sandbox identity', async (t) => {
    const repo = loginRepo(sb);
    try {
      const opener = handoffOpener('plain');
      const commit = gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'browser login'], {
        GITSIGN_TOKEN_PROVIDER: 'interactive',
        GITSIGN_URL_OPENER: opener.urlOpener,
      });
      const url = new URL(await opener.url());
      const q = url.searchParams;
      assert.equal(`${url.origin}${url.pathname}`, `${sb.env.GITSIGN_OIDC_ISSUER}/auth`);
      assert.equal(q.get('response_type'), 'code');
      assert.equal(q.get('client_id'), 'sigstore');
      assert.equal(q.get('scope'), 'openid email');
      assert.equal(q.get('code_challenge_method'), 'S256');
      assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok((q.get('state') ?? '').length >= 22 && (q.get('nonce') ?? '').length >= 22);
      assert.equal(q.get('connector_id'), null);
      const redirect = new URL(q.get('redirect_uri') ?? '');
      assert.equal(redirect.hostname, 'localhost');
      assert.equal(redirect.pathname, '/auth/callback');
      const port = Number(redirect.port);
      // The listener is on 127.0.0.1 only.
      assert.equal(await connects('127.0.0.1', port), true);
      assert.equal(await connects('::1', port), false);

      const page = await chromium.context.newPage();
      await page.goto(url.toString());
      assert.equal(await page.title(), 'gitsign: signed in');
      assert.ok(page.url().startsWith(`http://localhost:${port}/auth/callback?`), page.url());
      await page.close();

      const r = await commit;
      assert.equal(r.status, 0, r.stderr);
      assertSignedBySandbox(repo);
      t.diagnostic(`browser login and signed commit: ${r.ms.toFixed(0)} ms (git commit -S start to end)`);
    } finally {
      repo.remove();
    }
  });

  test('with a connector, connector_id is sent and the success page closes itself', async () => {
    const repo = loginRepo(sb);
    try {
      const opener = handoffOpener('connector');
      const commit = gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'connector'], {
        GITSIGN_TOKEN_PROVIDER: 'interactive',
        GITSIGN_URL_OPENER: opener.urlOpener,
        GITSIGN_CONNECTOR_ID: 'https://github.com/login/oauth',
        GITSIGN_AUTOCLOSE_TIMEOUT: '1',
      });
      const url = await opener.url();
      assert.equal(new URL(url).searchParams.get('connector_id'), 'https://github.com/login/oauth');
      // Opened by a script, as a browser launcher's new tab is, so the page may close itself.
      const opener_ = await chromium.context.newPage();
      const [popup] = await Promise.all([chromium.context.waitForEvent('page'), opener_.evaluate(`void window.open(${JSON.stringify(url)})`)]);
      await popup.waitForEvent('close', { timeout: 10_000 });
      await opener_.close();
      const r = await commit;
      assert.equal(r.status, 0, r.stderr);
      assertSignedBySandbox(repo);
    } finally {
      repo.remove();
    }
  });
});

describe('when no browser can be opened', () => {
  test('the out-of-band fallback: the URL and a prompt on the terminal, the pasted code signs the commit', async () => {
    const repo = loginRepo(sb);
    try {
      // `script` gives git and gitsign a terminal, as a person's shell has; the test types into it.
      const proc = spawn('script', ['-qfec', 'git commit --allow-empty -S -q -m oob', '/dev/null'], {
        cwd: repo.dir,
        env: { ...repo.env, GITSIGN_TOKEN_PROVIDER: 'interactive', GITSIGN_URL_OPENER: 'false {{.URL}}' },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
      const prompt = new Promise<void>((resolve) =>
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Enter verification code: ')) resolve();
        }),
      );
      await Promise.race([prompt, exited.then(() => assert.fail(`exited before the prompt: ${out}`))]);
      assert.match(out, /Your browser will now be opened to:\r?\n/);
      assert.match(out, /No browser could be opened \(exit status 1\)/);
      const m = /Go to the following link in a browser:\r?\n\r?\n\t (\S+)/.exec(out);
      assert.ok(m, out);
      const oobUrl = new URL(m[1]);
      assert.equal(oobUrl.searchParams.get('redirect_uri'), 'urn:ietf:wg:oauth:2.0:oob');

      const page = await chromium.context.newPage();
      await page.goto(oobUrl.toString());
      const code = /Verification code: (\S+)/.exec(await page.innerText('body'))?.[1];
      await page.close();
      assert.ok(code);
      proc.stdin.write(`${code}\r`);
      assert.equal(await exited, 0, out);
      assertSignedBySandbox(repo);
    } finally {
      repo.remove();
    }
  });

  test('without a terminal either: one clear error, no commit', async () => {
    const repo = loginRepo(sb);
    try {
      const log = join(work, 'no-tty.log');
      const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'nope'], {
        GITSIGN_TOKEN_PROVIDER: 'interactive',
        GITSIGN_URL_OPENER: 'no-such-browser-command {{.URL}}',
        GITSIGN_LOG: log,
      });
      assert.notEqual(r.status, 0);
      assert.match(readFileSync(log, 'utf8'), /no browser could be opened \(ENOENT\) and there is no terminal to paste the code into/);
      assert.equal(repo.gitResult(['rev-parse', '-q', '--verify', 'HEAD']).status, 1);
    } finally {
      repo.remove();
    }
  });
});

test('device flow: the code and URL are shown, the poll gets the token, the commit is signed', async () => {
  const repo = loginRepo(sb);
  try {
    const log = join(work, 'device.log');
    const r = await gitAsync(repo, ['commit', '--allow-empty', '-S', '-q', '-m', 'device'], { GITSIGN_TOKEN_PROVIDER: 'device', GITSIGN_LOG: log });
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(log, 'utf8');
    assert.match(text, /using device authorization flow/);
    assert.match(text, /Enter the verification code [A-F0-9]{4}-[A-F0-9]{4} in your browser at: http:\/\/127\.0\.0\.1:\d+\/auth\/device\?user_code=/);
    assert.match(text, /Code will be valid for 300 seconds/);
    assertSignedBySandbox(repo);
  } finally {
    repo.remove();
  }
});
