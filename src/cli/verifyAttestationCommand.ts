import type { ObjectKind } from '../attest/statement';
import { ATTESTATION_REFS } from '../attest/store';
import { type AttestationOutcome, type StoredAttestation, storedAttestations, verifyStoredAttestation } from '../attest/verify';
import { loadConfig } from '../config/config';
import { GitsignError } from '../errors';
import { CatFile } from '../git/catFile';
import { signerEmail } from '../git/rawobj';
import type { IdentityCheck } from '../verify/identity';
import { verifySettings } from '../verify/settings';
import { printReport } from './colour';
import { type IdentityArgs, identityFromArgs } from './identityArgs';
import { errorLine } from './io';
import { GOOD_SIGNATURE, identityCheckRan, identityNote, jsonReport, summaryLines } from './verifyReport';
import { jsonLines } from '../text/terminal';

/**
 * `gitsign verify-attestation [--type URI] [--objtype commit|tree] [identity flags] [--json] [--quiet] [REV]`:
 * verifies the attestations stored for REV (default HEAD) and for its tree, and prints each one's
 * summary and predicate (--json: one object per attestation; --quiet: only failures). Exit 0 only
 * when at least one was found and every one shown verified.
 */
export interface VerifyAttestationArgs extends IdentityArgs {
  revision?: string;
  type?: string;
  objtype?: ObjectKind;
  'insecure-ignore-sct'?: boolean;
  'insecure-ignore-tlog'?: boolean;
  offline?: boolean;
  'trusted-root'?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * An attestation's envelope carries no certificate, and gitsign stores no log entry next to it: the
 * certificate and the attested time are only in Rekor. So there is no offline verification, not even
 * with --insecure-ignore-tlog (which still finds the certificate in the log); say so before any work.
 */
function refuseOffline(flag: boolean, configured: boolean): void {
  if (!flag && !configured) return;
  const why = flag ? '--offline' : 'gitsign.offline or GITSIGN_OFFLINE is set';
  throw new GitsignError(
    'USAGE',
    `attestations cannot be verified offline (${why}): their envelopes hold no certificate, which only their Rekor entries have; verify them with network access to Rekor`,
  );
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

function render(a: StoredAttestation, o: AttestationOutcome, identity: IdentityCheck, json: boolean): { out: string[]; err: string[]; goodLine?: number } {
  const where = `${a.ref} ${a.sha}/${a.name}`;
  if (json) {
    const report = {
      ...jsonReport(a.sha, a.kind, identityCheckRan(o) ? identity : null, o),
      ref: a.ref,
      name: a.name,
      predicateType: o.statement?.predicateType ?? null,
      predicate: 'ok' in o ? o.statement.predicate : null,
    };
    return { out: [JSON.stringify(report)], err: [] };
  }
  if (!('ok' in o)) return { out: [], err: [errorLine(`gitsign: ${where}: `, o.error.message)] };
  // The entry's kind as --json's tlog.kind has it.
  const logged = o.ok.tlog.kind ? `Rekor ${o.ok.tlog.kind}` : 'transparency log not checked';
  const lines = [`${where}: ${o.statement.predicateType || '(no predicate type)'} (${logged})`, ...summaryLines(o.ok, { validated: true, note: identityNote(identity) })];
  return { out: [...lines, ...jsonLines(JSON.stringify(o.statement.predicate, null, 2) ?? 'null')], err: [], goodLine: lines.findIndex((l) => l.startsWith(GOOD_SIGNATURE)) };
}

export async function verifyAttestationCommand(args: VerifyAttestationArgs): Promise<number> {
  const request = identityFromArgs(args);
  const cfg = loadConfig();
  refuseOffline(Boolean(args.offline), cfg.offline);
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
    identity = request.kind === 'committer-pending' ? { kind: 'committer', email: t.committer, role: 'committer', issuer: request.issuer, issuerRegexp: request.issuerRegexp } : request;
    const stored = await storedAttestations(targets, catFile);
    ({ found, refs } = stored);
    if (found.length === 0) throw nothingFound(targets, refs);
  } finally {
    catFile.close();
  }
  const ignoreTlog = Boolean(args['insecure-ignore-tlog']);
  const settings = await verifySettings(cfg, { offline: false, trustedRoot: args['trusted-root'], ignoreTlog, ignoreSct: Boolean(args['insecure-ignore-sct']) });
  const ctx = { trust: settings.trust.material, rekorUrl: settings.rekorUrl, ignoreSct: settings.ignoreSct, ignoreTlog, identity, predicateType: args.type };
  let shown = 0;
  let failures = 0;
  for (const a of found) {
    const outcome = await verifyStoredAttestation(a, ctx);
    if (!outcome) continue;
    shown++;
    if (!('ok' in outcome)) failures++;
    else if (args.quiet) continue;
    printReport(render(a, outcome, identity, Boolean(args.json)));
  }
  if (shown === 0) throw nothingFound(targets, refs, args.type);
  return failures === 0 ? 0 : 1;
}
