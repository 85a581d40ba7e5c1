import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { decodePemAll, encodePem } from '../../src/cms/pem';
import { hashedRekord } from '../../src/rekor/hashedrekord';
import { mintIdToken } from '../../src/sandbox/oidc/token';
import { startSandbox, type RunningSandbox } from '../../src/sandbox/server';
import { readMaterial, type Material } from '../../src/sandbox/state/material';
import { BIN } from '../helpers/paths';
import { closedAtEnd, tracked } from '../helpers/processes';

/** Test support for the sandbox: starting it (in-process or as `gitsign sandbox up`), a tiny client. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'gitsign-sandbox-'));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface InProcess {
  sb: RunningSandbox;
  material: Material;
  dir: string;
  token(subject?: string, extra?: Record<string, unknown>): string;
}

export async function startInProcess(dir = tempDir()): Promise<InProcess> {
  const sb = await startSandbox({ dir, port: 0 });
  sb.close = closedAtEnd(sb.close.bind(sb));
  const material = readMaterial(sb.paths.keys)!;
  return {
    sb,
    material,
    dir,
    token: (subject = 'alice@example.com', extra?: Record<string, unknown>) =>
      mintIdToken({ issuer: sb.issuer, subject, extraClaims: extra }, material.oidc.key, material.oidc.kid),
  };
}

export interface Spawned {
  proc: ChildProcessWithoutNullStreams;
  url: string;
  stdout: string;
  stderr: () => string;
  readyMs: number;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `gitsign sandbox up --dir DIR --port 0` (no --port when port is null) and waits until it is
 * ready. A sandbox that does not get ready in time is killed; every one is stopped at the end of the
 * test file whatever failed (./helpers/processes).
 */
export function spawnSandbox(dir: string, extraArgs: string[] = [], port: string | null = '0'): Promise<Spawned> {
  const started = process.hrtime.bigint();
  const portArgs = port === null ? [] : ['--port', port];
  const proc = tracked(spawn(process.execPath, [BIN, 'sandbox', 'up', '--dir', dir, ...portArgs, ...extraArgs], { stdio: 'pipe' }));
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    let ready = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`sandbox did not start within 15 s (killed): ${stderr}`));
    }, 15_000);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`sandbox exited with ${code}: ${stderr}`));
    });
    const check = (): void => {
      // Ready: the exports are printed (they end with the `sandbox down` comment), then the ready line.
      const m = !ready && /stop it: gitsign sandbox down [^\n]*\n$/.test(stdout) && /ready at /.test(stderr) ? /GITSIGN_FULCIO_URL='([^']+)'/.exec(stdout) : null;
      if (!m) return;
      ready = true;
      clearTimeout(timer);
      resolve({
        proc,
        url: m[1],
        stdout,
        stderr: () => stderr,
        readyMs: Number(process.hrtime.bigint() - started) / 1e6,
        stop: (signal: NodeJS.Signals = 'SIGTERM') => {
          proc.kill(signal);
          return exited;
        },
      });
    };
    proc.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    proc.stderr.on('data', check);
  });
}

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `gitsign ARGS` as a separate process, asynchronously (servers in this process keep answering), killed after timeoutMs. */
export function gitsignRun(args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) =>
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** The pid DIR's sandbox lock names, if any. */
export function lockPid(dir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dir, 'sandbox.lock'), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Directories of sandboxes started with `up --detach`: stopped at the end of the file whatever failed. */
const detachedDirs = new Set<string>();

