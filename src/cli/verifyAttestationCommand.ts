import type { ObjectKind } from '../attest/statement';
import { ATTESTATION_REFS } from '../attest/store';
import { type AttestationOutcome, type StoredAttestation, storedAttestations, verifyStoredAttestation } from '../attest/verify';
import { loadConfig } from '../config/config';
import { GitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { signerEmail } from '../git/rawobj';
import { describeIdentityCheck } from '../verify/gitObject';
import type { IdentityCheck } from '../verify/identity';
import { jsonReport, summaryLines } from '../verify/report';
import { verifySettings } from '../verify/settings';
import { type IdentityArgs, identityFromArgs } from './identityArgs';
import { errorLine, printErr, printOut } from './io';
import { jsonLines } from '../text/terminal';

/**
 * `gitsign verify-attestation [--type URI] [--objtype commit|tree] [identity flags] [--json] [REV]`:
 * verifies the attestations stored for REV (default HEAD) and for its tree, and prints each one's
 * summary and predicate (--json: one object per attestation). Exit 0 only when at least one was found
 * and every one shown verified.
 */
export interface VerifyAttestationArgs extends IdentityArgs {
  revision?: string;
  type?: string;
  objtype?: ObjectKind;
  'insecure-ignore-sct'?: boolean;
  'trusted-root'?: string;
  json?: boolean;
}

interface Target {
  kind: ObjectKind;
  sha: string;
}

/** A commit (or what peels to one) means its own and its tree's attestations; a tree only its own. */
async function targetsOf(catFile: CatFile, rev: string, objtype?: ObjectKind): Promise<{ targets: Target[]; committer: string | null }> {
  const commit = await catFile.read(`${rev}^{commit}`);
  let targets: Target[];
  let committer: string | null = null;
  if (commit) {
    const tree = /^tree ([0-9a-f]+)$/m.exec(commit.raw.toString('latin1'))?.[1] ?? '';
    targets = [
      { kind: 'commit', sha: commit.sha },
      { kind: 'tree', sha: tree },
    ];
    committer = signerEmail('commit', commit.raw);
  } else {
    const tree = await catFile.read(`${rev}^{tree}`);
    if (!tree) throw new GitsignError('GIT', `unknown revision ${rev}`);
    targets = [{ kind: 'tree', sha: tree.sha }];
  }
  return { targets: targets.filter((t) => !objtype || t.kind === objtype), committer };
}

function nothingFound(targets: Target[], refs: string[], type?: string): GitsignError {
  const wanted = targets.map((t) => ATTESTATION_REFS[t.kind]);
  if (refs.length === 0) {
    return new GitsignError('GIT', `no attestations in this repository: ${wanted.join(' and ')} ${wanted.length > 1 ? 'do' : 'does'} not exist (gitsign attest creates ${wanted.length > 1 ? 'them' : 'it'})`);
  }
  const of = type === undefined ? '' : ` of type ${type}`;
  return new GitsignError('GIT', `no attestation${of} for ${targets.map((t) => `${t.kind} ${t.sha}`).join(' or ')} (in ${refs.join(', ')})`);
}

function render(a: StoredAttestation, o: AttestationOutcome, identity: IdentityCheck, json: boolean): { out: string[]; err: string[] } {
  const where = `${a.ref} ${a.sha}/${a.name}`;
  const check = describeIdentityCheck(identity);
  if (json) {
    const report = { ...jsonReport(a.sha, a.kind, check, o), ref: a.ref, name: a.name, predicateType: o.statement?.predicateType ?? null, predicate: 'ok' in o ? o.statement.predicate : null };
    return { out: [JSON.stringify(report)], err: [] };
  }
  if (!('ok' in o)) return { out: [], err: [errorLine(`gitsign: ${where}: `, o.error.message)] };
  const note = identity.kind === 'committer' ? `identity checked: ${check} (no --certificate-identity given)` : undefined;
  const lines = [`${where}: ${o.statement.predicateType || '(no predicate type)'} (Rekor ${o.kind})`, ...summaryLines(o.ok, { validated: true, note })];
  return { out: [...lines, ...jsonLines(JSON.stringify(o.statement.predicate, null, 2) ?? 'null')], err: [] };
}

export async function verifyAttestationCommand(args: VerifyAttestationArgs): Promise<number> {
  const request = identityFromArgs(args);
  const rev = args.revision ?? 'HEAD';
  const catFile = new CatFile();
  let found: StoredAttestation[];
  let identity: IdentityCheck;
  let targets: Target[];
  let refs: string[];
  try {
    const t = await targetsOf(catFile, rev, args.objtype);
    targets = t.targets;
    // Without identity flags, as for commits: the certificate must be the committer's (of REV).
    identity = request.kind === 'committer-pending' ? { kind: 'committer', email: t.committer, issuer: request.issuer, issuerRegexp: request.issuerRegexp } : request;
    const stored = await storedAttestations(targets, catFile);
    ({ found, refs } = stored);
    if (found.length === 0) throw nothingFound(targets, refs);
  } finally {
    catFile.close();
  }
  const cfg = loadConfig();
  // Attestation envelopes carry no certificate: only the log has it, so there is no offline mode.
  const settings = await verifySettings(cfg, { offline: false, trustedRoot: args['trusted-root'], ignoreTlog: false, ignoreSct: Boolean(args['insecure-ignore-sct']) });
  const ctx = { trust: settings.trust.material, rekorUrl: settings.rekorUrl, ignoreSct: settings.ignoreSct, identity, predicateType: args.type };
  let shown = 0;
  let failures = 0;
  for (const a of found) {
    const outcome = await verifyStoredAttestation(a, ctx);
    if (!outcome) continue;
    shown++;
    if (!('ok' in outcome)) failures++;
    const { out, err } = render(a, outcome, identity, Boolean(args.json));
    if (out.length) printOut(...out);
    if (err.length) printErr(...err);
  }
  if (shown === 0) throw nothingFound(targets, refs, args.type);
  return failures === 0 ? 0 : 1;
}
