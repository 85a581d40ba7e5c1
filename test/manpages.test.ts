/**
 * The manual pages: valid roff (no groff warnings), readable with `man -l`, and complete: every git
 * configuration key and environment variable gitsign reads, every option of gitsign-credential-cache,
 * `gitsign sandbox` and install.sh, and an exit status section.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT } from './helpers/paths';

const PAGES = ['gitsign', 'gitsign-verify', 'gitsign-credential-cache', 'gitsign-sandbox'];
const page = (name: string): string => join(ROOT, 'man', `${name}.1`);
/** What a reader sees: rendered text with hyphenation and justification undone. */
function rendered(name: string): string {
  const r = spawnSync('man', ['-l', page(name)], { env: { ...process.env, MANWIDTH: '2000', MAN_KEEP_FORMATTING: '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/‐\n\s*/g, '').replace(/[ \t]+/g, ' ').replace(/\u2010/g, '-');
}

/** Long options a --help text lists (lines that start with one, maybe after a short form). */
const optionsIn = (help: string): string[] => [...new Set([...help.matchAll(/^\s+(?:-[a-z], )?(--[a-z][a-z-]+)/gm)].map((m) => m[1]))];

test('every page is valid roff and renders with man -l', () => {
  for (const name of PAGES) {
    const g = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page(name)], { encoding: 'utf8' });
    assert.equal(g.stderr, '', `${name}.1: ${g.stderr}`);
    const text = rendered(name);
    for (const section of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'EXIT STATUS', 'SEE ALSO']) assert.match(text, new RegExp(`^${section}`, 'm'), `${name}.1 lacks ${section}`);
  }
});

test('gitsign(1) names every configuration key and environment variable gitsign reads', () => {
  const text = rendered('gitsign');
  const config = readFileSync(join(ROOT, 'src', 'config', 'config.ts'), 'utf8');
  const keys = [...config.matchAll(/'(gitsign\.[a-z]+)': '/g)].map((m) => m[1]);
  assert.ok(keys.length > 15);
  for (const k of keys) assert.ok(text.toLowerCase().includes(k), `gitsign.1 does not mention ${k}`);
  const shared = [...config.matchAll(/\['([A-Z_]+)', '[a-z][a-zA-Z]+'\]/g)].map((m) => m[1]);
  const vars = shared.flatMap((v) => (v.startsWith('GITSIGN_') ? [v] : [`GITSIGN_${v}`, `SIGSTORE_${v}`]));
  const extra = ['SIGSTORE_ROOT_FILE', 'SIGSTORE_ID_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITSIGN_CREDENTIAL_CACHE', 'GITSIGN_TRACE', 'SIGSTORE_REKOR_PUBLIC_KEY', 'SIGSTORE_CT_LOG_PUBLIC_KEY_FILE'];
  for (const v of [...vars, ...extra]) assert.ok(text.includes(v), `gitsign.1 does not mention ${v}`);
});

test("gitsign-credential-cache(1) covers its options, Go gitsign's protocol and the login on a miss", () => {
  const text = rendered('gitsign-credential-cache');
  const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'gitsign-credential-cache'), '--help'], { encoding: 'utf8' }).stdout;
  for (const o of optionsIn(help)) assert.ok(text.includes(o), `missing ${o}`);
  for (const s of ['net/rpc', 'encoding/gob', 'Service.GetCredential', 'Service.StoreCredential', 'GetCredentialRequest', 'StoreCredentialRequest', 'not found', 'LOGIN ON A MISS', 'ssh -R', 'SO_PEERCRED', 'LISTEN_FDS']) {
    assert.ok(text.includes(s), `missing ${s}`);
  }
});

test('gitsign-sandbox(1) covers every option of gitsign sandbox; gitsign(1) every install.sh option', () => {
  const sandbox = rendered('gitsign-sandbox');
  const help = spawnSync(process.execPath, [BIN, 'sandbox', '--help'], { encoding: 'utf8' }).stdout;
  const opts = optionsIn(help);
  assert.ok(opts.includes('--issuer-claims'));
  for (const o of opts) assert.ok(sandbox.includes(o), `gitsign-sandbox.1 lacks ${o}`);
  const install = spawnSync('sh', [join(ROOT, 'install', 'install.sh'), '--help'], { encoding: 'utf8' }).stdout;
  const gitsign = rendered('gitsign');
  for (const o of optionsIn(install)) assert.ok(gitsign.includes(o), `gitsign.1 lacks install.sh ${o}`);
});
