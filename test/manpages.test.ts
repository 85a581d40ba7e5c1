/**
 * The manual pages: valid roff (no groff warnings), readable with `man -l`, and complete: every git
 * configuration key and environment variable gitsign reads, every subcommand with a page or a section
 * and every option its --help lists, every option of gitsign-credential-cache, `gitsign sandbox` (each
 * action with examples and exit statuses) and install.sh, an exit status section that says what the
 * command does. And every --help screen has an example that pastes as it is.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { TempRepo } from './helpers/gitRepo';
import { BIN, ROOT } from './helpers/paths';

/** Every page in man/ (install.sh installs each). */
const PAGES = readdirSync(join(ROOT, 'man'))
  .filter((f) => f.endsWith('.1'))
  .map((f) => f.slice(0, -2))
  .sort();
/** The pages of one command each, which show it at work (gitsign(1) is the overview). */
const COMMAND_PAGES = ['gitsign-attest', 'gitsign-verify-attestation', 'gitsign-show', 'gitsign-verify-bundle', 'gitsign-sandbox'];
const page = (name: string): string => join(ROOT, 'man', `${name}.1`);
/** What a reader sees: rendered text with hyphenation and justification undone. */
function rendered(name: string): string {
  const r = spawnSync('man', ['-l', page(name)], { env: { ...process.env, MANWIDTH: '2000', MAN_KEEP_FORMATTING: '' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/‐\n\s*/g, '').replace(/[ \t]+/g, ' ').replace(/\u2010/g, '-');
}

/** Long options a --help text lists (lines that start with one, maybe after a short form). */
const optionsIn = (help: string): string[] => [...new Set([...help.matchAll(/^\s+(?:-[a-z], )?(--[a-z][a-z-]+)/gm)].map((m) => m[1]))];

test('every page is valid roff and renders with man -l, without a warning', () => {
  for (const name of PAGES) {
    const g = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', page(name)], { encoding: 'utf8' });
    assert.equal(g.stderr, '', `${name}.1: ${g.stderr}`);
    // man's own pipeline (preconv, tbl, the terminal width) at a common width, warnings on.
    const m = spawnSync('man', ['--warnings', '-l', page(name)], { env: { ...process.env, MANWIDTH: '80' }, encoding: 'utf8' });
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stderr, '', `${name}.1 under man: ${m.stderr}`);
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

/** The subcommands `gitsign --help` lists. */
function subcommands(): string[] {
  const help = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' }).stdout;
  const names = [...help.matchAll(/^ {2}gitsign ([a-z-]+)/gm)].map((m) => m[1]);
  assert.ok(names.includes('verify') && names.includes('sandbox'), help);
  return names;
}

/** Each page's names, from its NAME line ("gitsign-verify, gitsign-verify-tag \- ..."). */
function pageOf(command: string): string {
  for (const name of PAGES) {
    const line = /^\.SH NAME\n(.*) \\- /m.exec(readFileSync(page(name), 'utf8'))?.[1] ?? '';
    if (line.split(', ').includes(`gitsign-${command}`)) return name;
  }
  return 'gitsign';
}

/**
 * Does the page name the option? gitsign-verify(1) lists the GitHub workflow options as one item,
 * `--certificate-github-workflow-trigger, -sha, -name, ...`: a suffix there counts.
 */
function documents(text: string, option: string): boolean {
  if (text.includes(option)) return true;
  const suffix = /^--certificate-github-workflow-([a-z]+)$/.exec(option)?.[1];
  return suffix !== undefined && new RegExp(`--certificate-github-workflow-trigger(, -[a-z]+)*, -${suffix}\\b`).test(text);
}

const helpOf = (command: string): string => {
  const r = spawnSync(process.execPath, [BIN, command, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};

test('every page in man/ is one install.sh installs, and the new command pages are there', () => {
  const script = readFileSync(join(ROOT, 'install', 'install.sh'), 'utf8');
  const listed = /^manpages="([^"]*)"$/m.exec(script)?.[1].split(' ') ?? [];
  // Section 5 (the policy file format) beside the command pages of section 1.
  assert.deepEqual(listed.filter((f) => f.endsWith('.5')), readdirSync(join(ROOT, 'man')).filter((f) => f.endsWith('.5')));
  const installed = listed.filter((f) => f.endsWith('.1')).map((f) => f.replace(/\.1$/, '')).sort();
  assert.deepEqual(installed, PAGES);
  for (const p of COMMAND_PAGES) assert.ok(PAGES.includes(p), `${p}.1 is missing`);
});

test('every subcommand has a page of its own or a section of gitsign(1), which documents every option its --help lists', () => {
  const overview = rendered('gitsign');
  for (const command of subcommands()) {
    const name = pageOf(command);
    const text = name === 'gitsign' ? overview : rendered(name);
    if (name === 'gitsign') assert.ok(overview.includes(`gitsign ${command}`), `gitsign.1 has no section for gitsign ${command}`);
    for (const o of optionsIn(helpOf(command))) {
      // --help is every command's: gitsign(1) says so once.
      const where = o === '--help' ? overview : text;
      assert.ok(documents(where, o), `${name}.1 does not document ${command} ${o}`);
    }
  }
});

test('the command pages show examples, and each gitsign sandbox action has its own examples and exit statuses', () => {
  for (const name of COMMAND_PAGES) {
    const text = rendered(name);
    const examples = /^EXAMPLES\n([\s\S]*?)^[A-Z]/m.exec(text)?.[1] ?? '';
    const command = name.replace(/^gitsign-/, 'gitsign ');
    assert.ok(examples.includes(command), `${name}.1: no example runs ${command}`);
  }
  const sandbox = rendered('gitsign-sandbox');
  const actions = /choices: ((?:"[a-z-]+"(?:, )?)+)/.exec(spawnSync(process.execPath, [BIN, 'sandbox', '--help'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' '));
  assert.ok(actions, 'sandbox --help lists its actions');
  const examples = /^EXAMPLES\n([\s\S]*?)^EXIT STATUS/m.exec(sandbox)?.[1] ?? '';
  const status = /^EXIT STATUS\n([\s\S]*?)^SEE ALSO/m.exec(sandbox)?.[1] ?? '';
  for (const action of [...actions[1].matchAll(/"([a-z-]+)"/g)].map((m) => m[1])) {
    assert.match(examples, new RegExp(`^ +${action}\n`, 'm'), `gitsign-sandbox.1 has no examples of ${action}`);
    assert.ok(examples.includes(`gitsign sandbox ${action}`), `no example runs gitsign sandbox ${action}`);
    assert.ok(status.includes(`${action}:`), `gitsign-sandbox.1 EXIT STATUS does not say when ${action} fails or succeeds`);
  }
});

const repos: TempRepo[] = [];
after(() => repos.forEach((r) => r.remove()));

/** A configuration gitsign cannot load (the Go gitsign exits 2 for it, before any command runs). */
const BAD_CONFIG = { GITSIGN_REKOR_VERSION: '7' };

test('the exit statuses the command pages give: 1 for a usage error, 2 only where the configuration is read', () => {
  const repo = new TempRepo();
  repos.push(repo);
  repo.git('commit', '-q', '--allow-empty', '-m', 'one');
  // An attestation (a damaged one is enough): verify-attestation reads the configuration once it found some.
  const head = repo.git('rev-parse', 'HEAD').trim();
  const blob = (text: string): string => repo.gitResult(['hash-object', '-w', '--stdin'], text).stdout.trim();
  const dir = repo.gitResult(['mktree'], `100644 blob ${blob('{}')}\tp.json\n100644 blob ${blob('not an envelope')}\tp.json.sig\n`).stdout.trim();
  const root = repo.gitResult(['mktree'], `040000 tree ${dir}\t${head}\n`).stdout.trim();
  repo.git('update-ref', 'refs/attestations/commits', repo.git('commit-tree', '-m', 'a', root).trim());
  /** Does the page's EXIT STATUS list this status (a `.TP` item: the number, then what it means)? */
  const says = (name: string, status: number): boolean => {
    const section = /^EXIT STATUS\n([\s\S]*?)^[A-Z]/m.exec(rendered(name))?.[1] ?? '';
    return new RegExp(`^ ?${status} [A-Za-z]`, 'm').test(section);
  };
  const cases: [string, string[]][] = [
    ['gitsign-attest', ['attest', '-f', 'p.json']],
    ['gitsign-verify-attestation', ['verify-attestation']],
    ['gitsign-show', ['show']],
    ['gitsign-verify-bundle', ['verify-bundle', '--bundle', 'none.json', 'sha256:' + '0'.repeat(64)]],
    ['gitsign-sandbox', ['sandbox', 'status', '--dir', join(repo.dir, 'no-sandbox')]],
  ];
  for (const [name, args] of cases) {
    assert.ok(says(name, 0) && says(name, 1), `${name}.1 gives statuses 0 and 1`);
    const usage = repo.gitsign([...args, '--no-such-option']);
    assert.equal(usage.status, 1, `${args[0]} with an unknown option: ${usage.stderr}`);
    const bad = repo.gitsign(args, undefined, BAD_CONFIG);
    const text = rendered(name);
    if (says(name, 2)) {
      assert.equal(bad.status, 2, `${name}.1 says 2 for an unloadable configuration: ${bad.stderr}`);
    } else {
      assert.notEqual(bad.status, 2, `${args[0]}: ${bad.stderr}`);
      assert.match(text, /never exits 2/, `${name}.1 says it never exits 2`);
    }
  }
});

test('every --help has an example: a comment saying what it does, then a command that pastes into sh as it is', () => {
  for (const command of subcommands()) {
    const help = helpOf(command);
    const examples = /(?:^|\n)Examples:\n([\s\S]*?)(?:\n\s*\n|\s*$)/.exec(help)?.[1];
    assert.ok(examples, `gitsign ${command} --help has no example`);
    const blocks = examples.split(/^ {2}(?=# )/m).filter((b) => b.trim() !== '');
    for (const block of blocks) {
      const lines = block.split('\n').map((l) => l.trim()).filter(Boolean);
      assert.match(lines[0], /^# [A-Z]/, block);
      const script = lines.slice(1).join('\n');
      assert.match(script, new RegExp(`(^|"\\$\\()gitsign ${command}\\b`), `an example of gitsign ${command}: ${block}`);
      const syntax = spawnSync('sh', ['-n', '-c', script], { encoding: 'utf8' });
      assert.equal(syntax.status, 0, `sh cannot parse ${script}: ${syntax.stderr}`);
      assert.ok(lines.slice(1, -1).every((l) => l.endsWith(' \\')), `a command spread over lines continues each with a backslash: ${block}`);
    }
  }
});
