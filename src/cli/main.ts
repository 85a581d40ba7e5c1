import { parseArgs } from 'node:util';
import { GitsignError, toGitsignError } from '../errors';
import { StatusWriter } from '../git/status';
import { BACKGROUND_REFRESH_ARG } from '../trust/tufMirror';
import { errorLine, printErr } from './io';

/**
 * Entry point. git's calls (`--status-fd=N -bsau KEY`, `--status-fd=1 --verify FILE -`) are parsed
 * with node:util so they never load yargs; human subcommands load their code lazily.
 */
const SUBCOMMANDS = new Set(['verify', 'verify-tag', 'verify-bundle', 'attest', 'verify-attestation', 'show', 'version', 'help', 'completion', 'sandbox', 'doctor', 'initialize', 'debug']);

/**
 * The human subcommands, a separate bundle file. require(), not import(): bin/gitsign runs the bundle
 * from a V8 code cache, and Node 20 cannot resolve import() in cached scripts.
 */
function commands(): typeof import('./commands') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('./commands') as typeof import('./commands');
}

/** node:util's own words for an unknown option are not ours: a usage error says what was wrong. */
function parseGitArgs(argv: string[]) {
  try {
    return parseGitOptions(argv);
  } catch {
    if (!argv[0].startsWith('-')) throw new GitsignError('USAGE', `unknown command ${JSON.stringify(argv[0])} (gitsign --help lists the commands)`);
    throw new GitsignError('USAGE', `unknown or misused option in ${JSON.stringify(argv.join(' '))} (git calls gitsign with --status-fd=N and -bsau KEY or --verify FILE -; gitsign --help lists the commands)`);
  }
}

function parseGitOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      'status-fd': { type: 'string' },
      verify: { type: 'boolean', short: 'v' },
      sign: { type: 'boolean', short: 's' },
      'detach-sign': { type: 'boolean', short: 'b' },
      'detached-sign': { type: 'boolean' },
      armor: { type: 'boolean', short: 'a' },
      'local-user': { type: 'string', short: 'u' },
      'include-certs': { type: 'string' },
      version: { type: 'boolean' },
    },
  });
}

async function gitProtocol(argv: string[]): Promise<number> {
  const { values, positionals } = parseGitArgs(argv);
  if (values.version) return (await import('./version')).printVersion();
  const fd = values['status-fd'] === undefined ? -1 : Number.parseInt(values['status-fd'], 10);
  const status = new StatusWriter(Number.isFinite(fd) ? fd : -1);
  const signing = values.sign || values['detach-sign'] || values['detached-sign'];
  if (signing) {
    if (values.verify) throw new GitsignError('USAGE', '--verify cannot be combined with signing flags');
    const detached = Boolean(values['detach-sign'] || values['detached-sign']);
    return (await import('./gitSign')).gitSign(status, { detached, armor: Boolean(values.armor) }, positionals);
  }
  if (values.verify) {
    if (values.armor) throw new GitsignError('USAGE', '--armor cannot be combined with --verify');
    return (await import('./gitVerify')).gitVerify(status, positionals);
  }
  return commands().runCommands(['--help']);
}

export async function main(argv: string[]): Promise<number> {
  try {
    // The detached child a verification starts when the trusted root is due for a refresh.
    if (argv.length === 1 && argv[0] === BACKGROUND_REFRESH_ARG) return await (await import('../trust/publicGood')).backgroundRefresh();
    if (argv.length > 0 && SUBCOMMANDS.has(argv[0])) return await commands().runCommands(argv);
    // --get-yargs-completions: what the shell completion scripts call on every <Tab>.
    if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === '--get-yargs-completions') return await commands().runCommands(argv);
    return await gitProtocol(argv);
  } catch (err) {
    const e = toGitsignError(err);
    printErr(errorLine(`gitsign: ${e.code === 'INTERNAL' ? 'internal error: ' : ''}`, e.message));
    return e.code === 'USAGE' || e.code === 'CONFIG' ? 2 : 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
