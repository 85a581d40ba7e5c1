import { GitsignError } from '../errors';
import { terminalLines } from '../text/terminal';
import { parseFaults } from './faults/kinds';
import type { Claims } from './oidc/jwt';
import { mintIdToken } from './oidc/token';
import { prepareSandboxDir } from './state/dir';
import { readOwnFile } from './state/fsutil';
import { readMaterial, type Material } from './state/material';
import { defaultSandboxDir, sandboxPaths, type SandboxPaths } from './state/paths';
import type { RuntimeInfo } from './server';

/**
 * `gitsign sandbox up|token|rotate-tuf`. `up` runs in the foreground until SIGINT/SIGTERM (then exits 0)
 * after printing the client exports; `token` prints a fresh ID token from the sandbox's issuer key;
 * `rotate-tuf` gives the sandbox's TUF repository new keys and a new root version.
 */
export interface SandboxArgs {
  action: string;
  dir?: string;
  port?: number;
  subject?: string;
  'issuer-claims'?: string;
  /** Hostile mode: KIND[,KIND] or SERVICE:KIND, repeatable (`up` only). */
  fault?: string | string[];
}

function parseClaims(text: string | undefined): Claims | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new GitsignError('USAGE', '--issuer-claims must be a JSON object');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new GitsignError('USAGE', '--issuer-claims must be a JSON object');
  return v as Claims;
}

async function up(args: SandboxArgs): Promise<number> {
  const port = args.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GitsignError('USAGE', `invalid --port ${String(args.port)}`);
  const issuerClaims = parseClaims(args['issuer-claims']);
  const faults = parseFaults(args.fault);
  // Listen for the stop signals first: a signal during start-up, or right after "ready", still ends in a
  // clean shutdown and exit 0.
  let stop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const dir = args.dir ?? defaultSandboxDir();
  let sandbox: Awaited<ReturnType<typeof import('./server').startSandbox>>;
  try {
    const { startSandbox } = await import('./server');
    const start = (p: number) => startSandbox({ dir, port: p, subject: args.subject, issuerClaims, faults });
    // Without --port, come back on the previous run's port (the exported URLs and minted tokens stay
    // valid), else on any free port.
    const previous = args.port === undefined ? previousPort(dir) : undefined;
    sandbox = previous ? await start(previous).catch((err: unknown) => (isPortBusy(err) ? start(0) : Promise.reject(err))) : await start(port);
  } catch (err) {
    stop();
    throw err;
  }
  process.stdout.write(terminalLines(sandbox.env.replace(/\n$/, '').split('\n')));
  if (!faults.empty) process.stderr.write(terminalLines([`gitsign sandbox: HOSTILE MODE, wrong answers on purpose: ${faults.toString()}`]));
  const notes = [
    sandbox.createdKeys ? 'new keys' : 'existing keys',
    `TUF root version ${sandbox.tufRootVersion}`,
    `${sandbox.entries} log entries`,
    ...(sandbox.repairedBytes ? [`cut ${sandbox.repairedBytes} bytes of an unfinished last record`] : []),
  ];
  process.stderr.write(terminalLines([`gitsign sandbox: ready at ${sandbox.url} in ${Math.round(process.uptime() * 1000)} ms (${notes.join(', ')}); Ctrl-C stops it`]));
  await stopped;
  await sandbox.close();
  process.stderr.write('gitsign sandbox: stopped\n');
  return 0;
}

function readRuntime(dir: string): RuntimeInfo | undefined {
  try {
    const text = readOwnFile(sandboxPaths(dir).runtime);
    return text && (JSON.parse(text.toString('utf8')) as RuntimeInfo);
  } catch {
    return undefined;
  }
}

function previousPort(dir: string): number | undefined {
  const url = readRuntime(dir)?.url;
  const port = url ? Number(new URL(url).port) : NaN;
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

const isPortBusy = (err: unknown): boolean => err instanceof GitsignError && /EADDRINUSE|EACCES/.test(err.message);

/** The keys and last run of an existing sandbox, for the actions besides `up`. */
function existingSandbox(args: SandboxArgs): { paths: SandboxPaths; material: Material; runtime: RuntimeInfo } {
  if (args.fault !== undefined) throw new GitsignError('USAGE', '--fault is an option of `gitsign sandbox up`');
  const paths = sandboxPaths(prepareSandboxDir(args.dir ?? defaultSandboxDir(), false));
  const material = readMaterial(paths.keys);
  const runtime = readRuntime(paths.dir);
  if (!material || !runtime?.issuer || !runtime.url) {
    throw new GitsignError('CONFIG', `no sandbox in ${paths.dir}: run \`gitsign sandbox up --dir ${paths.dir}\` first`);
  }
  return { paths, material, runtime };
}

function token(args: SandboxArgs): number {
  const { material, runtime } = existingSandbox(args);
  const jwt = mintIdToken(
    { issuer: runtime.issuer, subject: args.subject ?? runtime.subject, extraClaims: parseClaims(args['issuer-claims']) },
    material.oidc.key,
    material.oidc.kid,
  );
  process.stdout.write(terminalLines([jwt]));
  return 0;
}

/**
 * A new key for every TUF role and the next root version signed by the old and new root keys; new
 * targets (the trusted root, which now announces one more CT log key), snapshot and timestamp. Works
 * whether `up` runs (it serves the new files at once) or not (the next `up` serves them).
 */
async function rotateTuf(args: SandboxArgs): Promise<number> {
  const { paths, material, runtime } = existingSandbox(args);
  const { sandboxTrustedRoot } = await import('./server');
  const { publishTufRepository } = await import('./tuf/publish');
  const published = publishTufRepository({ paths, baseTrustedRoot: sandboxTrustedRoot(material, runtime.url), rotate: true });
  process.stderr.write(
    terminalLines([
      `gitsign sandbox: TUF root version ${published.rootVersion} with new keys for root, targets, snapshot and timestamp; ${paths.trustedRoot} and its TUF target changed (one more CT log key); clients get both on their next refresh`,
    ]),
  );
  return 0;
}

export async function sandboxCommand(args: SandboxArgs): Promise<number> {
  if (args.action === 'up') return up(args);
  if (args.action === 'token') return token(args);
  if (args.action === 'rotate-tuf') return rotateTuf(args);
  throw new GitsignError('USAGE', `unknown sandbox action ${args.action} (expected up, token or rotate-tuf)`);
}
