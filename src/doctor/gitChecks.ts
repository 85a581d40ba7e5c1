import { dirname } from 'node:path';
import type { CheckResult } from './report';
import { findProgram, run, sameFile, shellWord } from './shell';

/**
 * The local half of `gitsign doctor`: git itself, the settings that make git call gitsign (per scope,
 * so the fix goes where the wrong value wins), and the gitsign on PATH.
 */
export interface LocalContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** This gitsign's executable (bin/gitsign), to tell whether git's setting points at it. */
  self: string;
  selfVersion: string;
}

/** gpg.format x509 arrived in git 2.19. */
const MIN_GIT = [2, 19];

function git(ctx: LocalContext, args: string[]) {
  return run('git', args, ctx.cwd, ctx.env);
}

/** One key's value in each scope that sets it, and the one that wins (null: unset everywhere). */
interface Setting {
  effective: string | null;
  /** Scope of the winning value: system, global, local, worktree, command (or unknown on old git). */
  scope: string | null;
}

function setting(ctx: LocalContext, key: string, type?: 'bool'): Setting {
  const typed = type ? [`--type=${type}`] : [];
  const r = git(ctx, ['config', '--show-scope', ...typed, '--get', key]);
  if (r.code === 0) {
    const line = r.out.replace(/\n$/, '');
    const tab = line.indexOf('\t');
    return tab === -1 ? { effective: line, scope: null } : { effective: line.slice(tab + 1), scope: line.slice(0, tab) };
  }
  // git before 2.26 has no --show-scope: the value alone.
  const plain = git(ctx, ['config', ...typed, '--get', key]);
  return plain.code === 0 ? { effective: plain.out.replace(/\n$/, ''), scope: null } : { effective: null, scope: null };
}

/** The scope option a fix writes to: this repository's config when that is where the wrong value is. */
function scopeFlag(s: Setting): string {
  return s.scope === 'local' || s.scope === 'worktree' ? `--${s.scope}` : '--global';
}

const where = (s: Setting): string => (s.scope ? ` (${s.scope === 'local' ? "this repository's" : s.scope} config)` : '');

export function gitVersion(ctx: LocalContext): CheckResult {
  const r = git(ctx, ['--version']);
  const m = /git version (\d+)\.(\d+)(?:\.(\d+))?/.exec(r.out);
  if (r.code !== 0 || !m) {
    return { id: 'git.version', title: 'git', status: 'fail', summary: `git does not run here (${r.err.trim() || `exit ${r.code}`})`, fix: ['install git (2.19 or later), e.g. `apt-get install git` or `brew install git`'] };
  }
  const version = `${m[1]}.${m[2]}.${m[3] ?? '0'}`;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const old = major < MIN_GIT[0] || (major === MIN_GIT[0] && minor < MIN_GIT[1]);
  return old
    ? { id: 'git.version', title: 'git', status: 'fail', summary: `git ${version} is too old: gpg.format x509 needs git 2.19 or later`, fix: ['install git 2.19 or later'], details: { version } }
    : { id: 'git.version', title: 'git', status: 'ok', summary: `git ${version}`, details: { version } };
}


export function gpgFormat(ctx: LocalContext): CheckResult {
  const s = setting(ctx, 'gpg.format');
  const base = { id: 'config.gpg.format', title: 'gpg.format', details: { value: s.effective, scope: s.scope } };
  if (s.effective?.toLowerCase() === 'x509') return { ...base, status: 'ok', summary: `x509${where(s)}` };
  const found = s.effective === null ? "unset (git's default is openpgp)" : `${s.effective}${where(s)}`;
  return { ...base, status: 'fail', summary: `${found}: git would sign with ${s.effective === 'ssh' ? 'ssh-keygen' : 'gpg'}, not gitsign`, fix: [`git config ${scopeFlag(s)} gpg.format x509`] };
}

/** The value to set gpg.x509.program to: `gitsign` when that name finds this binary, else its path. */
function programValue(ctx: LocalContext): string {
  const onPath = findProgram('gitsign', ctx.cwd, ctx.env);
  return onPath && sameFile(onPath, ctx.self) ? 'gitsign' : ctx.self;
}

