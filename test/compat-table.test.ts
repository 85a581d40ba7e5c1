/**
 * gitsign(1)'s COMPATIBILITY table, walked against the program so it cannot drift. The table lists
 * exactly the Go gitsign's surface (test/fixtures/go-gitsign-surface.json, read from its source); each
 * command marked same exists here; each option marked same is accepted by its command, hidden ones too
 * (its parser runs on the option and an unknown probe after it, so the command itself never runs); each
 * git config key and environment variable marked same is read; and whatever gitsign-ts offers that the
 * Go gitsign has too is in the table. A failure names the row and its line in man/gitsign.1.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { GIT_KEYS, GITSIGN_ONLY_ENV, SHARED_ENV } from '../src/config/config';
import { BIN, ROOT } from './helpers/paths';

const MAN = join(ROOT, 'man', 'gitsign.1');
const CACHE_BIN = join(ROOT, 'bin', 'gitsign-credential-cache');
const CACHE = 'gitsign-credential-cache';

// ---- Go's surface, as read from its source ----

interface GoFlag {
  names: string[];
  type: 'bool' | 'string' | 'int';
  /** A value the option takes (default: x, or 1 for an int). */
  example?: string;
}
interface GoCommand {
  command: string;
  /** Arguments the command needs before any option is looked at. */
  positionals?: string[];
  flags: GoFlag[];
}
interface GoSurface {
  source: { gitsign: { commit: string } };
  commands: GoCommand[];
  configKeys: { key: string }[];
  environment: { name: string }[];
}

const GO = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'go-gitsign-surface.json'), 'utf8')) as GoSurface;
const goCommand = (name: string): GoCommand | undefined => GO.commands.find((c) => c.command === name);
const flagKey = (names: string[]): string => names.join(', ');

// ---- The table, read from the roff source (what man renders is checked at the end) ----

type Kind = 'command' | 'option' | 'config' | 'env';
/** The scope of the "Options of every command" table. */
const EVERY = '*';

interface Row {
  kind: Kind;
  /** For options: the commands (full paths) the row is about, or [EVERY]. */
  scope: string[];
  item: string;
  status: string;
  same: boolean;
  line: number;
}

const label = (r: Row): string => `row "${r.kind === 'option' ? `${r.scope.join(', ')}: ` : ''}${r.item}" (${r.status.split(/[:;(]/)[0].trim()}, man/gitsign.1:${r.line})`;

