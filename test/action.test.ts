/**
 * The GitHub Action (action.yml at the repository root). GitHub itself cannot run here, so: its
 * structure is checked (a composite action on Node 20, the inputs it documents, each input reaching a
 * script only through the environment, never spliced into a script's text), and its audit step's
 * script is run as the runner would run it (bash, the step's env with the inputs filled in, a fake
 * GITHUB_* environment: event JSON, step summary, outputs) against a real repository whose pull
 * request the sandbox signs: a clean pull request passes with a summary table; one with a commit by
 * an unknown signer fails, the table leads with it, the JSON artifact holds every object; hostile
 * text (a tag name made of markdown and HTML) is escaped in the summary and cannot command the runner.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { person, SignedHistory } from './helpers/auditHistory';
import { BIN, ROOT } from './helpers/paths';
import { removeDir, sandboxPerFile, tempDir } from './helpers/signingSandbox';

const sb = sandboxPerFile();

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  with?: Record<string, string>;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
}
interface Action {
  name: string;
  description: string;
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

const action = (): Action => parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Action;

test('action.yml: a composite action on Node 20 with documented inputs, which reach its scripts only as environment variables', () => {
  const a = action();
  assert.ok(a.name && a.description);
  assert.equal(a.runs.using, 'composite');
  assert.deepEqual(Object.keys(a.inputs).sort(), ['json-path', 'offline', 'range', 'trust-root']);
  for (const [name, input] of Object.entries(a.inputs)) {
    assert.ok(input.description, `${name} is described`);
    assert.equal(typeof input.default, 'string', `${name} has a default`);
  }
  const node = a.runs.steps.find((s) => s.uses?.startsWith('actions/setup-node@'));
  assert.equal(node?.with?.['node-version'], '20');
  const referenced = new Set<string>();
  for (const s of a.runs.steps) {
    if (s.run === undefined) continue;
    assert.equal(s.shell, 'bash', `${s.name}: composite run steps name their shell`);
    assert.doesNotMatch(s.run, /\$\{\{/, `${s.name}: no expression is spliced into the script`);
    for (const v of Object.values(s.env ?? {})) for (const m of v.matchAll(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g)) referenced.add(m[1]);
    for (const m of s.run.matchAll(/\$GITHUB_ACTION_PATH\/([\w./-]+)/g)) assert.ok(existsSync(join(ROOT, m[1])), `${m[1]} exists`);
  }
  assert.deepEqual([...referenced].sort(), Object.keys(a.inputs).sort(), 'every input is used, none undeclared');
  assert.match(a.outputs.clean.value, /steps\.audit\.outputs\.clean/);
});

describe("the action's audit step on a pull request", () => {
  let h: SignedHistory;
  let work: string;
  let base = '';
  const ALICE = 'alice@example.com';
  const MALLORY = 'mallory@example.com';

  /** Runs the step with id `audit` as the runner does; gitsign comes from PATH, as after the install step. */
  const runAuditStep = (event: object, inputs: Record<string, string> = {}) => {
    const a = action();
    const step = a.runs.steps.find((s) => s.id === 'audit') as Step;
    const dir = tempDir();
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    symlinkSync(BIN, join(bin, 'gitsign'));
    const files = { event: join(dir, 'event.json'), summary: join(dir, 'summary.md'), output: join(dir, 'output') };
    writeFileSync(files.event, JSON.stringify(event));
    writeFileSync(files.summary, '');
    writeFileSync(files.output, '');
    const stepEnv = Object.fromEntries(
      Object.entries(step.env ?? {}).map(([k, v]) => [k, v.replace(/\$\{\{\s*inputs\.([\w-]+)\s*\}\}/g, (_, name: string) => inputs[name] ?? a.inputs[name].default ?? '')]),
    );
    const env = {
      ...h.repo.env,
      ...stepEnv,
      PATH: `${bin}:${process.env.PATH}`,
      GITHUB_ACTION_PATH: ROOT,
      GITHUB_EVENT_PATH: files.event,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_OUTPUT: files.output,
      GITHUB_WORKSPACE: h.repo.dir,
      RUNNER_TEMP: dir,
    };
    const r = spawnSync('bash', ['-e', '-c', step.run as string], { cwd: h.repo.dir, env, encoding: 'utf8', timeout: 120_000 });
    const out = { status: r.status, stdout: r.stdout, stderr: r.stderr, summary: readFileSync(files.summary, 'utf8'), output: readFileSync(files.output, 'utf8'), dir };
    return out;
  };

  before(() => {
    work = tempDir();
    h = new SignedHistory(sb);
    const policy = ['version: 1', 'serial: 1', 'principals:', `  alice: ${person(h.issuer, ALICE)}`, 'rules:', '  - paths: ["**"]', '    signers: [alice]', 'policy:', '  signers: [alice]'].join('\n');
    base = h.commit(ALICE, 'policy', { '.gitsign/policy.yaml': policy });
    h.checkout(['-b', 'pr']);
  });
  after(() => {
    h?.remove();
    if (work) removeDir(work);
  });

  const prEvent = (head: string) => ({ pull_request: { base: { sha: base }, head: { sha: head } } });

  test('a clean pull request passes: the summary says so, with its table; clean=true', () => {
    const head = h.commit(ALICE, 'alice works', { 'a.txt': '1' });
    const r = runAuditStep(prEvent(head));
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.summary, /^## gitsign-ts audit: ✅ 1 commit and 0 tags of [^\n]+, all authorized$/m);
    assert.match(r.summary, new RegExp(`^\\| ✅ ok \\| ${head.slice(0, 12)} \\| alice&#64;example.com \\| AUTHORIZED \\|`, 'm'));
    assert.match(r.output, /^clean=true$/m);
    removeDir(r.dir);
  });

  test('a commit by an unknown signer fails the step: first in the table, in the log and the JSON artifact; clean=false', () => {
    const bad = h.commit(MALLORY, 'mallory', { 'b.txt': '1' });
    const json = join(work, 'audit.jsonl');
    const r = runAuditStep(prEvent(bad), { 'json-path': json, offline: 'true' });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.summary, /^## gitsign-ts audit: ❌ 1 of 2 commits and 0 tags of [^\n]+ break the signing policy$/m);
    const rows = r.summary.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Status'));
    assert.match(rows[0], new RegExp(`^\\| ❌ violation \\| ${bad.slice(0, 12)} \\| mallory&#64;example.com \\| UNKNOWN&#95;SIGNER \\|`));
    assert.match(r.output, /^clean=false$/m);
    assert.match(r.stdout, new RegExp(`violation ${bad} UNKNOWN_SIGNER`));
    assert.match(r.stdout, /^::error title=gitsign-ts audit::1 commit or tag breaks the signing policy/m);
    const objects = readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    assert.deepEqual(objects.map((o) => o.type), ['commit', 'commit', 'summary']);
  });

  test('the range and trust-root inputs override the event', () => {
    const head = h.rev('HEAD');
    const r = runAuditStep({}, { range: `${base}..${h.rev('HEAD~1')}`, 'trust-root': base });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.summary, /✅ 1 commit and/);
    const none = runAuditStep({});
    assert.equal(none.status, 2);
    assert.match(none.stdout, /::error title=gitsign-ts audit::the event is neither a pull request nor a push/);
    assert.ok(head);
  });

  test('hostile text is escaped in the summary and cannot start a workflow command in the log', () => {
    // A tag name no tag rule covers (a violation that names it), made of table, markdown and HTML syntax.
    const name = 'x|y<script>alert(1)</script>__b__';
    h.tag(ALICE, name, 'HEAD');
    const r = runAuditStep(prEvent(h.rev('HEAD')));
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const row = r.summary.split('\n').find((l) => l.includes('TAG&#95;UNCOVERED'));
    assert.ok(row, r.summary);
    assert.equal(row.split('|').length, 8, 'the name did not add a table cell');
    assert.doesNotMatch(r.summary, /<script>|__b__/);
    assert.match(row, /x&#124;y&#60;script&#62;/);
    const lines = r.stdout.split('\n');
    const stop = lines.findIndex((l) => l.startsWith('::stop-commands::'));
    const token = lines[stop].slice('::stop-commands::'.length);
    const resume = lines.indexOf(`::${token}::`);
    assert.ok(stop === 0 && resume > stop && token.length >= 32, r.stdout);
    assert.ok(lines.slice(stop + 1, resume).some((l) => l.includes(name)), 'the log shows the name, inside the stopped region');
    h.repo.git('tag', '-d', name);
  });
});
