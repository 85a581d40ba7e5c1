import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from './peers';

/** Every gpg run is bounded: a key generation on a loaded machine takes seconds, never this long. */
const GPG_TIMEOUT_MS = 60_000;

/**
 * A throwaway GnuPG home (never the user's): keys made with `gpg --quick-gen-key`, no passphrase,
 * and wrapper programs for git's gpg.program that add options (a faked clock, --textmode...).
 * close() stops the agent gpg started for this home and removes it.
 */
export class GpgHome {
  readonly dir: string;
  readonly home: string;
  readonly env: NodeJS.ProcessEnv;
  private readonly gpg: string;
  private wrappers = 0;

  constructor() {
    this.gpg = requirePeer('gpg');
    this.dir = mkdtempSync(join(tmpdir(), 'gitsign-pgp-'));
    this.home = join(this.dir, 'gnupg');
    mkdirSync(this.home, { mode: 0o700 });
    this.env = { PATH: process.env.PATH, HOME: this.dir, GNUPGHOME: this.home, LC_ALL: 'C' };
  }

  /** Runs gpg in batch mode; throws with its stderr when it fails. */
  run(args: string[], input?: Buffer | string): Buffer {
    return execFileSync(this.gpg, ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], {
      env: this.env,
      input,
      timeout: GPG_TIMEOUT_MS,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Generates a key (`usage`: sign, cert...; `expire`: never, 1y...) and returns its fingerprint. */
  generate(userId: string, algorithm: string, usage: string, expire: string, fakedTime?: string): string {
    // (fakedTime: gpg's clock for this run, e.g. 20200101T000000, to make keys that are old now.)
    this.run([...(fakedTime ? ['--faked-system-time', `${fakedTime}!`] : []), '--quick-gen-key', userId, algorithm, usage, expire]);
    return this.fingerprint(userId);
  }

  /** Adds a subkey to `primary` and returns the subkey's fingerprint. */
  addSubkey(primary: string, algorithm: string, usage: string, expire: string, fakedTime?: string): string {
    this.run([...(fakedTime ? ['--faked-system-time', `${fakedTime}!`] : []), '--quick-add-key', primary, algorithm, usage, expire]);
    const fprs = this.colons(primary).filter((f) => f[0] === 'fpr').map((f) => f[9]);
    return fprs[fprs.length - 1];
  }

  fingerprint(userId: string): string {
    return this.colons(`=${userId}`).find((f) => f[0] === 'fpr')![9];
  }

  private colons(which: string): string[][] {
    return this.run(['--with-colons', '--list-keys', which]).toString('utf8').split('\n').map((l) => l.split(':'));
  }

  exportKey(fingerprint: string): string {
    return this.run(['--armor', '--export', fingerprint]).toString('utf8');
  }

  /** Imports the revocation certificate gpg made with the key (no reason given: a hard revocation). */
  revoke(fingerprint: string): void {
    const certificate = readFileSync(join(this.home, 'openpgp-revocs.d', `${fingerprint}.rev`), 'utf8').replace(/^:-----BEGIN/m, '-----BEGIN');
    this.run(['--import'], certificate);
  }

  /** Revokes the first subkey of `primary` with gpg --edit-key; `reason` as gpg's menu numbers it (0: none given, hard; 2: superseded, soft). */
  revokeSubkey(primary: string, reason: 0 | 2): void {
    this.run(['--command-fd', '0', '--edit-key', primary], `key 1\nrevkey\ny\n${reason}\n\ny\nsave\n`);
  }

  /** A detached armored signature of `data` by `keys` (each one -u), with extra options. */
  sign(data: Buffer, keys: string[], extra: string[] = []): Buffer {
    return this.run([...extra, ...keys.flatMap((k) => ['-u', `${k}!`]), '--detach-sign', '--armor'], data);
  }

  /**
   * gpg's verdict on a detached signature: the one status of its [GNUPG:] lines that decides
   * (GOODSIG, BADSIG, EXPSIG, EXPKEYSIG, REVKEYSIG, ERRSIG), all of them when there are several.
   */
  verdict(signature: Buffer, data: Buffer): string[] {
    const sig = join(this.dir, 'verdict.sig');
    const payload = join(this.dir, 'verdict.data');
    writeFileSync(sig, signature);
    writeFileSync(payload, data);
    const r = spawnSync(this.gpg, ['--batch', '--status-fd', '1', '--verify', sig, payload], { env: this.env, encoding: 'utf8', timeout: GPG_TIMEOUT_MS });
    return statusVerdicts(r.stdout ?? '');
  }

  /** A gpg.program for git that runs gpg with `extra` options before git's own. */
  wrapper(extra: string[]): string {
    const path = join(this.dir, `gpg-wrapper-${++this.wrappers}`);
    const quoted = extra.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    writeFileSync(path, `#!/bin/sh\nexec '${this.gpg}' ${quoted} "$@"\n`);
    chmodSync(path, 0o755);
    return path;
  }

  close(): void {
    spawnSync('gpgconf', ['--kill', 'all'], { env: this.env, timeout: GPG_TIMEOUT_MS });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const VERDICTS = new Set(['GOODSIG', 'BADSIG', 'EXPSIG', 'EXPKEYSIG', 'REVKEYSIG', 'ERRSIG']);

/** The deciding statuses of gpg's --status-fd output (git reads the same lines). */
export function statusVerdicts(status: string): string[] {
  return status
    .split('\n')
    .filter((l) => l.startsWith('[GNUPG:] '))
    .map((l) => l.split(' ')[1])
    .filter((s) => VERDICTS.has(s));
}
