import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './paths';

/** A throwaway git repository with an isolated global config, so the user's settings never leak in. */
export class TempRepo {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;

  constructor(extraEnv: NodeJS.ProcessEnv = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'gitsign-test-'));
    const home = join(this.dir, '.home');
    execFileSync('mkdir', ['-p', home]);
    this.env = {
      PATH: process.env.PATH,
      HOME: home,
      XDG_CONFIG_HOME: join(home, '.config'),
      XDG_CACHE_HOME: join(home, '.cache'),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      ...extraEnv,
    };
    this.git('init', '-q', '-b', 'main', '.');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs git without throwing, for commands expected to fail. */
  gitResult(args: string[], input?: string): SpawnSyncReturns<string> {
    return spawnSync('git', args, { cwd: this.dir, env: this.env, encoding: 'utf8', input });
  }

  /** Writes an object file from the corpus verbatim (its SHA is its name). */
  importObject(file: string, type: 'commit' | 'tag'): string {
    return execFileSync('git', ['hash-object', '-t', type, '-w', '--literally', file], { cwd: this.dir, env: this.env, encoding: 'utf8' }).trim();
  }

  importBytes(raw: Buffer, type: 'commit' | 'tag'): string {
    return execFileSync('git', ['hash-object', '-t', type, '-w', '--literally', '--stdin'], { cwd: this.dir, env: this.env, input: raw, encoding: 'utf8' }).trim();
  }

  /** Runs bin/gitsign in this repository. */
  gitsign(args: string[], input?: string | Buffer, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
    return spawnSync(process.execPath, [BIN, ...args], { cwd: this.dir, env: { ...this.env, ...env }, input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  }

  read(path: string): string {
    return readFileSync(join(this.dir, path), 'utf8');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
