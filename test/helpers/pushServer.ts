import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignedHistory, Who } from './auditHistory';
import { BIN, ROOT } from './paths';

/**
 * A bare repository that a SignedHistory's clone pushes to with real `git push` (local transport:
 * receive-pack and its hooks run with the pusher's environment, so they see the sandbox's trust root),
 * with the shipped install/hooks/pre-receive installed once the first history is there.
 */
export class PushServer {
  readonly dir: string;

  constructor(private readonly h: SignedHistory) {
    this.dir = mkdtempSync(join(tmpdir(), 'gitsign-server-'));
    this.git('init', '-q', '--bare', '-b', 'main', '.');
    h.repo.git('remote', 'add', 'origin', this.dir);
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: this.h.repo.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The shipped hook; `record` also writes the GIT_PUSH_* variables the hook sees to a file first. */
  installHook(record?: string): void {
    const hook = join(this.dir, 'hooks', 'pre-receive');
    if (record) {
      copyFileSync(join(ROOT, 'install', 'hooks', 'pre-receive'), join(this.dir, 'hooks', 'gitsign-pre-receive'));
      chmodSync(join(this.dir, 'hooks', 'gitsign-pre-receive'), 0o755);
      writeFileSync(hook, `#!/bin/sh\nenv | grep '^GIT_PUSH_' > '${record}'\nexec "$(dirname "$0")/gitsign-pre-receive"\n`);
    } else {
      copyFileSync(join(ROOT, 'install', 'hooks', 'pre-receive'), hook);
    }
    chmodSync(hook, 0o755);
  }

  /** The ref's value on the server, or null. */
  rev(ref: string): string | null {
    const r = spawnSync('git', ['rev-parse', '-q', '--verify', ref], { cwd: this.dir, env: this.h.repo.env, encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  }

  /** `git push ARGS` from the clone, as `who` (whose token signs a --signed push's certificate). */
  push(who: Who | null, args: string[], extraEnv: NodeJS.ProcessEnv = {}): { status: number | null; stderr: string } {
    const env = { ...this.h.repo.env, GITSIGN: BIN, ...extraEnv, ...(who === null ? {} : { SIGSTORE_ID_TOKEN: this.h.token(who) }) };
    const r = spawnSync('git', ['push', ...args], { cwd: this.h.repo.dir, env, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stderr: r.stderr };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
