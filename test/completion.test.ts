/**
 * Shell completion generated from the yargs definitions: the scripts `gitsign completion
 * bash|zsh|fish|powershell` print, run by the real shells against bin/gitsign (PowerShell, not in
 * Debian, by its script's text and the exact calls and parsing it makes).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { BIN } from './helpers/paths';
import { requirePeer } from './helpers/peers';

const env = { ...process.env, PATH: `${dirname(BIN)}:${process.env.PATH}` };

/** Runs bash's completion function for a command line whose last word is being completed. */
function bashComplete(words: string[]): string[] {
  const script = `source <(gitsign completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}
_gitsign_yargs_completions
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** zsh's: the script's function with compsys's _describe standing in to print the candidates. */
function zshComplete(words: string[]): string[] {
  const script = `compdef() { : }
_describe() { print -rl -- "\${(@P)2}" }
source <(gitsign completion zsh)
words=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; BUFFER="\${words[*]}"; CURSOR=\${#BUFFER}
_gitsign_yargs_completions`;
  // A zsh user's SHELL, from which yargs knows to add descriptions.
  const r = spawnSync('zsh', ['-f', '-c', script], { env: { ...env, SHELL: '/bin/zsh' }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

/** fish's own `complete -C LINE`: what <Tab> offers after LINE, one `candidate<TAB>description` each. */
function fishComplete(line: string): string[] {
  const fish = requirePeer('fish');
  const r = spawnSync(fish, ['--no-config', '-c', 'gitsign completion fish | source; complete -C $argv[1]', line], { env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
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
  assert.match(script(['completion'], '/usr/bin/fish'), /^# gitsign completion for fish/);
  assert.match(script(['completion'], '/usr/bin/pwsh'), /^# gitsign completion for PowerShell/);
  assert.match(script(['completion'], '/bin/zsh'), /^#compdef gitsign/);
  const tcsh = spawnSync(process.execPath, [BIN, 'completion', 'tcsh'], { encoding: 'utf8' });
  assert.equal(tcsh.status, 1);
  assert.match(tcsh.stderr, /unknown shell "tcsh" \(bash, zsh, fish or powershell\)/);
  const help = spawnSync(process.execPath, [BIN, 'completion', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^gitsign completion \[shell\]/);
});
