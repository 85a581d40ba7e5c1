import { GitsignError } from '../errors';
import { parseSshPublicKey, type SshPublicKey } from './publicKey';

/**
 * One line of git's gpg.ssh.allowedSignersFile (ssh-keygen(1), ALLOWED SIGNERS): principals, options
 * (namespaces="...", valid-after="...", valid-before="...", cert-authority; ssh-keygen knows no
 * other, not even sshd's no-touch-required), key type, base64 key, comment. The principals field may be left out (a bare `ssh-ed25519 AAAA... comment` line): a policy
 * names its principals itself, so the field is kept only to be shown.
 */
export interface AllowedSigner {
  principals: string[];
  /** Namespace patterns the key may sign in; null: any. */
  namespaces: string[] | null;
  validAfter: Date | null;
  validBefore: Date | null;
  key: SshPublicKey;
}

export const MAX_ALLOWED_SIGNERS_LINE = 16 * 1024;

const bad = (detail: string): GitsignError => new GitsignError('SSH_MALFORMED', `the allowed_signers line ${detail}`);

/** Whitespace-separated fields; a double-quoted run (with \" inside) stays in one field. */
function fields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted && c === '\\' && line[i + 1] === '"') {
      cur += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (!quoted && (c === ' ' || c === '\t')) {
      if (cur) out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (quoted) throw bad('has an unterminated quote');
  if (cur) out.push(cur);
  return out;
}

const isKeyType = (s: string): boolean => /^(ssh-|ecdsa-|sk-)[A-Za-z0-9@.-]+$/.test(s);

/** An option value: quoted, with the quotes taken off. */
function unquote(name: string, raw: string): string {
  if (!/^".*"$/s.test(raw)) throw bad(`has ${name}= without a double-quoted value`);
  return raw.slice(1, -1);
}

/** ssh-keygen's YYYYMMDD[HHMM[SS]]; only in UTC (a Z at the end): a verifier's result must not depend on its time zone. */
export function sshTime(name: string, text: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?([Zz])?$/.exec(text);
  if (!m) throw bad(`has ${name}="${text.slice(0, 40)}", not a time as YYYYMMDD[HHMM[SS]]Z`);
  if (!m[7]) throw bad(`has ${name}="${text}" in local time: write it in UTC with a Z (${text}Z)`);
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4] ?? '0', m[5] ?? '0', m[6] ?? '0'].map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) throw bad(`has ${name}="${text}", which is no date`);
  return t;
}

function readOptions(text: string, into: Omit<AllowedSigner, 'key' | 'principals'>): void {
  // Options are separated by commas outside quotes.
  const opts: string[] = [];
  let cur = '';
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      opts.push(cur);
      cur = '';
    } else cur += c;
  }
  opts.push(cur);
  for (const opt of opts) {
    const eq = opt.indexOf('=');
    const name = (eq < 0 ? opt : opt.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? null : opt.slice(eq + 1);
    if (name === 'cert-authority') throw new GitsignError('SSH_UNSUPPORTED', 'the allowed_signers line is cert-authority: SSH certificates are not supported; name each signer key');
    if (value === null) throw bad(`has the unknown option ${JSON.stringify(opt.slice(0, 40))}`);
    else if (name === 'namespaces') into.namespaces = unquote(name, value).split(',').filter(Boolean);
    else if (name === 'valid-after') into.validAfter = sshTime(name, unquote(name, value));
    else if (name === 'valid-before') into.validBefore = sshTime(name, unquote(name, value));
    else throw bad(`has the unknown option ${JSON.stringify(name.slice(0, 40))}`);
  }
}

/** Parses one allowed_signers line (or a bare public key line). */
export function parseAllowedSigner(line: string): AllowedSigner {
  if (line.length > MAX_ALLOWED_SIGNERS_LINE) throw bad(`is ${line.length} characters long (at most ${MAX_ALLOWED_SIGNERS_LINE})`);
  if (/[\r\n\0]/.test(line)) throw bad('is more than one line');
  const f = fields(line.trim());
  let i = 0;
  const out: Omit<AllowedSigner, 'key'> = { principals: [], namespaces: null, validAfter: null, validBefore: null };
  if (f[i] !== undefined && !isKeyType(f[i])) out.principals = f[i++].split(',').map((p) => p.replace(/^"(.*)"$/s, '$1')).filter(Boolean);
  if (f[i] !== undefined && !isKeyType(f[i])) readOptions(f[i++], out);
  const [type, b64] = [f[i], f[i + 1]];
  if (type === undefined || b64 === undefined) throw bad('has no key type and base64 key');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw bad('has a key that is not base64');
  const key = parseSshPublicKey(Buffer.from(b64, 'base64'));
  if (key.type !== type) throw bad(`says ${JSON.stringify(type.slice(0, 64))} but its key is ${key.type}`);
  return { ...out, key };
}

/** OpenSSH's pattern lists: * and ?, a leading ! refuses; matches when a positive pattern does and no negated one does. */
export function matchesPatternList(value: string, patterns: readonly string[]): boolean {
  const glob = (p: string): RegExp => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 's');
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (glob(p.slice(1)).test(value)) return false;
    } else if (glob(p).test(value)) matched = true;
  }
  return matched;
}