/** The text a roff cell shows: fonts dropped, escapes resolved, white space collapsed. */
function unescape(roff: string): string {
  return roff
    .replace(/\\f(\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\\(aq/g, "'")
    .replace(/\\&/g, '')
    .replace(/\\e/g, '\\')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What a subsection's title says its table is about. */
function sectionOf(title: string): { kind: Kind; scope: string[] } {
  if (title === 'Commands') return { kind: 'command', scope: [] };
  if (title === 'Git configuration') return { kind: 'config', scope: [] };
  if (title === 'Environment') return { kind: 'env', scope: [] };
  if (title === 'Options of every command') return { kind: 'option', scope: [EVERY] };
  const m = /^Options of (.+)$/.exec(title);
  if (!m) throw new Error(`COMPATIBILITY: unknown subsection "${title}"`);
  // "gitsign verify, verify-tag": a one-word entry is a sibling of the first entry's last word.
  const [first, ...rest] = m[1].split(', ');
  const parent = first.split(' ').slice(0, -1);
  return { kind: 'option', scope: [first, ...rest.map((w) => (w.includes(' ') ? w : [...parent, w].join(' ')))] };
}

function tableRows(): Row[] {
  const lines = readFileSync(MAN, 'utf8').split('\n');
  const start = lines.indexOf('.SH COMPATIBILITY');
  assert.notEqual(start, -1, 'man/gitsign.1 has no COMPATIBILITY section');
  const rows: Row[] = [];
  let section: { kind: Kind; scope: string[] } | undefined;
  for (let i = start + 1; i < lines.length && !lines[i].startsWith('.SH '); i++) {
    if (lines[i].startsWith('.SS ')) section = sectionOf(unescape(lines[i].slice(4).replace(/^"|"$/g, '')));
    if (lines[i] !== '.TS') continue;
    if (!section) throw new Error(`COMPATIBILITY: the table at line ${i + 1} has no subsection`);
    // The format lines end with a period; the first row after them is the header.
    while (!lines[i].trimEnd().endsWith('.')) i++;
    i += 2;
    for (; lines[i] !== '.TE'; i++) {
      if (i >= lines.length) throw new Error('COMPATIBILITY: a table without .TE');
      const line = i + 1;
      let cells = lines[i].split('\t');
      if (cells[cells.length - 1] === 'T{') {
        const block: string[] = [];
        for (i++; !lines[i].startsWith('T}'); i++) block.push(lines[i]);
        cells = [...cells.slice(0, -1), block.join(' ')];
      }
      if (cells.length !== 2) throw new Error(`COMPATIBILITY: man/gitsign.1:${line} is not a row of two cells`);
      const [item, status] = cells.map(unescape);
      rows.push({ ...section, item, status, same: /^same\b/.test(status), line });
    }
  }
  return rows;
}

const ROWS = tableRows();
const rowsOf = (kind: Kind): Row[] => ROWS.filter((r) => r.kind === kind);
/** The option row covering this command's option, if any. */
const optionRow = (command: string, names: string[]): Row | undefined =>
  rowsOf('option').find((r) => r.item === flagKey(names) && (r.scope.includes(command) || r.scope.includes(EVERY)));

/** Every problem at once, one per line, so a failure lists all the rows that drifted. */
function noProblems(problems: string[]): void {
  assert.deepEqual(problems, [], `\n${problems.join('\n')}`);
}

// ---- Running the programs: no user config, no network, outside any repository ----

const WORK = mkdtempSync(join(tmpdir(), 'gitsign-compat-'));
after(() => rmSync(WORK, { recursive: true, force: true }));
const ENV: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: WORK,
  XDG_CACHE_HOME: join(WORK, 'cache'),
  TUF_ROOT: join(WORK, 'tuf'),
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GITSIGN_NETWORK_TIMEOUT: '2',
  LANG: 'C',
};

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(program: string, args: string[]): Run {
  const r = spawnSync(process.execPath, [program, ...args], { cwd: WORK, env: ENV, encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { code: r.status, out: r.stdout ?? '', err: r.stderr ?? '' };
}

/** The program and its subcommand words for a command path of the table. */
function invocation(command: string): { program: string; words: string[] } {
  const [name, ...words] = command.split(' ');
  return { program: name === CACHE ? CACHE_BIN : BIN, words };
}

const show = (r: Run): string => `exit ${r.code}: ${(r.err || r.out).trim().split('\n').slice(0, 2).join(' | ').slice(0, 200)}`;

// ---- The table is Go's surface, exactly ----

test("the COMPATIBILITY table lists exactly the Go gitsign's commands, options, config keys and variables", () => {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const r of ROWS) {
    const key = `${r.kind} ${r.scope.join(',')} ${r.item}`;
    if (seen.has(key)) problems.push(`${label(r)} appears twice`);
    seen.add(key);
    if (!/^(same\b|different: \S)/.test(r.status)) problems.push(`${label(r)}: the status must be "same" or "different: why", not "${r.status}"`);
  }

  const commands = new Set(GO.commands.map((c) => c.command));
  for (const c of commands) if (!rowsOf('command').some((r) => r.item === c)) problems.push(`no row for Go's command "${c}"`);
  for (const r of rowsOf('command')) if (!commands.has(r.item)) problems.push(`${label(r)}: not a command of the Go gitsign`);

  for (const c of GO.commands) {
    for (const f of c.flags) if (!optionRow(c.command, f.names)) problems.push(`no row for Go's option "${flagKey(f.names)}" of "${c.command}"`);
  }
  for (const r of rowsOf('option')) {
    const has = (c: GoCommand): boolean => c.flags.some((f) => flagKey(f.names) === r.item);
    if (r.scope.includes(EVERY)) {
      if (!GO.commands.some(has)) problems.push(`${label(r)}: no Go command has this option`);
      continue;
    }
    for (const name of r.scope) {
      const c = goCommand(name);
      if (!c) problems.push(`${label(r)}: "${name}" is not a command of the Go gitsign`);
      else if (!has(c)) problems.push(`${label(r)}: "${name}" has no option "${r.item}" in the Go gitsign`);
    }
  }

  const compare = (kind: Kind, go: string[]): void => {
    const table = rowsOf(kind).map((r) => r.item);
    for (const k of go) if (!table.includes(k)) problems.push(`no ${kind} row for Go's "${k}"`);
    for (const r of rowsOf(kind)) if (!go.includes(r.item)) problems.push(`${label(r)}: the Go gitsign has no such ${kind === 'env' ? 'variable' : 'key'}`);
  };
  compare('config', GO.configKeys.map((k) => k.key));
  compare('env', GO.environment.map((e) => e.name));
  noProblems(problems);
  // The table names the commit of gitsign it was read from, as the fixture does.
  assert.ok(readFileSync(MAN, 'utf8').includes(GO.source.gitsign.commit.slice(0, 8)), 'COMPATIBILITY does not name the gitsign commit of test/fixtures/go-gitsign-surface.json');
});

// ---- Commands ----

/** Shell completion scripts, told apart by what each shell's script must call. */
const COMPLETION_MARK: Record<string, RegExp> = {
  bash: /\bcomplete\b.*\s-F\s/,
  zsh: /\bcompdef\b/,
  fish: /\bcomplete\b.*(-c|--command)\s+gitsign\b/,
  powershell: /Register-ArgumentCompleter/,
};

/** Why the command is not there, or null when it is: its own help (or its script) comes out. */
function commandMissing(command: string, overview: string): string | null {
  const { program, words } = invocation(command);
  const completion = /^gitsign completion (\S+)$/.exec(command);
  if (completion) {
    const r = run(program, words);
    const mark = COMPLETION_MARK[completion[1]];
    if (r.code !== 0 || !mark || !mark.test(r.out)) return `gitsign ${words.join(' ')} does not print a ${completion[1]} script (${show(r)})`;
    return null;
  }
  const r = run(program, [...words, '--help']);
  if (r.code !== 0 || r.out.trim() === '') return `${command} --help does not print help (${show(r)})`;
  if (words.length > 0 && (r.out === overview || !r.out.includes(command))) return `${command} --help prints the overview, not the command's own help`;
  return null;
}

test('every command the table marks same exists: its --help prints its own help (a completion script, for a shell)', () => {
  const overview = run(BIN, ['--help']).out;
  assert.ok(overview.length > 0, 'gitsign --help printed nothing');
  const problems: string[] = [];
  for (const r of rowsOf('command').filter((row) => row.same)) {
    const why = commandMissing(r.item, overview);
    if (why) problems.push(`${label(r)}: ${why}`);
  }
  noProblems(problems);
});

// ---- Options ----

const PROBE = '--compat-table-probe';

/** The words naming one option with a value of its type: --name=value, or -n value. */
function optionArgs(name: string, flag: GoFlag): string[] {
  if (flag.type === 'bool') return [name];
  const value = flag.example ?? (flag.type === 'int' ? '1' : 'x');
  return name.startsWith('--') ? [`${name}=${value}`] : [name, value];
}

/**
 * Whether a parser's complaint about unknown options names this option, with or without its dashes
 * (as yargs, node:util, pflag or our usage messages spell it). Only the lines saying "unknown" count:
 * a usage text printed after them lists every option.
 */
function names(stderr: string, option: string): boolean {
  const bare = option.replace(/^-+/, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const complaint = stderr.split('\n').filter((l) => /unknown/i.test(l)).join('\n');
  return new RegExp(`(?<![\\w-])-*${bare}(?![\\w-])`).test(complaint);
}

interface Option {
  row: Row;
  name: string;
  flag: GoFlag;
}

/**
 * How a command's options are checked. gitsign's git mode and gitsign-credential-cache answer --version
 * after any options they accept, as Go's do. A subcommand's parser is given the options then an unknown
 * probe: it refuses the line before the command runs, naming only the probe when it knows the options.
 * All of a command's options go in one line; when that fails, each is tried alone to name the culprits.
 */
function optionProblems(command: string, go: GoCommand, accepted: Option[], refused: Option[]): string[] {
  const { program, words } = invocation(command);
  const before = [...words, ...(go.positionals ?? [])];
  const args = (options: Option[]): string[] => options.flatMap((o) => optionArgs(o.name, o.flag));
  let takes: (options: Option[]) => Run | null;
  let deaf: string | null;
  if (words.length === 0) {
    const versionLine = new RegExp(`^${command} version `, 'm');
    takes = (options) => {
      const r = run(program, [...args(options), '--version']);
      return r.code === 0 && versionLine.test(r.out) ? null : r;
    };
    const r = run(program, [PROBE, '--version']);
    deaf = r.code === 0 && versionLine.test(r.out) ? `${command} accepts an unknown option, so no option of it can be checked` : null;
  } else {
    takes = (options) => {
      const r = run(program, [...before, ...args(options), PROBE]);
      return r.code !== 0 && names(r.err, PROBE) && !options.some((o) => names(r.err, o.name)) ? null : r;
    };
    const r = run(program, [...before, PROBE]);
    deaf = r.code !== 0 && names(r.err, PROBE) ? null : `${command} does not report an unknown option, so no option of it can be checked (${show(r)})`;
  }
  const problems: string[] = [];
  const first = accepted[0]?.row ?? refused[0]?.row;
  if (deaf) return first ? [`${label(first)}: ${deaf}`] : [];
  if (accepted.length > 0 && takes(accepted) !== null) {
    for (const o of accepted) {
      const r = takes([o]);
      if (r) problems.push(`${label(o.row)}: ${command} does not accept ${o.name} (${show(r)})`);
    }
  }
  for (const o of refused) {
    const r = run(program, [...before, ...optionArgs(o.name, o.flag)]);
    if (!(r.code !== 0 && names(r.err, o.name))) problems.push(`${label(o.row)}: ${command} does not refuse ${o.name} as unknown (${show(r)})`);
  }
  return problems;
}

test('every option the table marks same is accepted by its command, hidden ones too; those gitsign refuses are refused', () => {
  const byCommand = new Map<string, { accepted: Option[]; refused: Option[] }>();
  for (const row of rowsOf('option').filter((r) => r.same)) {
    const commands = row.scope.includes(EVERY) ? rowsOf('command').filter((c) => c.same).map((c) => c.item) : row.scope;
    for (const command of commands) {
      const flag = goCommand(command)?.flags.find((f) => flagKey(f.names) === row.item);
      if (!flag) continue; // reported by the test of the table against Go's surface
      const entry = byCommand.get(command) ?? { accepted: [], refused: [] };
      byCommand.set(command, entry);
      for (const name of flag.names) (/refused as an unknown option/.test(row.status) ? entry.refused : entry.accepted).push({ row, name, flag });
    }
  }
  noProblems([...byCommand].flatMap(([command, { accepted, refused }]) => optionProblems(command, goCommand(command) as GoCommand, accepted, refused)));
});

// ---- Configuration and environment ----

/** The variables src/config/config.ts reads: both prefixes of the shared ones, and gitsign's own. */
const CONFIG_ENV = new Set([...SHARED_ENV.flatMap(([suffix]) => [`SIGSTORE_${suffix}`, `GITSIGN_${suffix}`]), ...GITSIGN_ONLY_ENV.map(([name]) => name)]);

/** The product's source (the sandbox is a test tool, not gitsign's behaviour). */
const PRODUCT_SOURCE = (readdirSync(join(ROOT, 'src'), { recursive: true }) as string[])
  .filter((f) => f.endsWith('.ts') && !f.startsWith('sandbox'))
  .map((f) => readFileSync(join(ROOT, 'src', f), 'utf8'))
  .join('\n');

const quoted = (s: string): RegExp => new RegExp(`['"\`]${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}['"\`]`);

/** Read by the configuration, or by name anywhere in the product: env.NAME, env['NAME'], 'NAME'. */
function readsVariable(name: string): boolean {
  return CONFIG_ENV.has(name) || new RegExp(`\\benv\\.${name}\\b`).test(PRODUCT_SOURCE) || quoted(name).test(PRODUCT_SOURCE);
}

test('every git config key the table marks same is read by src/config/config.ts', () => {
  const problems = rowsOf('config')
    .filter((r) => r.same && !(r.item.toLowerCase() in GIT_KEYS))
    .map((r) => `${label(r)}: src/config/config.ts does not read ${r.item}`);
  noProblems(problems);
});

test('every environment variable the table marks same is read by gitsign-ts, or by the program it runs for it', () => {
  const problems: string[] = [];
  for (const r of rowsOf('env').filter((row) => row.same)) {
    // "read by PROGRAM, which gitsign-ts runs": the variable reaches PROGRAM through the environment.
    const via = /read by ([\w-]+), which gitsign-ts runs/.exec(r.status);
    if (via) {
      if (!quoted(via[1]).test(PRODUCT_SOURCE)) problems.push(`${label(r)}: gitsign-ts never runs ${via[1]}`);
    } else if (!readsVariable(r.item)) {
      problems.push(`${label(r)}: gitsign-ts does not read ${r.item}`);
    }
  }
  noProblems(problems);
});

// ---- The other way round: what we offer that Go has too is in the table ----

/** The long options a --help text lists. */
const helpOptions = (help: string): string[] => [...new Set([...help.matchAll(/^\s+(?:-[a-zA-Z], )?(--[a-z][a-z-]+)/gm)].map((m) => m[1]))];

test('everything gitsign-ts offers that the Go gitsign has too (commands, options, keys, variables) is in the table', () => {
  const problems: string[] = [];
  const goKeys = new Map(GO.configKeys.map((k) => [k.key.toLowerCase(), k.key]));
  for (const key of Object.keys(GIT_KEYS)) {
    const go = goKeys.get(key);
    if (go && !rowsOf('config').some((r) => r.item === go)) problems.push(`config key ${go}: read by gitsign-ts and by Go, but not in the table`);
  }
  for (const { name } of GO.environment) {
    if (readsVariable(name) && !rowsOf('env').some((r) => r.item === name)) problems.push(`variable ${name}: read by gitsign-ts and by Go, but not in the table`);
  }
  const ours = [...run(BIN, ['--help']).out.matchAll(/^\s+gitsign ([a-z][\w-]*)/gm)].map((m) => `gitsign ${m[1]}`);
  assert.ok(ours.includes('gitsign verify'), 'gitsign --help lists no commands');
  for (const command of ['gitsign', ...ours, CACHE]) {
    const go = goCommand(command);
    if (!go) continue;
    if (!rowsOf('command').some((r) => r.item === command)) problems.push(`command ${command}: in gitsign-ts and in Go, but not in the table`);
    const { program, words } = invocation(command);
    for (const option of helpOptions(run(program, [...words, '--help']).out)) {
      const flag = go.flags.find((f) => f.names.includes(option));
      if (flag && !optionRow(command, flag.names)) problems.push(`option ${option} of ${command}: in gitsign-ts and in Go, but not in the table`);
    }
  }
  noProblems(problems);
});

test('the COMPATIBILITY table renders with man: every row is shown', () => {
  const r = spawnSync('man', ['-l', MAN], { env: { ...process.env, MANWIDTH: '2000', MAN_KEEP_FORMATTING: '' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout.replace(/[\u2010\u2011]/g, '-');
  const section = text.slice(text.indexOf('\nCOMPATIBILITY\n'), text.indexOf('\nEXIT STATUS\n'));
  assert.ok(section.length > 1000, 'man shows no COMPATIBILITY section');
  const missing = ROWS.filter((row) => !section.includes(`${row.item} `)).map(label);
  noProblems(missing);
});
