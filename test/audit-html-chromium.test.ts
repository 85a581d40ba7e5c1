/**
 * `gitsign audit --html FILE` on a real history the sandbox signs (an ok commit, a violation, an
 * unsigned commit, a policy change to serial 2, a tag), opened in headless Chromium (Debian's, driven
 * by playwright-core): the summary counts, violations first, every timeline mark and policy link
 * reaching its commit's details, the timeline and the policy diff; a screenshot taken. Hostile signer
 * identities (an email and a URL), a tag name and a policy comment carrying <script>, an attribute
 * break-out and URLs of a server the test runs: no script runs, no request leaves the page (the test's
 * server hears nothing, Chromium sees no request but the file, the CSP blocks nothing because nothing
 * tries), and the page shows each text literally. A missing Chromium fails the file at once.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './helpers/chromium';
import { person, SignedHistory } from './helpers/auditHistory';
import { requirePeer } from './helpers/peers';
import { removeDir, sandboxPerFile, tempDir } from './helpers/signingSandbox';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const MALLORY = 'mallory@example.com';
/** The statuses every summary count is checked for. */
const STATUSES = ['ok', 'endorsed', 'violation', 'unsigned', 'revoked', 'error'];

// A missing Chromium fails the file at once, naming its package, before the sandbox starts.
requirePeer('chromium');
const sb = sandboxPerFile();

