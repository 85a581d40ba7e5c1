import type { Signer } from './identity';
import { POLICY_VERSION } from './policy';

/**
 * The starting policy `gitsign policy init` writes: one principal per signing identity found (issuer
 * exact, subject exact, a GitHub workflow also pinned by its repository's ID), all of them in one group
 * that may sign everything, tag anything and change the policy alone. It is meant to be edited; every
 * value is written as a JSON string, which YAML 1.2 reads as the same string.
 */
export interface FoundIdentity {
  issuer: string;
  subject: string;
  /** Claims worth pinning (a workflow's sourceRepositoryIdentifier). */
  claims: [string, string][];
  commits: number;
  /** An SSH or OpenPGP key seen (issuer and subject are then empty), for a human to name. */
  key?: FoundKey;
}

export interface FoundKey {
  kind: 'ssh' | 'openpgp';
  fingerprint: string;
  /** SSH: `type base64`, the line the principal is written with. */
  publicKey?: string;
  /** OpenPGP: the certificate's user IDs (verified signatures), shown in a comment. */
  userIds: string[];
  /** False: an OpenPGP signature whose certificate no policy carried, so only its issuer fingerprint was read. */
  verified: boolean;
  /** The signatures name only a 16-digit key ID (older OpenPGP signers, such as GitHub's web-flow key before 2024): no principal can be written, only a note. */
  keyIdOnly?: boolean;
}

/** Distinct found identities have distinct keys. */
export const foundKey = (f: Omit<FoundIdentity, 'commits'>): string => JSON.stringify([f.issuer, f.subject, f.claims, f.key?.kind ?? null, f.key?.fingerprint ?? null]);

const PINNED_CLAIMS = ['sourceRepositoryIdentifier'];

export function foundIdentity(signer: Signer): Omit<FoundIdentity, 'commits'> | null {
  if (signer.key) {
    const k = signer.key;
    return { issuer: '', subject: '', claims: [], key: { kind: k.kind, fingerprint: k.fingerprint, ...(k.publicKey ? { publicKey: k.publicKey } : {}), userIds: k.kind === 'openpgp' ? signer.identities.slice(1, 4) : [], verified: true } };
  }
  const subject = signer.identities[0];
  if (!subject || !signer.issuer) return null;
  const claims = PINNED_CLAIMS.flatMap((name): [string, string][] => {
    const value = signer.claim(name);
    return value ? [[name, value]] : [];
  });
  return { issuer: signer.issuer, subject, claims };
}

/** A principal name from an identity: an email's local part, a workflow file's name, a URI's last segment. */
function baseName(subject: string): string {
  let raw = subject;
  const at = subject.indexOf('@');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(subject)) {
    // A workflow SAN ends with @REF (refs/heads/main): its name is the file's.
    const path = subject.replace(/@refs\/.*$/, '').replace(/@[^/]*$/, '').split(/[/?#]/).filter(Boolean);
    raw = (path[path.length - 1] ?? 'signer').replace(/\.ya?ml$/, '');
  } else if (at > 0) {
    raw = subject.slice(0, at);
  }
  const name = raw.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 60);
  return name || 'signer';
}

const q = (s: string): string => JSON.stringify(s);
/** A name as a mapping key: plain when YAML 1.2 reads it back as that string, else quoted. */
const key = (s: string): string => (/^[A-Za-z]/.test(s) && !/^(true|false|null)$/i.test(s) ? s : q(s));

/** A key's placeholder name: its kind and the start of its fingerprint (a human renames it). */
function keyName(k: FoundKey): string {
  return k.kind === 'ssh' ? `ssh-${k.fingerprint.slice(7).replace(/[^A-Za-z0-9]/g, '').slice(0, 8)}` : `openpgp-${k.fingerprint.slice(-16)}`;
}

/** The identity lines of a key principal: SSH with its public key; OpenPGP with its fingerprint, its certificate to be pasted. */
function keyLines(k: FoundKey): string[] {
  if (k.kind === 'ssh') return [`    # SSH key ${k.fingerprint}: rename this principal after its owner`, `    - ssh: ${q(k.publicKey ?? k.fingerprint)}`];
  // User IDs are the certificate's text: quoted, and no control or format character reaches the file.
  const who = k.userIds.length ? ` (${k.userIds.map((u) => q(u).replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '?')).join(', ')})` : '';
  return [
    `    # OpenPGP key${who}${k.verified ? '' : ', seen as the issuer of signatures no certificate verified'}: rename this principal,`,
    '    # and add its armored certificate (for GitHub\'s web-flow key: https://github.com/web-flow.gpg) so its signatures verify',
    `    - openpgp: {fingerprint: ${q(k.fingerprint)}}`,
  ];
}

/** A note for signers known only by key ID: a policy names keys by fingerprint, which a human must find. */
function keyIdNote(f: FoundIdentity): string[] {
  return [
    `  # OpenPGP key ID ${f.key?.fingerprint ?? ''} signed ${f.commits} commit${f.commits === 1 ? '' : 's'}, whose signatures name no fingerprint: find its certificate`,
    "  # (GitHub's web-flow key: https://github.com/web-flow.gpg) and add a principal with its fingerprint and certificate.",
  ];
}

export function starterPolicy(found: FoundIdentity[], range: string, commits: number): string {
  const names = new Map<string, FoundIdentity>();
  for (const f of found) {
    if (f.key?.keyIdOnly) continue;
    const base = f.key ? keyName(f.key) : baseName(f.subject);
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}-${i}`;
    names.set(name, f);
  }
  const all = `[${[...names.keys()].map(q).join(', ')}]`;
  const lines = [
    `# Signing policy of this repository (gitsign-policy(5)), written by \`gitsign policy init\` from`,
    `# the verified signatures of ${range.replace(/[\r\n]/g, ' ')} (${commits} commits, ${names.size} identities).`,
    '# Review it before committing it: every principal below may sign every path and tag, and change',
    '# this policy alone. Raise `serial` with every change, and keep one rule per area of the tree.',
    `version: ${POLICY_VERSION}`,
    'serial: 1',
    'principals:',
  ];
  for (const [name, f] of names) {
    lines.push(`  ${key(name)}:  # ${f.commits} commit${f.commits === 1 ? '' : 's'}`);
    if (f.key) {
      lines.push(...keyLines(f.key));
      continue;
    }
    lines.push(`    - issuer: ${q(f.issuer)}`, `      subject: ${q(f.subject)}`);
    if (f.claims.length) lines.push('      claims:', ...f.claims.map(([k, v]) => `        ${k}: ${q(v)}`));
  }
  for (const f of found) if (f.key?.keyIdOnly) lines.push(...keyIdNote(f));
  lines.push(
    'groups:',
    `  maintainers: ${all}`,
    'rules:',
    '  - paths: ["**"]',
    '    signers: ["maintainers"]',
    'tags:',
    '  - names: ["**"]',
    '    signers: ["maintainers"]',
    'policy:',
    '  signers: ["maintainers"]',
    '  threshold: 1',
    '# endorse: a failing commit of a merged branch is accepted when an authorized maintainer merged it.',
    'merges: endorse',
  );
  return `${lines.join('\n')}\n`;
}
