import { GitsignError, toGitsignError } from '../errors';
import { terminalLines } from '../text/terminal';
import type { ChildReport } from './detach';
import { parseFaults } from './faults/kinds';
import type { Claims } from './oidc/jwt';
import { isUsableSubject, mintIdToken } from './oidc/token';
import { prepareSandboxDir } from './state/dir';
import { readMaterial, type Material } from './state/material';
import { chosenSandboxDir, sandboxPaths, type SandboxPaths } from './state/paths';
import { readRuntime, runtimePort, type RuntimeInfo } from './state/runtime';

/**
 * `gitsign sandbox up|status|token|down|rotate-tuf`. `up` runs in the foreground until SIGINT/SIGTERM
 * (then exits 0) after printing the client exports, or with --detach in the background, returning
 * once every service answers; `status` says whether it runs and where; `token` prints a fresh ID token
 * from the running sandbox's issuer; `down` stops it; `rotate-tuf` gives its TUF repository new keys
 * and a new root version. Each works on --dir, else $GITSIGN_SANDBOX_DIR, else the default directory.
 */
export interface SandboxArgs {
  action: string;
  dir?: string;
  port?: number;
  subject?: string;
  'issuer-claims'?: string;
  /** Hostile mode: KIND[,KIND] or SERVICE:KIND, repeatable (`up` only). */
  fault?: string | string[];
  detach?: boolean;
  json?: boolean;
  /** Internal: this `up` is the background process of `up --detach`, reporting to it over IPC. */
  'detached-child'?: boolean;
}

const ACTIONS = ['up', 'status', 'token', 'down', 'rotate-tuf'] as const;

/** The actions each option belongs to; given to another action it is a usage error naming its own. */
const OPTION_ACTIONS: Record<string, readonly string[]> = {
  port: ['up'],
  fault: ['up'],
  detach: ['up'],
  'detached-child': ['up'],
  subject: ['up', 'token'],
  'issuer-claims': ['up', 'token'],
  json: ['status'],
};

function checkOptions(args: SandboxArgs): void {
  for (const [option, actions] of Object.entries(OPTION_ACTIONS)) {
    const value = (args as unknown as Record<string, unknown>)[option];
    if (value === undefined || value === false || actions.includes(args.action)) continue;
    throw new GitsignError('USAGE', `--${option} is an option of ${actions.map((a) => `\`gitsign sandbox ${a}\``).join(' and ')}`);
  }
  if (args.subject !== undefined && !isUsableSubject(String(args.subject))) {
    throw new GitsignError('USAGE', '--subject must be an email or a URI: one word of at most 256 characters, no spaces or control characters');
  }
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

async function up(args: SandboxArgs, dir: string): Promise<number> {
  const port = args.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GitsignError('USAGE', `invalid --port ${String(args.port)}`);
  const issuerClaims = parseClaims(args['issuer-claims']);
  const faults = parseFaults(args.fault);
  const faultList = faults.items();
  if (args.detach) {
    const forward = [
      ...(args.port !== undefined ? ['--port', String(port)] : []),
      ...(args.subject !== undefined ? ['--subject', args.subject] : []),
      ...(args['issuer-claims'] !== undefined ? ['--issuer-claims', args['issuer-claims']] : []),
      ...faultList.flatMap((f) => ['--fault', f]),
    ];
    return (await import('./detach')).startDetached({ dir, forward, faults: faultList });
  }
  const report = args['detached-child'] ? (r: ChildReport) => import('./detach').then((d) => d.tellParent(r)) : async () => undefined;
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
  let sandbox: Awaited<ReturnType<typeof import('./server').startSandbox>>;
  try {
    const { startSandbox, PortUnavailable } = await import('./server');
    // Without --port and --subject, come back on the previous run's port (the exported URLs and minted
    // tokens stay valid, else any free port) and with its identity.
    const previous = readRuntime(sandboxPaths(dir).runtime);
    const subject = args.subject ?? previous?.subject;
    const start = (p: number) => startSandbox({ dir, port: p, subject, issuerClaims, faults });
    const previousPort = args.port === undefined ? runtimePort(previous) : undefined;
    sandbox = previousPort ? await start(previousPort).catch((err: unknown) => (err instanceof PortUnavailable ? start(0) : Promise.reject(err))) : await start(port);
  } catch (err) {
    stop();
    const e = toGitsignError(err);
    await report({ failed: { code: e.code, message: e.message } });
    throw err;
  }
  process.stdout.write(terminalLines(sandbox.env.replace(/\n$/, '').split('\n')));
  if (!faults.empty) process.stderr.write(terminalLines([`gitsign sandbox: HOSTILE MODE, wrong answers on purpose: ${faults.toString()}`]));
  const notes = [
    `logins sign in as ${sandbox.subject}`,
    sandbox.createdKeys ? 'new keys' : 'existing keys',
    `TUF root version ${sandbox.tufRootVersion}`,
    `${sandbox.entries} log entries`,
    ...(sandbox.repairedBytes ? [`cut ${sandbox.repairedBytes} bytes of an unfinished last record`] : []),
  ].join(', ');
  process.stderr.write(terminalLines([`gitsign sandbox: ready at ${sandbox.url} in ${Math.round(process.uptime() * 1000)} ms (${notes}); Ctrl-C stops it`]));
  await report({ ready: { url: sandbox.url, pid: process.pid, notes } });
  await stopped;
  await sandbox.close();
  process.stderr.write('gitsign sandbox: stopped\n');
  return 0;
}

/** The keys and last run of an existing sandbox, running or not (rotate-tuf). */
function existingSandbox(paths: SandboxPaths): { material: Material; runtime: RuntimeInfo } {
  const material = readMaterial(paths.keys);
  const runtime = readRuntime(paths.runtime);
  if (!material || !runtime) throw new GitsignError('CONFIG', `no sandbox in ${paths.dir}: run \`gitsign sandbox up --detach --dir ${paths.dir}\` first`);
  return { material, runtime };
}

/** A token from the sandbox's issuer key, for the sandbox running now (a stopped one could not use it). */
async function token(args: SandboxArgs, paths: SandboxPaths): Promise<number> {
  const { inspectSandbox, notRunningError } = await import('./status');
  const seen = await inspectSandbox(paths);
  const material = readMaterial(paths.keys);
  if (seen.state !== 'running' || !seen.runtime || !material) {
    if (!material && seen.state === 'stopped') throw new GitsignError('CONFIG', `no sandbox in ${paths.dir}: start one with \`gitsign sandbox up --detach --dir ${paths.dir}\``);
    throw notRunningError(seen);
  }
  const { runtime } = seen;
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
async function rotateTuf(paths: SandboxPaths): Promise<number> {
  const { material, runtime } = existingSandbox(paths);
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
  if (!(ACTIONS as readonly string[]).includes(args.action)) throw new GitsignError('USAGE', `unknown sandbox action ${args.action} (expected ${ACTIONS.join(', ')})`);
  checkOptions(args);
  const dir = chosenSandboxDir(args.dir);
  if (args.action === 'up') return up(args, dir);
  // The other actions read the directory and never create it.
  const paths = sandboxPaths(prepareSandboxDir(dir, false));
  if (args.action === 'status') return (await import('./status')).statusCommand(paths, Boolean(args.json));
  if (args.action === 'down') return (await import('./down')).downCommand(paths);
  if (args.action === 'token') return token(args, paths);
  return rotateTuf(paths);
}
