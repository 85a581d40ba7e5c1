import { parseArgs } from 'node:util';
import { GitsignError, toGitsignError } from '../errors';
import { terminalLine, terminalLines } from '../text/terminal';
import { DEFAULT_CONNECTION_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, parseSeconds } from './connection';
import { loginOnMiss } from './loginOnMiss';
import { ownLogin } from './ownLogin';
import { startDaemon } from './server';
import { defaultSocketPath, defaultSocketPathForHelp, socketFromEnv } from './socketPath';
import { listenFds } from './systemd';

/**
 * gitsign-credential-cache: keeps signing credentials (key and Fulcio certificate) in memory so
 * gitsign logs in once per certificate lifetime, not once per commit. Runs in the foreground until
 * SIGINT or SIGTERM.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION = (require('../../package.json') as { version: string }).version;

const USAGE = `Usage: gitsign-credential-cache [--socket PATH | --systemd-socket-activation] [--no-login]
                                [--connection-timeout SECONDS] [--idle-timeout SECONDS]
       gitsign-credential-cache --version

Keeps gitsign's signing credentials in memory; gitsign (Go's or this one) uses it when
GITSIGN_CREDENTIAL_CACHE names the socket. It speaks Go gitsign's protocol (net/rpc, gob).
  --socket PATH                 listen on PATH (default $GITSIGN_CREDENTIAL_CACHE, else ${defaultSocketPathForHelp()})
  --systemd-socket-activation   serve the sockets systemd passes (LISTEN_FDS) instead
  --no-login                    on a miss, never log in for the client (by default it does, as Go's daemon,
                                with its own configuration, for a client of the same Fulcio and issuer)
  --connection-timeout SECONDS  close a connection whose request has not arrived whole within SECONDS (default ${DEFAULT_CONNECTION_TIMEOUT_MS / 1000})
  --idle-timeout SECONDS        close a connection idle between calls for SECONDS (default ${DEFAULT_IDLE_TIMEOUT_MS / 1000})
  -v, --version                 print the version
  -h, --help                    print this help
`;

async function run(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        version: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        socket: { type: 'string' },
        'systemd-socket-activation': { type: 'boolean' },
        'connection-timeout': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'no-login': { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new GitsignError('USAGE', (err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`gitsign-credential-cache version ${VERSION} (gitsign-ts)\n`);
    return 0;
  }
  const activated = Boolean(values['systemd-socket-activation']);
  if (activated && values.socket) throw new GitsignError('USAGE', '--socket and --systemd-socket-activation exclude each other');
  const socketPath = values.socket ?? socketFromEnv() ?? defaultSocketPath();
  const timeouts = {
    requestMs: parseSeconds('--connection-timeout', values['connection-timeout'], 0.1, 600) ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    idleMs: parseSeconds('--idle-timeout', values['idle-timeout'], 0.1, 3600) ?? DEFAULT_IDLE_TIMEOUT_MS,
  };
  const login = values['no-login'] ? undefined : loginOnMiss(() => ownLogin());
  const daemon = await startDaemon({ ...(activated ? { fds: listenFds() } : { socketPath }), timeouts, login });
  if (daemon.peerCheckUnavailable) {
    process.stderr.write(terminalLines([`gitsign-credential-cache: warning: connections are not checked by peer credentials (${daemon.peerCheckUnavailable}); only the socket directory's permissions keep other users out`]));
  }
  // The path on stdout, as gitsign's daemon prints it (scripts export it as GITSIGN_CREDENTIAL_CACHE).
  process.stdout.write(terminalLines([activated ? `listening on ${daemon.servers.length} socket(s) from systemd` : socketPath]));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await daemon.close();
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    const e = toGitsignError(err);
    // The message escaped whole; the usage (our own text) after it.
    process.stderr.write(`gitsign-credential-cache: ${terminalLine(e.message)}\n${e.code === 'USAGE' ? USAGE : ''}`);
    process.exitCode = e.code === 'USAGE' ? 2 : 1;
  },
);
