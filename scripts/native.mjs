// Builds the native addon (native/: peercred.c, the peer-credential check of gitsign-credential-cache;
// spawn.c, the detached start of the background trust root refresh; run.c, git started by posix_spawn
// instead of child_process's fork: runCaptured for short runs, spawnPiped for streamed ones) with node-gyp
// against the local Node headers, and copies it to dist/peercred.node. Skipped when up to date.
// A machine without a C compiler still gets a working build: the daemon then says at start that
// it relies on the socket directory's permissions alone.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const SRC = ['native/peercred.c', 'native/spawn.c', 'native/spawn.h', 'native/run.c', 'native/run.h', 'native/throw.c', 'native/throw.h', 'native/binding.gyp'];
const BUILT = 'native/build/Release/peercred.node';
const OUT = 'dist/peercred.node';

const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  // npm's own copy, next to the node binary in every standard install.
  const bundled = resolve(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return existsSync(bundled) ? bundled : null;
}

/** Node's headers on this machine: npm's nodedir setting, else next to the node binary; never a download. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : null;
}

export function buildPeercred() {
  const fresh = mtime(BUILT) > Math.max(...SRC.map(mtime));
  if (!fresh) {
    const gyp = nodeGyp();
    const dir = nodeDir();
    if (!gyp || !dir) {
      process.stderr.write(`build: peercred addon not built (${gyp ? 'no local Node headers' : 'node-gyp not found'})\n`);
      return;
    }
    try {
      execFileSync(process.execPath, [gyp, 'rebuild', `--nodedir=${dir}`, '--loglevel=error'], { cwd: 'native', stdio: ['ignore', 'ignore', 'inherit'] });
    } catch {
      process.stderr.write('build: peercred addon not built (node-gyp failed; see above)\n');
      return;
    }
  }
  mkdirSync('dist', { recursive: true });
  if (mtime(OUT) < mtime(BUILT)) copyFileSync(BUILT, OUT);
}
