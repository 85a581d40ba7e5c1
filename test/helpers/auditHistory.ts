import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { APPROVAL_PREDICATE } from '../../src/audit/approvals';
import type { TempRepo } from './gitRepo';
import { mintToken, signingRepo } from './signingSandbox';

/**
 * Real git histories for the policy and audit tests: commits, merges and tags signed by `gitsign
 * sandbox` identities (each its own token), approvals stored with `gitsign attest`, and `gitsign
 * audit` read back as JSON.
 */
export interface AuditEntry {
  type: 'commit' | 'tag';
  object: string;
  name?: string;
  status: string;
  reason: string;
  message: string;
  signer: { identities: string[]; issuer: string | null } | null;
  principals: string[];
  attestedTime: string | null;
  policySerial: number | null;
  policies: string[];
  rule: string | null;
  endorsedBy?: string;
  notChecked: string[];
}

export interface AuditSummary {
  type: 'summary';
  mode: 'repository' | 'file';
  ref: string | null;
  trustRoot: { origin: string; serial: number };
  adopted: { origin: string; serial: number }[];
  counts: Record<string, number>;
  clean: boolean;
}

export interface AuditRun {
  status: number | null;
  stdout: string;
  stderr: string;
  entries: AuditEntry[];
  summary: AuditSummary | undefined;
  /** The entry of a commit or tag object. */
  of(sha: string): AuditEntry;
}

/** A signer: an email (a person) or a token's claims (a workflow, whose subject is a URI). */
export type Who = string | { subject: string; claims: Record<string, unknown> };

/** Tokens are minted once per identity and renewed well before their 10 minutes run out. */
const TOKEN_REUSE_MS = 4 * 60_000;

export class SignedHistory {
  readonly repo: TempRepo;
  private readonly tokens = new Map<string, { token: string; at: number }>();

  constructor(private readonly sb: { dir: string; env: Record<string, string> }) {
    // No timestamp authority: one signature is a certificate and a log entry (times come from the log).
    this.repo = signingRepo({ ...sb.env, GITSIGN_TIMESTAMP_SERVER_URL: '' });
    this.repo.git('config', 'commit.gpgsign', 'true');
    this.repo.git('config', '--global', 'user.name', 'Approver');
    this.repo.git('config', '--global', 'user.email', 'approver@example.com');
  }

  get issuer(): string {
    return this.sb.env.GITSIGN_OIDC_ISSUER;
  }

  token(who: Who): string {
    const key = JSON.stringify(who);
    const known = this.tokens.get(key);
    if (known && Date.now() - known.at < TOKEN_REUSE_MS) return known.token;
    const token = typeof who === 'string' ? mintToken(this.sb.dir, who) : mintToken(this.sb.dir, who.subject, who.claims);
    this.tokens.set(key, { token, at: Date.now() });
    return token;
  }

  /** git as `who` (null: unsigned), failing loudly. */
  git(who: Who | null, args: string[], extraEnv: NodeJS.ProcessEnv = {}): string {
    const env = { ...this.repo.env, ...extraEnv, ...(who === null ? {} : { SIGSTORE_ID_TOKEN: this.token(who) }) };
    const signing = who === null ? ['-c', 'commit.gpgsign=false'] : [];
    return execFileSync('git', [...signing, ...args], { cwd: this.repo.dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Writes files (null removes one), commits them all (env: for gitsign, such as GITSIGN_REKOR_MODE), and returns the commit. */
  commit(who: Who | null, message: string, files: Record<string, string | null> = {}, env: NodeJS.ProcessEnv = {}): string {
    for (const [path, content] of Object.entries(files)) {
      const full = join(this.repo.dir, path);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    this.repo.git('add', '-A');
    this.git(who, ['commit', '-q', '--allow-empty', '-m', message], env);
    return this.rev('HEAD');
  }

  /** A merge commit of `branch` into the current branch, signed by `who`; `ours` keeps this branch's tree. */
  merge(who: Who, branch: string, opts: { ours?: boolean } = {}): string {
    this.git(who, ['merge', '-q', '--no-ff', ...(opts.ours ? ['-s', 'ours'] : []), '-m', `merge ${branch}`, branch]);
    return this.rev('HEAD');
  }

  /** A signed annotated tag of `target`, returning the tag object. */
  tag(who: Who, name: string, target = 'HEAD'): string {
    this.git(who, ['tag', '-s', '-m', name, name, target]);
    return this.rev(`refs/tags/${name}`);
  }

  /** An approval of HEAD by `who`: `gitsign attest --type APPROVAL`, as a reviewer runs it. */
  approve(who: Who): void {
    const file = join(this.repo.dir, '..', `approval-${process.pid}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ approved: true }));
    try {
      const r = this.repo.gitsign(['attest', '--type', APPROVAL_PREDICATE, '-f', file], undefined, { SIGSTORE_ID_TOKEN: this.token(who) });
      if (r.status !== 0) throw new Error(`gitsign attest failed: ${r.stderr}`);
    } finally {
      rmSync(file, { force: true });
    }
  }

  checkout(args: string[]): void {
    this.repo.git('checkout', '-q', ...args);
  }

  rev(name: string): string {
    return this.repo.git('rev-parse', name).trim();
  }

  /** `gitsign audit --json ARGS`. */
  audit(args: string[], env: NodeJS.ProcessEnv = {}): AuditRun {
    const r = this.repo.gitsign(['audit', '--json', ...args], undefined, env);
    const objects = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as AuditEntry | AuditSummary);
    const entries = objects.filter((o): o is AuditEntry => o.type !== 'summary');
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      entries,
      summary: objects.find((o): o is AuditSummary => o.type === 'summary'),
      of: (sha) => {
        const e = entries.find((x) => x.object === sha);
        if (!e) throw new Error(`no audit entry for ${sha}:\n${r.stdout}${r.stderr}`);
        return e;
      },
    };
  }

  /** `gitsign ARGS` in the repository. */
  gitsign(args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
    return this.repo.gitsign(args, undefined, env);
  }

  remove(): void {
    this.repo.remove();
  }
}

/** A policy's principal whose one identity is a sandbox email. */
export function person(issuer: string, email: string): string {
  return `[{issuer: ${JSON.stringify(issuer)}, subject: ${JSON.stringify(email)}}]`;
}

/** The first lines of a test policy: its version, its serial, and principals by name, each one sandbox email. */
export function policyHead(issuer: string, serial: number, people: Record<string, string>): string[] {
  return ['version: 1', `serial: ${serial}`, 'principals:', ...Object.entries(people).map(([name, email]) => `  ${name}: ${person(issuer, email)}`)];
}