export function x509Program(ctx: LocalContext): CheckResult {
  const s = setting(ctx, 'gpg.x509.program');
  const program = s.effective ?? 'gpgsm';
  const resolved = findProgram(program, ctx.cwd, ctx.env);
  const fix = [`git config ${scopeFlag(s)} gpg.x509.program ${shellWord(programValue(ctx))}`];
  const base = { id: 'config.gpg.x509.program', title: 'gpg.x509.program', details: { value: s.effective, scope: s.scope, resolved, self: ctx.self } };
  const named = s.effective === null ? "unset (git's default is gpgsm)" : `${program}${where(s)}`;
  if (!resolved) return { ...base, status: 'fail', summary: `${named}: no such executable`, fix };
  if (sameFile(resolved, ctx.self)) return { ...base, status: 'ok', summary: `${named}: this gitsign (${resolved})` };
  // Another gitsign (the Go one, another copy) signs too; anything else (gpgsm, a typo'd script) does not.
  const first = run(resolved, ['--version'], ctx.cwd, ctx.env).out.split('\n')[0].trim();
  if (/^gitsign version /.test(first)) {
    return { ...base, status: 'warn', summary: `${named} runs another gitsign, ${resolved} (${first}): git signs with it, and these checks describe this one (${ctx.self})`, fix };
  }
  return { ...base, status: 'fail', summary: `${named} runs ${resolved}, which is not gitsign: git would not sign with Sigstore`, fix };
}

export function signByDefault(ctx: LocalContext): CheckResult {
  const unset: string[] = [];
  const fix: string[] = [];
  for (const key of ['commit.gpgsign', 'tag.gpgsign']) {
    const s = setting(ctx, key, 'bool');
    if (s.effective !== 'true') {
      unset.push(key);
      fix.push(`git config ${scopeFlag(s)} ${key} true`);
    }
  }
  const base = { id: 'config.gpgsign', title: 'commit/tag.gpgsign' };
  if (unset.length === 0) return { ...base, status: 'ok', summary: 'commits and tags are signed by default' };
  return { ...base, status: 'warn', summary: `${unset.join(' and ')} not true: sign with \`git commit -S\` / \`git tag -s\`, or by default with the fix`, fix, details: { notTrue: unset } };
}

export function userEmail(ctx: LocalContext): CheckResult {
  // The identity git would commit with (user.email, GIT_COMMITTER_EMAIL, EMAIL, or a guess it accepts).
  const r = git(ctx, ['var', 'GIT_COMMITTER_IDENT']);
  const email = /<([^>]*)>/.exec(r.out)?.[1];
  if (r.code !== 0 || !email) {
    return { id: 'config.user.email', title: 'user.email', status: 'fail', summary: 'git has no committer email: it refuses to commit', fix: ['git config --global user.email you@example.com'] };
  }
  return { id: 'config.user.email', title: 'user.email', status: 'ok', summary: email, details: { email } };
}

export function binaryOnPath(ctx: LocalContext): CheckResult {
  const found = findProgram('gitsign', ctx.cwd, ctx.env);
  const base = { id: 'binary.path', title: 'gitsign on PATH' };
  const pathFix = [`export PATH=${shellWord(dirname(ctx.self))}:"$PATH"`];
  if (!found) return { ...base, status: 'warn', summary: `no gitsign on PATH (git finds it only by the path in gpg.x509.program)`, fix: pathFix, details: { path: null } };
  const r = run(found, ['--version'], ctx.cwd, ctx.env);
  const first = r.out.split('\n')[0].trim();
  const version = /gitsign version (\S+)/.exec(first)?.[1] ?? null;
  const details = { path: found, version, self: ctx.self };
  if (sameFile(found, ctx.self)) return { ...base, status: 'ok', summary: `${found} (version ${ctx.selfVersion})`, details };
  const what = r.code === 0 && first ? first : `it does not answer --version (${r.err.trim().split('\n')[0] || `exit ${r.code}`})`;
  return { ...base, status: 'warn', summary: `${found} is another program than this gitsign (${what})`, fix: pathFix, details };
}
