/**
 * The page `gitsign audit --html` writes (src/audit/html), read as text: hostile signer identities,
 * tag names, messages and policy texts appear only escaped (never as markup, never with an invisible
 * character), the Content-Security-Policy comes before anything from the audit, every link is an
 * anchor of the page that exists, failures come before ok objects, and a policy version shows its diff
 * from the version it replaced. The browser's view of the same is test/audit-html-chromium.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditReport } from '../src/audit/engine';
import { escapeText, html, Html } from '../src/audit/html/markup';
import { auditPage, CONTENT_SECURITY_POLICY } from '../src/audit/html/page';
import type { AuditEntry, PolicyVersion, Status } from '../src/audit/types';
import { parsePolicy } from '../src/policy/parse';

export const HOSTILE = [
  '<script>document.title="pwned"</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg/onload=alert(1)>",
  'http://127.0.0.1:9/x.png',
  '&amp; </textarea></style></title><!--',
  'evil\u202egnp.exe',
];

const ISSUER = 'https://issuer.example';

function policyText(serial: number, signers: string[], comment: string): string {
  return [
    `# ${comment}`,
    'version: 1',
    `serial: ${serial}`,
    'principals:',
    ...signers.map((s, i) => `  p${i}: [{issuer: ${JSON.stringify(ISSUER)}, subject: ${JSON.stringify(s)}}]`),
    'rules:',
    '  - paths: ["**"]',
    `    signers: [${signers.map((_, i) => `p${i}`).join(', ')}]`,
    'policy:',
    '  signers: [p0]',
    '',
  ].join('\n');
}

function version(text: string, origin: string): PolicyVersion {
  return { policy: parsePolicy(Buffer.from(text), origin), origin, gitsignTree: `tree-${origin}`, source: Buffer.from(text) };
}

function entry(object: string, status: Status, fields: Partial<AuditEntry> = {}): AuditEntry {
  return {
    type: 'commit',
    object,
    status,
    reason: status === 'ok' ? 'AUTHORIZED' : 'UNKNOWN_SIGNER',
    message: 'judged',
    signer: { identities: ['alice@example.com'], issuer: ISSUER },
    kind: 'sigstore',
    principals: status === 'ok' ? ['p0'] : [],
    attestedTime: '2026-01-01T00:00:00.000Z',
    timeSource: 'tlog',
    policySerial: 1,
    policies: ['main (root)'],
    rule: 'rules[0] (line 6)',
    notChecked: [],
    ...fields,
  };
}

const sha = (c: string): string => c.repeat(40);

/** A report with every hostile string in every place the audit takes from objects, certificates and policies. */
function hostileReport(): AuditReport {
  const root = version(policyText(1, ['alice@example.com'], HOSTILE.join(' ')), 'main (root)');
  const next = version(policyText(2, ['alice@example.com', ...HOSTILE], 'two'), sha('c'));
  const entries: AuditEntry[] = [
    entry(sha('a'), 'ok', { attestedTime: '2026-01-01T00:00:00.000Z' }),
    entry(sha('b'), 'violation', { signer: { identities: HOSTILE, issuer: HOSTILE[1] }, message: HOSTILE.join(' | '), rule: HOSTILE[0], attestedTime: '2026-01-02T00:00:00.000Z' }),
    entry(sha('c'), 'ok', { attestedTime: '2026-01-03T00:00:00.000Z' }),
    entry(sha('d'), 'unsigned', { signer: null, attestedTime: null, timeSource: null, policySerial: 2, policies: [sha('c')], notChecked: HOSTILE }),
    entry(sha('e'), 'ok', { type: 'tag', name: HOSTILE[0], policySerial: 2, policies: [sha('c')], attestedTime: '2026-01-04T00:00:00.000Z' }),
  ];
  const counts = { ok: 3, endorsed: 0, violation: 1, unsigned: 1, revoked: 0, error: 0 };
  return {
    range: `${HOSTILE[1]}..HEAD`,
    tip: sha('e'),
    ref: HOSTILE[0],
    mode: 'repository',
    trustRoot: { origin: root.origin, serial: 1 },
    adopted: [{ origin: next.origin, serial: 2 }],
    versions: [root, next],
    entries,
    lines: entries.map((e) => JSON.stringify(e)),
    commits: entries.filter((e) => e.type === 'commit').length,
    counts,
  };
}

const page = auditPage(hostileReport(), { generator: 'gitsign-ts test', generatedAt: new Date('2026-02-01T00:00:00Z') });

/** Tags of the page and their attributes, as a browser's tokenizer splits them (no comments or raw text among them). */
const tags = (text: string): { name: string; attrs: string }[] => [...text.matchAll(/<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)].map((m) => ({ name: m[1].toLowerCase(), attrs: m[2] }));

