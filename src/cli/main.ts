import { parseArgs } from 'node:util';
import { GitsignError, toGitsignError, userMessage } from '../errors';
import { StatusWriter } from '../git/status';
import { BACKGROUND_REFRESH_ARG } from '../trust/tufMirror';
import { EXIT_FAILURE, exitStatusOf } from './exitStatus';
import { errorLine, printErr } from './io';
import { editDistance, nearestNames } from './usage';

/**
 * Entry point. git's calls (`--status-fd=N -bsau KEY`, `--status-fd=1 --verify FILE -`) are parsed
 * with node:util so they never load yargs; human subcommands load their code lazily.
 */
const SUBCOMMANDS = new Set(['verify', 'verify-tag', 'verify-bundle', 'attest', 'verify-attestation', 'show', 'version', 'help', 'completion', 'sandbox', 'doctor', 'initialize', 'debug', 'policy', 'audit', 'hook']);
/** Not offered as "Did you mean" (cobra hides its help command and hidden commands there). */
const UNSUGGESTED = new Set(['help', 'debug', 'hook']);

/**
 * The human subcommands, a separate bundle file run through its own V8 code cache (scripts/build.mjs).
 * require(), not import(): Node 20 cannot resolve import() in scripts run from a code cache.
 */
function commands(): typeof import('./commands') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./commands') as typeof import('./commands');
}

/**
 * An unknown command, in cobra's words (with its "Did you mean this?" for a name at most two edits
 * away or that the word begins): exit 1, so a script that misspells a command does not carry on.
 */
function unknownCommand(word: string): number {
  const near = [...SUBCOMMANDS].filter((c) => !UNSUGGESTED.has(c) && (editDistance(word, c) <= 2 || c.startsWith(word.toLowerCase()))).sort();
  const suggestion = near.length ? ['', 'Did you mean this?', ...near.map((c) => `\t${c}`), ''] : [];
  printErr(errorLine('gitsign: ', `unknown command ${JSON.stringify(word)} for "gitsign"`), ...suggestion, "Run 'gitsign --help' for usage.");
  return EXIT_FAILURE;
}

/**
 * `gitsign audit`: its longest git read starts before the subcommands load (src/audit/prefetch.ts,
 * a bundle file of its own). A failure here only means the audit reads for itself.
 */
function prefetchAudit(args: string[]): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require('../audit/prefetch') as typeof import('../audit/prefetch')).prefetchAudit(args);
  } catch {
    // the audit reads for itself
  }
}

/** `gitsign help [COMMAND]`: the help of the command (the commands' list without one), as cobra's help command. */
function help(topic: string[]): Promise<number> | number {
  if (topic.length === 0 || topic[0] === 'help' || topic[0] === '--help' || topic[0] === '-h') return commands().runCommands(['--help']);
  if (!SUBCOMMANDS.has(topic[0])) return unknownCommand(topic[0]);
  return commands().runCommands([topic[0], '--help']);
}

const GIT_OPTIONS = {
  'status-fd': { type: 'string' },
  verify: { type: 'boolean', short: 'v' },
  sign: { type: 'boolean', short: 's' },
  'detach-sign': { type: 'boolean', short: 'b' },
  'detached-sign': { type: 'boolean' },
  armor: { type: 'boolean', short: 'a' },
  'local-user': { type: 'string', short: 'u' },
  'include-certs': { type: 'string' },
  version: { type: 'boolean' },
} as const;

function parseGitOptions(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: GIT_OPTIONS });
}

const GIT_CALLS = 'git calls gitsign with --status-fd=N and -bsau KEY or --verify FILE -; to verify commits yourself: gitsign verify; gitsign --help lists the commands';