describe('gitsign audit --html in headless Chromium', () => {
  let h: SignedHistory;
  let chromium: { context: BrowserContext; close: () => Promise<void> };
  let work: string;
  /** The test's own server: any request it hears came from the page. */
  let listener: Server;
  const heard: string[] = [];
  const c: Record<string, string> = {};
  let hostile: { email: string; uri: string; tag: string; comment: string };
  let range: string;
  let file: string;
  let page: Page;
  /** Every request Chromium made for the page, and every CSP violation the page reported. */
  const requests: string[] = [];
  const failures: string[] = [];

  const policy = (serial: number, principals: Record<string, string>): string =>
    [
      `# ${hostile.comment} (serial ${serial})`,
      'version: 1',
      `serial: ${serial}`,
      'principals:',
      ...Object.entries(principals).map(([n, email]) => `  ${n}: ${person(h.issuer, email)}`),
      'rules:',
      '  - paths: ["**"]',
      `    signers: [${Object.keys(principals).join(', ')}]`,
      'tags:',
      '  - names: ["**"]',
      '    signers: [alice]',
      'policy:',
      '  signers: [alice]',
      '',
    ].join('\n');

  before(async () => {
    listener = createServer((req, res) => {
      heard.push(req.url ?? '');
      res.end();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    hostile = {
      email: `"><img/src=${origin}/email.png/onerror=document.title='pwned'>@evil.example`,
      uri: `${origin}/uri/"><script>document.title='pwned'</script>`,
      tag: `"><img/src=x/onerror=document.title='pwned'><script>document.title='pwned'</script>`,
      comment: `<script src="${origin}/comment.js"></script><img src="${origin}/comment.png"> '"><b>bold</b>`,
    };
    chromium = await launchChromium();
    work = tempDir();
    h = new SignedHistory(sb);
    c.base = h.commit(ALICE, 'policy: alice', { '.gitsign/policy.yaml': policy(1, { alice: ALICE }), 'a.txt': '1' });
    c.ok = h.commit(ALICE, 'alice works', { 'a.txt': '2' });
    c.violation = h.commit(MALLORY, 'mallory is no principal', { 'a.txt': '3' });
    c.unsigned = h.commit(null, 'nobody signs', { 'a.txt': '4' });
    c.policy2 = h.commit(ALICE, 'policy: add bob', { '.gitsign/policy.yaml': policy(2, { alice: ALICE, bob: BOB }) });
    c.bob = h.commit(BOB, 'bob works', { 'b.txt': '1' });
    c.hostileEmail = h.commit(hostile.email, 'a hostile email', { 'b.txt': '2' });
    c.hostileUri = h.commit(hostile.uri, 'a hostile URI', { 'b.txt': '3' });
    c.tag = h.tag(ALICE, hostile.tag);
    range = `${c.base}..main`;
    file = join(work, 'audit.html');

    page = await chromium.context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (e) => failures.push(`page error: ${e.message}`));
    // Playwright's init script is not the page's: it only listens for what the CSP blocks.
    await page.addInitScript({
      content: "window.blocked = []; document.addEventListener('securitypolicyviolation', (e) => window.blocked.push(e.violatedDirective + ' ' + e.blockedURI));",
    });
  });

  after(async () => {
    await chromium?.close();
    h?.remove();
    if (work) removeDir(work);
    await new Promise((r) => (listener ? listener.close(r) : r(undefined)));
  });

  test('the page is written with the JSON report on stdout; exit 1 for the violations', async () => {
    const run = h.audit(['--html', file, range]);
    assert.equal(run.status, 1, run.stderr);
    assert.equal(run.entries.length, 8, run.stdout);
    const status = (sha: string): string => `${run.of(sha).status} ${run.of(sha).reason}`;
    assert.equal(status(c.ok), 'ok AUTHORIZED');
    assert.equal(status(c.violation), 'violation UNKNOWN_SIGNER');
    assert.equal(status(c.unsigned), 'unsigned NOT_SIGNED');
    assert.equal(status(c.policy2), 'ok AUTHORIZED');
    assert.equal(`${status(c.bob)} serial=${run.of(c.bob).policySerial}`, 'ok AUTHORIZED serial=2');
    assert.deepEqual(run.of(c.hostileEmail).signer?.identities, [hostile.email]);
    assert.deepEqual(run.of(c.hostileUri).signer?.identities, [hostile.uri]);
    assert.equal(run.of(c.tag).name, hostile.tag);
    assert.ok(statSync(file).size > 1000);
    assert.match(readFileSync(file, 'utf8'), /^<!DOCTYPE html>/);
  });

  test('in Chromium: no script runs, no request leaves the page, nothing is even blocked', async () => {
    await page.goto(pathToFileURL(file).href);
    const fileUrl = pathToFileURL(file).href;
    assert.equal(await page.title(), `gitsign audit of ${range}`);
    assert.deepEqual(failures, []);
    assert.deepEqual(
      requests.filter((u) => u !== fileUrl),
      [],
    );
    assert.deepEqual(await page.evaluate('window.blocked'), []);
    assert.equal(await page.locator('script, img, iframe, object, embed, form, b').count(), 0, 'no element from the audit became markup');
    assert.deepEqual(heard, []);
  });

  test('the summary counts what the JSON summary counts; the verdict is failed', async () => {
    const json = h.audit([range]).summary?.counts ?? {};
    const expected = { ok: 4, endorsed: 0, violation: 3, unsigned: 1, revoked: 0, error: 0 };
    assert.deepEqual(json, expected);
    for (const s of STATUSES) assert.equal(await page.locator(`#count-${s} .n`).innerText(), String(expected[s as keyof typeof expected]), s);
    assert.match(await page.locator('#verdict').innerText(), /^Failed: 4 of 8 objects/);
  });

  test('violations come first, then the unsigned commit, then the ok objects', async () => {
    const order = await page.locator('details.entry').evaluateAll((els) => els.map((e) => e.className.replace('entry ', '')));
    assert.deepEqual(order, ['s-violation', 's-violation', 's-violation', 's-unsigned', 's-ok', 's-ok', 's-ok', 's-ok']);
    const violations = await page.locator('#status-violation details.entry .sha').allInnerTexts();
    assert.deepEqual(violations, [c.violation, c.hostileEmail, c.hostileUri].map((s) => s.slice(0, 12)));
  });

  test('the timeline has a row per signer and a mark per signed object; each mark opens its commit\'s details', async () => {
    const rows = await page.locator('.tl-row.signer .tl-name').allInnerTexts();
    assert.deepEqual(new Set(rows), new Set([ALICE, MALLORY, BOB, hostile.email, hostile.uri]));
    const marks = page.locator('a.tl-mark');
    assert.equal(await marks.count(), 7, 'every object but the unsigned commit');
    for (let i = 0; i < 7; i++) {
      const mark = marks.nth(i);
      const target = ((await mark.getAttribute('href')) ?? '').slice(1);
      assert.ok(!(await page.locator(`[id="${target}"]`).isVisible()), `${target} starts folded`);
      // The keyboard, as a person would: marks of one second overlap, so a pointer could hit another.
      await mark.focus();
      await page.keyboard.press('Enter');
      await page.locator(`[id="${target}"]`).waitFor({ state: 'visible', timeout: 5000 });
      assert.equal(await page.evaluate('location.hash'), `#${target}`);
    }
    assert.match(await page.locator('[id="commit-' + c.hostileUri + '"]').innerText(), /UNKNOWN_SIGNER/);
  });

  test('the policy change is a line on the timeline and a version whose diff shows serial 1 become serial 2 and bob added', async () => {
    assert.equal(await page.locator('a.tl-policy').count(), 1);
    assert.equal(await page.locator('a.tl-policy').getAttribute('href'), '#policy-1');
    const v1 = page.locator('#policy-1');
    assert.match(await v1.locator('h3').innerText(), new RegExp(`^Serial 2: adopted by the commit ${c.policy2}$`));
    const removed = await v1.locator('.diff .del').allInnerTexts();
    const added = await v1.locator('.diff .add').allInnerTexts();
    assert.ok(removed.includes('-serial: 1') && removed.includes(`-# ${hostile.comment} (serial 1)`), removed.join('\n'));
    assert.ok(added.includes('+serial: 2') && added.some((l) => l.startsWith('+  bob: ')), added.join('\n'));
    // The commit that adopted it is one click away.
    await v1.locator('h3 a').click();
    await page.locator(`[id="commit-${c.policy2}"]`).waitFor({ state: 'visible', timeout: 5000 });
  });

  test('every hostile text is shown literally', async () => {
    const text = await page.locator('body').innerText();
    for (const s of [hostile.email, hostile.uri, `tag ${hostile.tag}`, `# ${hostile.comment} (serial 1)`]) assert.ok(text.includes(s), s);
  });

  test('a full-page screenshot is a PNG', async () => {
    const shot = join(work, 'audit.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.ok(png.length > 10_000, `${png.length} bytes`);
  });

  test('--html - and an empty --html are refused before anything runs; a page that cannot be written is exit 2 with nothing printed', () => {
    for (const arg of ['-', '']) {
      const r = h.gitsign(['audit', '--html', arg, range]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /--html needs the path of the page to write/);
      assert.equal(r.stdout, '');
    }
    const r = h.gitsign(['audit', '--html', join(work, 'no-such-dir', 'a.html'), range]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /cannot write the page .*: ENOENT/);
    assert.equal(r.stdout, '');
  });
});
