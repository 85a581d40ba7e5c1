import { GitsignError, quoted } from '../errors';
import type { RawObject } from '../git/catFile';

/**
 * Usage mistakes in our words, each naming what to do next: options a command does not know (with
 * the near names, as "did you mean"), options given no value, and yargs' own validation messages
 * (which name camelCase twins and count "non-option arguments") replaced by sentences about the command.
 */

/** Edits needed to turn one word into the other, letters compared case-insensitively (as cobra). */
export function editDistance(a: string, b: string): number {
  const [x, y] = [a.toLowerCase(), b.toLowerCase()];
  let row = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const next = [i];
    for (let j = 1; j <= y.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
    row = next;
  }
  return row[y.length];
}

/** The names nearest to a mistyped word, at most two edits away (cobra's rule for commands), sorted. */
export function nearestNames(word: string, names: Iterable<string>): string[] {
  const scored = [...new Set(names)].map((name) => ({ name, d: editDistance(word, name) })).filter((s) => s.d <= 2);
  const best = Math.min(...scored.map((s) => s.d));
  return scored
    .filter((s) => s.d === best)
    .map((s) => s.name)
    .sort();
}

/** "did you mean --a?" (or "--a or --b"), or '' when no name is near. */
function didYouMean(word: string, names: Iterable<string>, prefix: string): string {
  const near = nearestNames(word, names).map((n) => `${prefix}${n}`);
  return near.length ? `did you mean ${near.join(' or ')}?` : '';
}

/** `gitsign verify`, `gitsign debug token`: the command words of the argument list. */
function commandOf(argv: string[]): string {
  const words = argv[0] === 'debug' && argv[1] === 'token' ? argv.slice(0, 2) : argv.slice(0, 1);
  return ['gitsign', ...words].join(' ');
}

/** The options of one command as yargs holds them (its getOptions()). */
export interface CommandOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  string: string[];
  number: string[];
  boolean: string[];
  hiddenOptions: string[];
}

/** Example values, so "needs a value" shows a whole option to copy. */
const EXAMPLE_VALUE: Record<string, string> = {
  'certificate-identity': 'you@example.com',
  'certificate-identity-regexp': "'@example[.]com$'",
  'certificate-oidc-issuer': 'https://github.com/login/oauth',
  'certificate-oidc-issuer-regexp': "'^https://accounts[.]google[.]com$'",
  'trusted-root': 'DIR/trusted_root.json',
  bundle: 'FILE.sigstore.json',
  dir: 'DIR',
  port: '0',
  filepath: 'predicate.json',
  root: 'root.json',
  mirror: 'https://tuf-repo-cdn.sigstore.dev',
  subject: 'you@example.com',
  key: 'key.pub',
  remote: 'origin',
};

function needsValue(name: string, number: boolean): GitsignError {
  return new GitsignError('USAGE', `--${name} needs ${number ? 'a number' : 'a value'}, e.g. --${name} ${EXAMPLE_VALUE[name] ?? (number ? '0' : 'VALUE')}`);
}

const camelCase = (name: string): string => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** An option token ("--name", "--name=value", "-f"): not "-", not a negative number (a value). */
const isOptionToken = (token: string): boolean => /^-[^0-9]/.test(token) && token !== '-';

/**
 * Before yargs validates: every option in `argv` is one the command knows (else "unknown option", with
 * the near names), and a string or number option is followed by its value (yargs would take "" or NaN
 * and go on). `--name=` is an explicit empty value, which the identity flags treat as not given (as Go).
 */
export function checkOptions(argv: string[], options: CommandOptions): void {
  if (argv.includes('--get-yargs-completions')) return;
  const command = commandOf(argv);
  const longOf = new Map<string, string>();
  for (const key of Object.keys(options.key)) longOf.set(key, key);
  for (const [key, aliases] of Object.entries(options.alias)) {
    if (!(key in options.key) && !aliases.some((a) => a in options.key)) continue; // a positional's entry
    const long = [key, ...aliases].find((n) => n.length > 1) ?? key;
    for (const n of [key, ...aliases]) longOf.set(n, long);
  }
  for (const [name, long] of [...longOf]) longOf.set(camelCase(name), long);
  const typed = (long: string, list: string[]): boolean => list.some((n) => longOf.get(n) === long);
  const hidden = new Set(options.hiddenOptions);
  const offered = [...new Set(longOf.values())].filter((n) => n.length > 1 && !hidden.has(n));
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === '--') break;
    if (!isOptionToken(token)) continue;
    const long = token.startsWith('--');
    const eq = token.indexOf('=');
    const names = long ? [token.slice(2, eq === -1 ? undefined : eq)] : [...token.slice(1, eq === -1 ? undefined : eq)];
    for (const [n, name] of names.entries()) {
      const negated = long && name.startsWith('no-') && typed(longOf.get(name.slice(3)) ?? '', options.boolean);
      const known = negated ? longOf.get(name.slice(3)) : longOf.get(name);
      if (known === undefined) {
        const shown = `${long ? '--' : '-'}${name}`;
        const hint = long ? didYouMean(name, offered, '--') : '';
        throw new GitsignError('USAGE', `unknown option ${quoted(shown)} for ${command}${hint ? `: ${hint}` : ` (${command} --help lists its options)`}`);
      }
      const takesValue = typed(known, options.string) || typed(known, options.number);
      // Only the last letter of a group of short options takes a value: after "=", else the next word.
      if (!takesValue || negated || n !== names.length - 1) continue;
      const value = eq === -1 ? argv[i + 1] : token.slice(eq + 1);
      if (eq === -1 && (value === undefined || value === '--' || isOptionToken(value))) throw needsValue(known, typed(known, options.number));
      if (typed(known, options.number) && (value.trim() === '' || Number.isNaN(Number(value)))) {
        throw new GitsignError('USAGE', `--${known} needs a number, not ${quoted(value)}, e.g. --${known} ${EXAMPLE_VALUE[known] ?? '0'}`);
      }
      if (eq === -1) i++;
    }
  }
}