function killDetached(dir: string): void {
  const pid = lockPid(dir);
  if (pid === undefined || pid === process.pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

// A detached sandbox runs in its own session, not as a child of this process (./helpers/processes
// cannot see it): `down` after the file's tests, SIGKILL to the lock's pid if that did not do it, and
// SIGKILL if this process exits first.
if (process.env.NODE_TEST_CONTEXT) {
  after(async () => {
    for (const dir of detachedDirs) {
      await gitsignRun(['sandbox', 'down', '--dir', dir], process.env, 30_000);
      killDetached(dir);
    }
  });
}
process.once('exit', () => detachedDirs.forEach(killDetached));

/** A sandbox a test starts in DIR with `up --detach` (by any means): stopped at the end of the file. */
export function stoppedAtEnd(dir: string): void {
  detachedDirs.add(dir);
}

/**
 * `gitsign sandbox up --detach --dir DIR --port 0 ARGS` (in env), which returns once the sandbox serves.
 * The sandbox is stopped at the end of the test file whatever fails (see above); the run is returned
 * whatever its exit status.
 */
export function upDetached(dir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  stoppedAtEnd(dir);
  return gitsignRun(['sandbox', 'up', '--detach', '--dir', dir, '--port', '0', ...extraArgs], env);
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

export interface Identity {
  key: KeyObject;
  pub: KeyObject;
  chain: Buffer[];
  leafPem: string;
}

/** Gets a certificate the way gitsign does: Fulcio's legacy v1 API, proof over sha256(subject). */
export async function certify(url: string, token: string, subject: string): Promise<Identity> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await postJson(
    `${url}/api/v1/signingCert`,
    {
      publicKey: { content: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), algorithm: 'ecdsa' },
      signedEmailAddress: sign('sha256', Buffer.from(subject), privateKey).toString('base64'),
      certificateSigningRequest: null,
    },
    { Authorization: `Bearer ${token}` },
  );
  const text = await res.text();
  if (res.status !== 201) throw new Error(`Fulcio answered ${res.status}: ${text}`);
  const chain = decodePemAll(text, 'CERTIFICATE');
  return { key: privateKey, pub: publicKey, chain, leafPem: encodePem('CERTIFICATE', chain[0]) };
}

/** The hashedrekord gitsign uploads for a message signed by the identity. */
export function entryFor(id: Identity, message: Buffer): { entry: ReturnType<typeof hashedRekord>; signature: Buffer } {
  const signature = sign('sha256', message, id.key);
  return { entry: hashedRekord(message, signature, id.chain[0]), signature };
}

export interface EntryJson {
  body: string;
  integratedTime: number;
  logID: string;
  logIndex: number;
  verification: {
    signedEntryTimestamp: string;
    inclusionProof: { checkpoint: string; hashes: string[]; logIndex: number; rootHash: string; treeSize: number };
  };
}

export async function upload(url: string, entry: unknown): Promise<{ status: number; id: string; value: EntryJson; headers: Headers }> {
  const res = await postJson(`${url}/api/v1/log/entries`, entry);
  const body = (await res.json()) as Record<string, EntryJson>;
  const id = Object.keys(body)[0];
  return { status: res.status, id, value: body[id], headers: res.headers };
}

// Independent RFC 6962 / RFC 9162 checks (not the sandbox's code).
const h = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
export const leafHashOf = (data: Buffer): Buffer => h(Buffer.from([0]), data);
const node = (l: Buffer, r: Buffer): Buffer => h(Buffer.from([1]), l, r);

/** RFC 9162 section 2.1.3.2: the root an inclusion proof leads to. */
export function rootFromInclusionProof(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer {
  if (index >= size) throw new Error('index beyond tree');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = node(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn !== 0) throw new Error('proof too short');
  return r;
}

/** RFC 9162 section 2.1.4.2: checks a consistency proof between two roots. */
export function verifyConsistency(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: Buffer[]): boolean {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first > second || first === 0 || proof.length === 0) return false;
  let path = [...proof];
  if ((first & (first - 1)) === 0) path = [firstRoot, ...path];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = node(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/** The naive MTH of RFC 6962 over leaf hashes, for cross-checks. */
export function naiveRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return h();
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(naiveRoot(leaves.slice(0, k)), naiveRoot(leaves.slice(k)));
}