/** Why node:util refused git's options, in our words: the unknown option with the near names, else the call. */
function gitOptionsError(argv: string[]): GitsignError {
  const { tokens } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: GIT_OPTIONS, tokens: true });
  const unknown = tokens.find((t) => t.kind === 'option' && !(t.name in GIT_OPTIONS));
  if (unknown?.kind === 'option') {
    const near = unknown.rawName.startsWith('--') ? nearestNames(unknown.name, [...Object.keys(GIT_OPTIONS), 'help']).map((n) => `--${n}`) : [];
    return new GitsignError('USAGE', `unknown option ${JSON.stringify(unknown.rawName)}${near.length ? `: did you mean ${near.join(' or ')}?` : ''} (${GIT_CALLS})`);
  }
  return new GitsignError('USAGE', `unknown or misused option in ${JSON.stringify(argv.join(' '))} (${GIT_CALLS})`);
}

async function gitProtocol(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseGitOptions(argv);
  } catch {
    // node:util's own words for an unknown option are not ours: a usage error says what was wrong.
    if (!argv[0].startsWith('-')) return unknownCommand(argv[0]);
    throw gitOptionsError(argv);
  }
  const { values, positionals } = parsed;
  // `gitsign --version` is `gitsign version`, as in gitsign (its root command's own flag, not cobra's).
  if (values.version) return (await import('./version')).printVersion();
  const fd = values['status-fd'] === undefined ? -1 : Number.parseInt(values['status-fd'], 10);
  const statusFd = Number.isFinite(fd) ? fd : -1;
  const status = new StatusWriter(statusFd);
  const signing = values.sign || values['detach-sign'] || values['detached-sign'];
  if (signing) {
    if (values.verify) throw new GitsignError('USAGE', '--verify cannot be combined with signing flags');
    const detached = Boolean(values['detach-sign'] || values['detached-sign']);
    return (await import('./gitSign')).gitSign(status, { detached, armor: Boolean(values.armor), statusFd }, positionals);
  }
  if (values.verify) {
    if (values.armor) throw new GitsignError('USAGE', '--armor cannot be combined with --verify');
    return (await import('./gitVerify')).gitVerify(status, positionals);
  }
  // A word that is not a command, with no mode flag to give it a meaning (gitsign prints the help here).
  if (positionals.length > 0) return unknownCommand(positionals[0]);
  return commands().runCommands(['--help']);
}

export async function main(argv: string[]): Promise<number> {
  // Every git we run reads the objects the IDs name: `git replace` would otherwise hand us another
  // object's bytes (a signed commit's for an unsigned one) under the ID we verify or audit.
  process.env.GIT_NO_REPLACE_OBJECTS = '1';
  try {
    // The detached child a verification starts when the trusted root is due for a refresh.
    if (argv.length === 1 && argv[0] === BACKGROUND_REFRESH_ARG) return await (await import('../trust/publicGood')).backgroundRefresh();
    if (argv.length === 0) return await commands().runCommands(['--help']);
    if (argv[0] === 'help') return await help(argv.slice(1));
    if (argv[0] === 'audit') prefetchAudit(argv.slice(1));
    if (SUBCOMMANDS.has(argv[0])) return await commands().runCommands(argv);
    // --get-yargs-completions: what the shell completion scripts call on every <Tab>.
    if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === '--get-yargs-completions') return await commands().runCommands(argv);
    return await gitProtocol(argv);
  } catch (err) {
    const e = toGitsignError(err);
    printErr(errorLine('gitsign: ', userMessage(e)));
    return exitStatusOf(e, argv[0]);
  }
}

/**
 * Commands that settle with all their work done: once every byte is written (our own writes are
 * synchronous; what went through process.stdout or process.stderr, asynchronous into a pipe on POSIX,
 * must have left), the process ends there, without tearing down its heap and threads first or waiting
 * for a git started ahead whose output was not needed. Measured after `verify --stdin` over the
 * corpus: 25-30 ms.
 */
const END_WHEN_SETTLED = new Set(['verify', 'verify-tag', 'audit']);

function everythingWritten(): boolean {
  return process.stdout.writableLength === 0 && process.stderr.writableLength === 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    if (END_WHEN_SETTLED.has(process.argv[2] ?? '') && everythingWritten()) process.exit(code);
  },
  () => {
    process.exitCode = 1;
  },
);