/** checkOptions as a yargs middleware: yargs passes the command's instance second (its types leave it out). */
export function optionsCheck(argv: string[]): (args: unknown) => void {
  return ((_args: unknown, y: { getOptions(): CommandOptions }) => checkOptions(argv, y.getOptions())) as (args: unknown) => void;
}

/** What each command's positional arguments are, for "needs" messages. */
const MISSING_POSITIONAL: Record<string, string> = {
  'gitsign verify-tag': 'verify-tag needs a tag name: gitsign verify-tag v1.0',
  'gitsign verify-bundle': 'verify-bundle needs the signed file (or sha256:<hex> of it): gitsign verify-bundle FILE --bundle FILE.sigstore.json',
  'gitsign sandbox': 'sandbox needs an action, one of up, status, token, down or rotate-tuf: gitsign sandbox up --detach',
};

/** What each required option holds, as a whole option to copy. */
const REQUIRED_OPTION: Record<string, string> = {
  bundle: '--bundle FILE.sigstore.json, the Sigstore bundle to verify',
};

/** yargs' list "a, b, c", without the camelCase twins it adds for each dashed name. */
function namesOf(list: string): string[] {
  const names = list.split(', ').map((n) => n.trim());
  return names.filter((n) => !(/[A-Z]/.test(n) && names.some((m) => m !== n && camelCase(m) === n)));
}

/**
 * A yargs validation message (English: yargs' locale detection is off) as our usage error for
 * `gitsign <argv>`; a message that is not one of yargs' (a command's own) is kept as it is.
 */
export function usageError(message: string, argv: string[]): GitsignError {
  const command = commandOf(argv);
  const help = `${command} --help`;
  const isOption = (name: string): boolean => argv.some((t) => t === `--${name}` || t.startsWith(`--${name}=`));
  if (/^Not enough non-option arguments/.test(message)) {
    return new GitsignError('USAGE', MISSING_POSITIONAL[command] ?? `${command.slice(8)} needs more arguments (${help} shows them)`);
  }
  let m = /^Missing required arguments?: (.*)$/s.exec(message);
  if (m) {
    const needed = namesOf(m[1]).map((n) => REQUIRED_OPTION[n] ?? `--${n}`);
    return new GitsignError('USAGE', `${command.slice(8)} needs ${needed.join(' and ')} (${help} shows its usage)`);
  }
  m = /^Unknown arguments?: (.*)$/s.exec(message);
  if (m) {
    const names = namesOf(m[1]);
    const option = names.find(isOption);
    if (option) return new GitsignError('USAGE', `unknown option ${quoted(`--${option}`)} for ${command} (${help} lists its options)`);
    return new GitsignError('USAGE', `unexpected argument ${names.map((n) => quoted(n)).join(', ')} for ${command} (${help} shows its usage)`);
  }
  m = /^Invalid values:\s*Argument: (\S+), Given: (.*), Choices: (.*)$/s.exec(message);
  if (m) {
    const choices = [...m[3].matchAll(/"([^"]*)"/g)].map((c) => c[1]);
    const given = m[2].replace(/^"(.*)"$/s, '$1');
    const what = isOption(m[1]) ? `--${m[1]}` : m[1];
    const hint = didYouMean(given, choices, '');
    return new GitsignError('USAGE', `${quoted(given)} is not a valid ${what} for ${command}${hint ? ` (${hint})` : ''}: choose ${choices.join(', ')}`);
  }
  m = /^(?:Not enough arguments following|Missing argument values?): (.*)$/s.exec(message);
  if (m) return needsValue(namesOf(m[1])[0], false);
  return new GitsignError('USAGE', message);
}

/** `gitsign verify-tag NAME` on a lightweight tag: it has no signature; what it names may have one. */
export function lightweightTag(name: string, target: RawObject): GitsignError {
  const instead = target.type === 'commit' ? `verify the commit it names with: gitsign verify ${name}` : 'only annotated tags (git tag -s) and commits carry signatures';
  return new GitsignError('NOT_SIGNED', `${name} is a lightweight tag: it names ${target.type} ${target.sha} directly and has no signature of its own; ${instead}`);
}
