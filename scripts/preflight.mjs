// Checks that every program the build and the tests use is here (scripts/peers.json), before
// `npm test` builds anything, so the README's test command works as written on a fresh machine.
//   node scripts/preflight.mjs            check; exit 1 with the apt-get command when something is missing
//   node scripts/preflight.mjs --install  as root, install what is missing with apt-get (saying which
//                                         packages), then check again; not root: as without --install
// `npm test` and .ci/run use --install: on this project's machines the user is root and apt works; anyone
// else gets the one command to run, and nothing is changed behind their back.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const { peers } = JSON.parse(readFileSync(new URL('./peers.json', import.meta.url), 'utf8'));

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Where the peer is, or null: its variable or fixed path when it has one, else the first match on PATH. */
export function locate(peer, env = process.env) {
  if (peer.path) {
    const at = (peer.env && env[peer.env]) || peer.path;
    return executable(at) ? at : null;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, peer.name))) return join(dir, peer.name);
  }
  return null;
}

const root = typeof process.getuid === 'function' && process.getuid() === 0;
const installCommand = (packages) => `${root ? '' : 'sudo '}apt-get update && ${root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;
const missingPeers = () => peers.filter((p) => !locate(p));

let missing = missingPeers();
function install(packages) {
  process.stderr.write(`preflight: installing ${packages.join(' ')}\n`);
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', ...packages]]) {
    try {
      execFileSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    } catch (err) {
      process.stderr.write(`preflight: apt-get ${args.join(' ')} failed (${err.status === undefined ? err.code : `exit ${err.status}`})\n`);
      process.exit(1);
    }
  }
}

if (missing.length && process.argv.includes('--install')) {
  if (root) {
    install([...new Set(missing.map((p) => p.package))]);
    missing = missingPeers();
  } else {
    process.stderr.write('preflight: not root, so nothing is installed\n');
  }
}
if (missing.length) {
  const lines = missing.map((p) => `  ${p.path ? `${p.name} (${p.path}${p.env ? `, or set ${p.env}` : ''})` : p.name}: Debian package ${p.package}, for ${p.for}`);
  const packages = [...new Set(missing.map((p) => p.package))];
  process.stderr.write(
    [
      `preflight: ${missing.length === 1 ? 'a program the tests use is' : 'programs the tests use are'} missing:`,
      ...lines,
      'Install them with:',
      `  ${installCommand(packages)}`,
      '(or run .ci/run as root, which installs what is missing and runs the tests)',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