describe('the html template', () => {
  test('escapes every value, keeps only markup it wrote, and shows invisible characters as escapes', () => {
    assert.equal(html`<b>${'<i>&"\''}</b>`.markup, '<b>&lt;i&gt;&amp;&quot;&#39;</b>');
    assert.equal(html`${[1, null, undefined, false, new Html('<br>')]}`.markup, '1<br>');
    assert.equal(escapeText('a\u202eb\u0000c\nd\te'), 'a\\u202eb\\u0000c\\nd\te');
  });
});

describe('a page of a hostile audit', () => {
  test('no hostile string with a markup or invisible character appears as it was given; each appears escaped', () => {
    for (const h of HOSTILE) {
      assert.ok(page.includes(escapeText(h)), `escaped: ${h}`);
      if (/[<>"'&\u202e]/.test(h)) assert.ok(!page.includes(h), `raw: ${h}`);
    }
  });

  test('the page holds only the elements and attributes it writes: no script, no handler, no source, no link but the empty icon', () => {
    const elements = ['html', 'head', 'meta', 'link', 'title', 'style', 'body', 'nav', 'main', 'section', 'h1', 'h2', 'h3', 'p', 'div', 'span', 'a', 'dl', 'dt', 'dd', 'ul', 'li', 'code', 'pre', 'details', 'summary'];
    const attributes = ['lang', 'charset', 'http-equiv', 'content', 'name', 'rel', 'href', 'class', 'id', 'title', 'style', 'open'];
    for (const t of tags(page)) {
      assert.ok(elements.includes(t.name), `unexpected element <${t.name}>`);
      // Every attribute is a known name with a double-quoted value (or none); a value holds no quote.
      assert.match(t.attrs, /^(\s[a-z-]+(="[^"<>]*")?)*\s*$/, `<${t.name}${t.attrs}>`);
      for (const [, name] of t.attrs.matchAll(/\s([a-z-]+)(?:="[^"]*")?/g)) assert.ok(attributes.includes(name), `attribute ${name} in <${t.name}${t.attrs}>`);
    }
    assert.deepEqual(tags(page).filter((t) => t.name === 'link').map((t) => t.attrs), [' rel="icon" href="data:,"']);
  });

  test('the Content-Security-Policy forbids scripts and loads, and comes before any text of the audit', () => {
    assert.match(CONTENT_SECURITY_POLICY, /^default-src 'none'; /);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /script-src|unsafe-eval|https?:|\*/);
    const csp = page.indexOf('http-equiv="Content-Security-Policy"');
    assert.ok(csp > 0 && csp < page.indexOf('<title>'));
    assert.ok(page.indexOf('<meta charset="utf-8">') < csp);
  });

  test('every link is an anchor of the page, and every anchor it names exists', () => {
    const ids = new Set([...page.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]));
    const hrefs = [...page.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]).filter((h) => h !== 'data:,');
    assert.ok(hrefs.length > 10);
    for (const h of hrefs) {
      assert.match(h, /^#/);
      assert.ok(ids.has(h.slice(1)), `no element ${h}`);
    }
  });

  test('the violation and the unsigned commit come before the ok commits, each with its details anchor', () => {
    const at = (object: string, type = 'commit'): number => page.indexOf(`id="${type}-${object}"`);
    assert.ok(at(sha('b')) > 0 && at(sha('b')) < at(sha('d')) && at(sha('d')) < at(sha('a')) && at(sha('a')) < at(sha('c')));
    assert.ok(at(sha('e'), 'tag') > 0);
  });

  test('the adopted version shows its diff from the trust root, line by line, and links to the commit that adopted it', () => {
    const policy1 = page.slice(page.indexOf('id="policy-1"'));
    assert.match(policy1, /href="#commit-c{40}"/);
    assert.match(policy1, /<span class="del">-serial: 1<\/span>/);
    assert.match(policy1, /<span class="add">\+serial: 2<\/span>/);
    assert.match(policy1, /<span class="hunk">@@ -1,\d+ \+1,\d+ @@<\/span>/);
    assert.ok(policy1.includes(`<span class="add">+  p1: [{issuer: ${escapeText(JSON.stringify(ISSUER))}, subject: ${escapeText(JSON.stringify(HOSTILE[0]))}}]</span>`));
  });

  test('the summary counts each status and says the audit failed', () => {
    assert.match(page, /id="count-violation" href="#status-violation"><span class="n">1<\/span>violation/);
    assert.match(page, /id="count-revoked"><span class="n">0<\/span>revoked/);
    assert.match(page, /class="verdict failed"/);
  });
});
