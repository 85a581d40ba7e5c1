/**
 * Shell completion generated from the yargs definitions: the scripts `gitsign completion bash|zsh`
 * print, run by the real shells against bin/gitsign.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { BIN } from './helpers/paths';

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

test('bash: subcommands and their options complete', () => {
  assert.deepEqual(bashComplete(['gitsign', 'verify-t']), ['verify-tag']);
  // Every subcommand starting with "ve", whatever others are added later.
  const ve = bashComplete(['gitsign', 've']);
  assert.ok(['verify', 'verify-tag', 'version'].every((c) => ve.includes(c)), ve.join(' '));
  assert.ok(ve.every((c) => c.startsWith('ve')), ve.join(' '));
  assert.deepEqual(bashComplete(['gitsign', 'verify', '--certificate-oidc-i']).sort(), ['--certificate-oidc-issuer', '--certificate-oidc-issuer-regexp']);
  assert.deepEqual(bashComplete(['gitsign', 'sandbox', '--iss']), ['--issuer-claims']);
});

test('zsh: the same candidates, with their descriptions', () => {
  const top = zshComplete(['gitsign', '']);
  assert.ok(top.includes('verify-tag:Verify the signatures of annotated tags'), top.join('\n'));
  assert.ok(top.some((l) => l.startsWith('completion:')));
  const opts = zshComplete(['gitsign', 'verify-tag', '--']);
  assert.ok(opts.some((l) => l.startsWith('--certificate-identity:')), opts.join('\n'));
});

test('completion takes bash or zsh and refuses other shells', () => {
  assert.match(spawnSync(process.execPath, [BIN, 'completion', 'bash'], { encoding: 'utf8', env: { ...env, SHELL: '/bin/zsh' } }).stdout, /complete -o bashdefault -o default -F _gitsign_yargs_completions gitsign/);
  assert.match(spawnSync(process.execPath, [BIN, 'completion', 'zsh'], { encoding: 'utf8', env: { ...env, SHELL: '/bin/bash' } }).stdout, /^#compdef gitsign/);
  const fish = spawnSync(process.execPath, [BIN, 'completion', 'fish'], { encoding: 'utf8' });
  assert.equal(fish.status, 2);
  assert.match(fish.stderr, /unknown shell "fish" \(bash or zsh\)/);
});
