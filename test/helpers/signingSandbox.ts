import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePem } from '../../src/cms/pem';
import { parseSignedData } from '../../src/cms/signedData';
import { splitCommit } from '../../src/git/rawobj';
import { after, before } from 'node:test';
import { removeDir, type Spawned, spawnSandbox, tempDir } from '../sandbox/support';
import { TempRepo } from './gitRepo';
import { BIN } from './paths';

/**
 * A `gitsign sandbox` process and repositories that sign against it with a real login (no ambient
 * token), for the login and credential-cache tests.
 */
export interface SigningSandbox {
  dir: string;
  sandbox: Spawned;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The exports `gitsign sandbox up` writes to DIR/env. */
export function readSandboxEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(join(dir, 'env'), 'utf8').matchAll(/^export ([A-Z_]+)='([^']*)'$/gm)) env[m[1]] = m[2];
  return env;
}

/** A fresh sandbox ID token (`gitsign sandbox token`), for SIGSTORE_ID_TOKEN. */
export function mintToken(dir: string, subject = 'test@example.com', claims?: Record<string, unknown>): string {
  const extra = claims ? ['--issuer-claims', JSON.stringify(claims)] : [];
  return execFileSync(process.execPath, [BIN, 'sandbox', 'token', '--dir', dir, '--subject', subject, ...extra], { encoding: 'utf8' }).trim();
}

/** A repository configured per repository to sign with gitsign-ts, in the given environment. */
export function signingRepo(env: NodeJS.ProcessEnv): TempRepo {
  const repo = new TempRepo(env);
  repo.git('config', 'gpg.format', 'x509');
  repo.git('config', 'gpg.x509.program', BIN);
  return repo;
}

/** A sandbox started before this file's tests and stopped after them; its fields are set by then. */
export function sandboxPerFile(): { dir: string; sandbox: Spawned; env: Record<string, string> } {
  const sb = {} as { dir: string; sandbox: Spawned; env: Record<string, string> };
  before(async () => {
    sb.dir = tempDir();
    sb.sandbox = await spawnSandbox(sb.dir);
    sb.env = readSandboxEnv(sb.dir);
  });
  after(async () => {
    await sb.sandbox?.stop();
    removeDir(sb.dir);
  });
  return sb;
}

export async function startSigningSandbox(): Promise<SigningSandbox> {
  const dir = tempDir();
  const sandbox = await spawnSandbox(dir);
  const env = readSandboxEnv(dir);
  // One signature = key, certificate, log entry; no timestamp keeps the tests short.
  env.GITSIGN_TIMESTAMP_SERVER_URL = '';
  return {
    dir,
    sandbox,
    env,
    stop: async () => {
      await sandbox.stop();
      removeDir(dir);
    },
  };
}

/** startSigningSandbox() and a scratch directory, made before this file's tests and removed after them. */
export function signingSandboxPerFile(): { sb: SigningSandbox; work: string } {
  const ctx = {} as { sb: SigningSandbox; work: string };
  before(async () => {
    ctx.sb = await startSigningSandbox();
    ctx.work = tempDir();
  });
  after(async () => {
    await ctx.sb?.stop();
    if (ctx.work) removeDir(ctx.work);
  });
  return ctx;
}

/** A repository signing with gitsign-ts, where no ambient ID token exists (so gitsign logs in). */
export function loginRepo(sb: SigningSandbox, extra: NodeJS.ProcessEnv = {}): TempRepo {
  return signingRepo({ ...sb.env, ...extra });
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** git run asynchronously, so servers and browsers in this process keep working meanwhile. */
export function gitAsync(repo: TempRepo, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile('git', args, { cwd: repo.dir, env: { ...repo.env, ...extra } }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: performance.now() - started }),
    );
  });
}

/** SHA-256 of the certificate in each commit's signature, oldest first. */
export function signingCertificates(repo: TempRepo, range: string): string[] {
  const shas = repo.git('rev-list', '--reverse', range).trim().split('\n').filter(Boolean);
  return shas.map((sha) => {
    const raw = execFileSync('git', ['cat-file', 'commit', sha], { cwd: repo.dir, env: repo.env });
    const { signature } = splitCommit(raw);
    if (!signature) throw new Error(`${sha} is not signed`);
    const [cert] = parseSignedData(decodePem(signature).der).certificates;
    return createHash('sha256').update(cert).digest('hex');
  });
}

/** A browser stand-in for the login: follows the URL's redirects (the sandbox issuer signs in at once). */
const FOLLOW = `const http = require('node:http');
const get = (url, left) => http.get(url, (res) => {
  res.resume();
  if (res.headers.location && left > 0) get(new URL(res.headers.location, url).toString(), left - 1);
  else process.exitCode = res.statusCode === 200 ? 0 : 1;
}).on('error', () => { process.exitCode = 1; });
get(process.argv[2], 5);
`;

/** A gitsign.urlOpener that follows the login URL and counts logins (one line per call in a file). */
export function countingOpener(dir: string): { urlOpener: string; count: () => number } {
  const log = join(dir, 'logins');
  const script = join(dir, 'opener.js');
  writeFileSync(log, '');
  writeFileSync(script, `require('node:fs').appendFileSync(${JSON.stringify(log)}, 'login\\n');\n${FOLLOW}`);
  return { urlOpener: `${process.execPath} ${script} {{.URL}}`, count: () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length };
}

export { tempDir, removeDir };
