/**
 * Shell completion: the scripts `gitsign completion bash|zsh|fish|powershell` print, run by the real
 * shells against bin/gitsign (PowerShell, not in Debian, by its script's text and the exact calls and
 * parsing it makes): gitsign's commands and options from the yargs definitions, the refs of the
 * current repository for verify and verify-tag, and gitsign-credential-cache's options.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { CREDENTIAL_CACHE_OPTIONS } from '../src/cli/completionScripts';
import { REF_LIMIT } from '../src/cli/refCompletion';
import { TempRepo } from './helpers/gitRepo';
import { BIN, ROOT } from './helpers/paths';
import { requirePeer } from './helpers/peers';

const env = { ...process.env, PATH: `${dirname(BIN)}:${process.env.PATH}` };

/** Where a shell runs: a directory (a repository, or not) and its environment. */
interface Place {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Runs bash's completion function for a command line whose last word is being completed. */
function bashComplete(words: string[], at: Place = {}): string[] {
  const fn = words[0] === 'gitsign-credential-cache' ? '_gitsign_credential_cache_completions' : '_gitsign_yargs_completions';
  const script = `source <(gitsign completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
${fn}
printf '%s\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { cwd: at.cwd, env: at.env ?? env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing on the terminal but the candidates');
  return r.stdout.split('\n').filter(Boolean);
}

/** zsh's: the script's function with compsys's _describe and _default standing in to print the candidates. */
const ZSH_STUBS = `compdef() { : }
_describe() { print -rl -- "\${(@P)2}" }
_default() { print -r -- '(files)' }`;
function zshComplete(words: string[], at: Place = {}): string[] {
  const script = `${ZSH_STUBS}
source <(gitsign completion zsh)
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; BUFFER="\${words[*]}"; CURSOR=\${#BUFFER}
service=${words[0]}
_gitsign`;
  const r = spawnSync('zsh', ['-f', '-c', script], { cwd: at.cwd, env: at.env ?? env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** fish's own `complete -C LINE`: what <Tab> offers after LINE, one `candidate<TAB>description` each. */
function fishComplete(line: string, at: Place = {}): string[] {
  const fish = requirePeer('fish');
  const r = spawnSync(fish, ['--no-config', '-c', 'gitsign completion fish | source; complete -C $argv[1]', line], { cwd: at.cwd, env: at.env ?? env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

const repos: TempRepo[] = [];
const dirs: string[] = [];
after(() => {
  repos.forEach((r) => r.remove());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A repository with branches, tags and a remote-tracking branch to complete. */
function repoWithRefs(): TempRepo {
  const repo = new TempRepo();
  repos.push(repo);
  repo.git('commit', '-q', '--allow-empty', '-m', 'one');
  repo.git('branch', 'feature/login');
  repo.git('branch', 'fix');
  repo.git('tag', 'v1.0.0');
  repo.git('tag', '-a', '-m', 'annotated', 'v1.1.0');
  repo.git('update-ref', 'refs/remotes/origin/main', 'HEAD');
  return repo;
}

test('bash: subcommands and their options complete', () => {
  assert.deepEqual(bashComplete(['gitsign', 'verify-t']), ['verify-tag']);
  // Every subcommand starting with "ve", whatever others are added later.
  const ve = bashComplete(['gitsign', 've']);
  assert.ok(['verify', 'verify-tag', 'version'].every((c) => ve.includes(c)), ve.join(' '));
  assert.ok(ve.every((c) => c.startsWith('ve')), ve.join(' '));
  assert.deepEqual(bashComplete(['gitsign', 'verify', '--certificate-oidc-i']).sort(), ['--certificate-oidc-issuer', '--certificate-oidc-issuer-regexp']);
  assert.deepEqual(bashComplete(['gitsign', 'sandbox', '--iss']), ['--issuer-claims']);
  assert.deepEqual(bashComplete(['gitsign', 'completion', '']).sort(), ['--help', 'bash', 'fish', 'powershell', 'zsh']);
});

test('zsh: the same candidates, with their descriptions', () => {
  const top = zshComplete(['gitsign', '']);
  assert.ok(top.includes('verify-tag:Verify the signatures of annotated tags'), top.join('\n'));
  assert.ok(top.some((l) => l.startsWith('completion:')));
  const opts = zshComplete(['gitsign', 'verify-tag', '--']);
  assert.ok(opts.some((l) => l.startsWith('--certificate-identity:')), opts.join('\n'));
});

test('fish: commands, options and choices complete, with their descriptions', () => {
  assert.deepEqual(fishComplete('gitsign verify-t'), ['verify-tag\tVerify the signatures of annotated tags']);
  const ve = fishComplete('gitsign ve').map((l) => l.split('\t')[0]);
  assert.ok(['verify', 'verify-tag', 'version'].every((c) => ve.includes(c)), ve.join(' '));
  assert.ok(ve.every((c) => c.startsWith('ve')), ve.join(' '));
  assert.deepEqual(fishComplete('gitsign verify --certificate-oidc-i').map((l) => l.split('\t')[0]), ['--certificate-oidc-issuer', '--certificate-oidc-issuer-regexp']);
  assert.match(fishComplete('gitsign verify --certificate-oidc-issuer-r')[0], /^--certificate-oidc-issuer-regexp\tA Go \(RE2\) regular expression/);
  // A word after a space: the empty current word reaches gitsign (choices carry no description).
  assert.deepEqual(fishComplete('gitsign attest --objtype '), ['commit', 'tree']);
  assert.deepEqual(fishComplete('gitsign completion p'), ['powershell']);
});

/** What the PowerShell completer asks: gitsign's answer, with ZSH_NAME set as the script sets it. */
function yargsAnswer(words: string[]): string[] {
  const r = spawnSync(process.execPath, [BIN, '--get-yargs-completions', ...words], { env: { ...env, ZSH_NAME: 'zsh' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split(/\r?\n/);
}

test('powershell: a native completer for gitsign that asks --get-yargs-completions with every word, and parses names and descriptions', () => {
  const r = spawnSync(process.execPath, [BIN, 'completion', 'powershell'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const script = r.stdout;
  assert.match(script, /^Register-ArgumentCompleter -Native -CommandName gitsign -ScriptBlock \{$/m);
  assert.match(script, /param\(\$wordToComplete, \$commandAst, \$cursorPosition\)/);
  // The words before the cursor, then the current word, each its own argument (ArgumentList keeps an empty one).
  assert.match(script, /\$start\.Environment\['ZSH_NAME'\] = 'zsh'/);
  assert.match(script, /\$start\.ArgumentList\.Add\('--get-yargs-completions'\)\n\s+foreach \(\$word in \$words\) \{ \$start\.ArgumentList\.Add\(\$word\) \}\n\s+\$start\.ArgumentList\.Add\(\$wordToComplete\)/);
  // The script's own parsing, applied here to gitsign's real answers (the pattern means the same in .NET).
  const pattern = /-cmatch '((?:[^']|'')*)'/.exec(script)?.[1].replace(/''/g, "'");
  assert.ok(pattern, 'the line pattern');
  assert.match(script, /\$name = \$Matches\[1\] -replace '\\\\:', ':'/);
  assert.match(script, /\$name\.StartsWith\(\$wordToComplete, \[System\.StringComparison\]::Ordinal\)/);
  assert.match(script, /CompletionResult\]::new\(\$name, \$name, 'ParameterValue', \$description\)/);
  const complete = (words: string[]): [string, string][] => {
    const current = words[words.length - 1];
    return yargsAnswer(words).flatMap((line): [string, string][] => {
      const m = line === '' ? null : new RegExp(pattern).exec(line);
      if (!m) return [];
      const name = m[1].replace(/\\:/g, ':');
      return name.startsWith(current) ? [[name, m[2] || name]] : [];
    });
  };
  assert.deepEqual(complete(['gitsign', 'verify-t']), [['verify-tag', 'Verify the signatures of annotated tags']]);
  assert.deepEqual(complete(['gitsign', 'verify', '--certificate-oidc-i']).map(([n]) => n), ['--certificate-oidc-issuer', '--certificate-oidc-issuer-regexp']);
  assert.deepEqual(complete(['gitsign', 'attest', '--objtype', '']), [['commit', 'commit'], ['tree', 'tree']]);
  assert.equal(new RegExp(pattern).exec('a\\:b:desc: more')?.slice(1).join('|'), 'a\\:b|desc: more', 'an escaped colon stays in the name');
});

test('completion takes bash, zsh, fish or powershell (default: $SHELL\'s) and refuses other shells', () => {
  const script = (args: string[], shell: string): string => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...env, SHELL: shell } }).stdout;
  assert.match(script(['completion', 'bash'], '/bin/zsh'), /complete -o bashdefault -o default -F _gitsign_yargs_completions gitsign/);
  assert.match(script(['completion', 'zsh'], '/bin/bash'), /^#compdef gitsign/);
  assert.match(script(['completion', 'fish'], '/bin/bash'), /^complete -c gitsign -f -a '\(__gitsign_completions\)'$/m);
  assert.match(script(['completion'], '/usr/bin/fish'), /^# gitsign and gitsign-credential-cache completion for fish/);
  assert.match(script(['completion'], '/usr/bin/pwsh'), /^# gitsign completion for PowerShell/);
  assert.match(script(['completion'], '/bin/zsh'), /^#compdef gitsign/);
  const tcsh = spawnSync(process.execPath, [BIN, 'completion', 'tcsh'], { encoding: 'utf8' });
  assert.equal(tcsh.status, 1);
  assert.match(tcsh.stderr, /unknown shell "tcsh" \(bash, zsh, fish or powershell\)/);
  const help = spawnSync(process.execPath, [BIN, 'completion', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^gitsign completion \[shell\]/);
});

test('verify completes the repository\'s branches, tags, remote branches and HEAD; verify-tag only tags; in bash, zsh and fish', () => {
  const repo = repoWithRefs();
  const at = { cwd: repo.dir, env: { ...env, HOME: repo.env.HOME, GIT_CONFIG_NOSYSTEM: '1' } };
  assert.deepEqual(bashComplete(['gitsign', 'verify', ''], at).sort(), ['HEAD', 'feature/login', 'fix', 'main', 'origin/main', 'v1.0.0', 'v1.1.0']);
  assert.deepEqual(bashComplete(['gitsign', 'verify', 'f'], at).sort(), ['feature/login', 'fix']);
  assert.deepEqual(bashComplete(['gitsign', 'verify', 'HEAD', 'v1'], at).sort(), ['v1.0.0', 'v1.1.0']);
  assert.deepEqual(bashComplete(['gitsign', 'verify-tag', ''], at).sort(), ['v1.0.0', 'v1.1.0']);
  assert.deepEqual(bashComplete(['gitsign', 'verify-tag', 'fi'], at), [], 'a branch is not a tag');
  // The right end of a range, and a full ref name.
  assert.deepEqual(bashComplete(['gitsign', 'verify', 'v1.0.0..fe'], at), ['v1.0.0..feature/login']);
  assert.deepEqual(bashComplete(['gitsign', 'verify', 'main...v1.1'], at), ['main...v1.1.0']);
  assert.deepEqual(bashComplete(['gitsign', 'verify', 'refs/remotes/'], at), ['refs/remotes/origin/main']);
  // Options still complete, and an option's value is not a revision.
  assert.ok(bashComplete(['gitsign', 'verify', '--certificate-i'], at).includes('--certificate-identity'));
  assert.deepEqual(zshComplete(['gitsign', 'verify', '--trusted-root', ''], at), ['(files)']);
  assert.deepEqual(zshComplete(['gitsign', 'verify-tag', 'v1.1'], at), ['v1.1.0']);
  assert.deepEqual(fishComplete('gitsign verify fi', at), ['fix']);
  assert.deepEqual(fishComplete('gitsign verify-tag --json v1.0', at), ['v1.0.0']);
});

test('ref completion outside a repository, without git, or with a git that hangs: options as before, nothing on the terminal, no error', () => {
  const outside = mkdtempSync(join(tmpdir(), 'gitsign-completion-'));
  dirs.push(outside);
  // GIT_CEILING_DIRECTORIES: git does not look for a repository above it.
  const notRepo = { cwd: outside, env: { ...env, GIT_CEILING_DIRECTORIES: tmpdir() } };
  const options = bashComplete(['gitsign', 'verify', ''], notRepo);
  assert.ok(options.includes('--certificate-identity'), options.join(' '));
  assert.deepEqual(bashComplete(['gitsign', 'verify-tag', 'v'], notRepo), []);
  // No git on PATH at all: node and gitsign only.
  const bin = join(outside, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'node'), `#!/bin/sh\nexec '${process.execPath}' "$@"\n`, { mode: 0o755 });
  const noGit = { cwd: outside, env: { PATH: `${dirname(BIN)}:${bin}:/nonexistent`, HOME: outside } };
  const r = spawnSync('/bin/bash', ['--norc', '--noprofile', '-c', `source <(gitsign completion bash); COMP_WORDS=(gitsign verify ''); COMP_CWORD=2; _gitsign_yargs_completions; printf '%s\\n' "\${COMPREPLY[@]}"`], { ...noGit, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.ok(r.stdout.includes('--certificate-identity'), r.stdout);
  // A git that never answers is given up on (the shell gets its candidates back).
  const hanging = join(outside, 'hanging');
  mkdirSync(hanging);
  writeFileSync(join(hanging, 'git'), '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
  chmodSync(join(hanging, 'git'), 0o755);
  const slow = bashComplete(['gitsign', 'verify', ''], { cwd: outside, env: { ...notRepo.env, PATH: `${hanging}:${env.PATH}` } });
  assert.ok(slow.includes('--certificate-identity'), slow.join(' '));
});

test('hostile ref names are never offered (a cloned branch named $(cmd) would run on Enter), and at most REF_LIMIT refs are', () => {
  const repo = repoWithRefs();
  const head = repo.git('rev-parse', 'HEAD').trim();
  const marker = join(repo.dir, 'ran');
  // Valid ref names to git (it lists them all), each dangerous on a command line or a terminal.
  const hostile = [`refs/heads/x$(touch\${IFS}${marker})`, 'refs/heads/x;touch', 'refs/heads/x`id`', "refs/heads/x'q", 'refs/tags/x\u202e'];
  // Written straight into packed-refs, as a fetch from a hostile remote could leave them.
  const many = Array.from({ length: REF_LIMIT + 50 }, (_, i) => `refs/tags/many-${String(i).padStart(4, '0')}`);
  writeFileSync(join(repo.dir, '.git', 'packed-refs'), [...hostile, ...many].map((r) => `${head} ${r}\n`).join(''));
  const at = { cwd: repo.dir, env: { ...env, HOME: repo.env.HOME } };
  assert.equal(repo.git('for-each-ref', '--format=%(refname)', 'refs/heads/x*', 'refs/heads/x*/**', 'refs/tags/x*').split('\n').filter(Boolean).length, hostile.length, 'git lists them');
  const x = bashComplete(['gitsign', 'verify', 'x'], at);
  assert.deepEqual(x, []);
  assert.deepEqual(zshComplete(['gitsign', 'verify', 'x'], at), ['(files)']);
  assert.equal(spawnSync('test', ['-e', marker]).status, 1, 'nothing ran');
  const offered = bashComplete(['gitsign', 'verify-tag', 'many-'], at);
  assert.equal(offered.length, REF_LIMIT);
  assert.equal(offered[0], 'many-0000');
  assert.deepEqual(bashComplete(['gitsign', 'verify-tag', 'many-0249'], at), ['many-0249'], 'a longer prefix reaches the refs beyond the limit');
});

/** Long options (and their short forms) a usage text lists. */
const flagsIn = (help: string): string[] => [...new Set([...help.matchAll(/^\s+(?:(-[a-z]), )?(--[a-z][a-z-]+)/gm)].flatMap((m) => (m[1] ? [m[1], m[2]] : [m[2]])))].sort();

test('gitsign-credential-cache: its options complete in bash, zsh and fish, and the list is the one its --help prints', () => {
  const help = spawnSync(process.execPath, [join(ROOT, 'bin', 'gitsign-credential-cache'), '--help'], { encoding: 'utf8' }).stdout;
  const listed = CREDENTIAL_CACHE_OPTIONS.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]).sort();
  const inHelp = flagsIn(help);
  assert.ok(inHelp.includes('--systemd-socket-activation'), help);
  // Every option the cache takes is completed (one it adds must be listed in completionScripts.ts).
  for (const f of inHelp) assert.ok(listed.includes(f), `${f} (in --help) is not completed`);

  assert.deepEqual(bashComplete(['gitsign-credential-cache', '--s']).sort(), ['--socket', '--systemd-socket-activation']);
  assert.deepEqual(bashComplete(['gitsign-credential-cache', '--socket', '']), [], 'a path: the shell offers file names');
  const z = zshComplete(['gitsign-credential-cache', '']);
  assert.ok(z.includes('--connection-timeout:Close a connection whose request has not arrived whole within SECONDS'), z.join('\n'));
  assert.ok(z.includes('-v:Print the version'));
  assert.deepEqual(zshComplete(['gitsign-credential-cache', '--socket', '']), ['(files)']);
  const f = fishComplete('gitsign-credential-cache --sy');
  assert.deepEqual(f, ['--systemd-socket-activation\tServe the sockets systemd passes (LISTEN_FDS)']);
  assert.deepEqual(fishComplete('gitsign-credential-cache --idle-timeout '), [], 'a number, not a file');
});

test('zsh: the script saved as _gitsign in $fpath completes on the first <Tab> (autoloaded, it is the function body), for both programs', () => {
  const repo = new TempRepo();
  repos.push(repo);
  const fpath = join(repo.dir, 'zfunc');
  mkdirSync(fpath);
  const script = spawnSync(process.execPath, [BIN, 'completion', 'zsh'], { encoding: 'utf8' }).stdout;
  assert.match(script, /^#compdef gitsign gitsign-credential-cache$/m);
  writeFileSync(join(fpath, '_gitsign'), script);
  const run = (service: string, words: string[]): string[] => {
    const z = `${ZSH_STUBS}
fpath=('${fpath}' $fpath); autoload -Uz _gitsign
service=${service}; words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}
_gitsign`;
    const r = spawnSync('zsh', ['-f', '-c', z], { env, encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  };
  assert.ok(run('gitsign', ['gitsign', 'verify-t']).includes('verify-tag:Verify the signatures of annotated tags'));
  assert.ok(run('gitsign-credential-cache', ['gitsign-credential-cache', '--']).includes('--socket:Listen on PATH (default: $GITSIGN_CREDENTIAL_CACHE, else the user cache directory)'));
  assert.equal(readFileSync(join(fpath, '_gitsign'), 'utf8'), script);
});
