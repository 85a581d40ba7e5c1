import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Where a sandbox keeps its keys, log and generated files. */
export function defaultSandboxDir(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && env.XDG_STATE_HOME.startsWith('/') ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(state, 'gitsign-ts', 'sandbox');
}

/**
 * The directory a sandbox command works on: --dir, else $GITSIGN_SANDBOX_DIR (DIR/env exports it, so
 * after `. DIR/env` every command finds that sandbox), else the default. An empty variable counts as
 * unset: it would otherwise mean the current directory.
 */
export function chosenSandboxDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? (env.GITSIGN_SANDBOX_DIR || defaultSandboxDir(env));
}

export function sandboxPaths(dir: string) {
  const d = resolve(dir);
  return {
    dir: d,
    keys: join(d, 'keys.json'),
    lock: join(d, 'sandbox.lock'),
    runtime: join(d, 'sandbox.json'),
    log: join(d, 'rekor-entries.log'),
    logV2: join(d, 'rekor-v2-entries.log'),
    trustedRoot: join(d, 'trusted_root.json'),
    env: join(d, 'env'),
    fulcioChain: join(d, 'fulcio_chain.pem'),
    tsaChain: join(d, 'tsa_chain.pem'),
    rekorPub: join(d, 'rekor.pub'),
    ctfePub: join(d, 'ctfe.pub'),
    /** The TUF repository's private keys, root history and versions (mode 0600, like keys.json). */
    tufState: join(d, 'tuf-keys.json'),
    tufLock: join(d, 'tuf.lock'),
    /** The TUF repository as served under $URL/tuf/ (metadata and targets/). */
    tufRepo: join(d, 'tuf'),
    /** The newest TUF root, for `gitsign initialize --root`. */
    tufRoot: join(d, 'root.json'),
  };
}

export type SandboxPaths = ReturnType<typeof sandboxPaths>;
