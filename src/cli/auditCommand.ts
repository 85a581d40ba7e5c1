import { type AuditReport, type AuditStart, auditFailed, runAudit, startAudit } from '../audit/engine';
import { entryLine, summaryJson, summaryLines } from '../audit/report';
import { loadConfig } from '../config/config';
import { GitsignError, toGitsignError } from '../errors';
import { writeAuditPage } from '../audit/html/write';
import { readPolicyFile } from '../policy/file';
import { verifySettings } from '../verify/settings';
import { auditVerifier, type TrustArgs, trustFlags } from './auditVerifier';
import { openPathCache } from '../audit/pathCache';
import { errorLine, printErr, printLines } from './io';
import { progressLine } from './progress';
import { VERSION } from './version';
import { tuneForBatch } from './batchTuning';

/**
 * `gitsign audit [RANGE] [--trust-root REV | --policy FILE] [--ref REF] [--json] [--html FILE] [--keep-going]` with
 * `gitsign verify`'s trust options: each commit and annotated tag of RANGE judged by the repository's
 * signing policy (gitsign-policy(5)). Exit 0: every object ok or endorsed; 1: a violation (or an
 * unsigned, revoked or unverifiable object); 2: the audit could not run.
 */
export interface AuditArgs extends TrustArgs {
  range?: string;
  'trust-root'?: string;
  policy?: string;
  ref?: string;
  json?: boolean;
  /** Also write the report as one self-contained HTML page to this file. */
  html?: string;
  'keep-going'?: boolean;
}

export const EXIT_COULD_NOT_RUN = 2;

function* reportLines(report: AuditReport, json: boolean, failed: boolean): Generator<string> {
  if (json) yield* report.lines;
  else for (const e of report.entries) yield entryLine(e);
  if (json) yield summaryJson(report, failed);
  else yield* summaryLines(report);
}

function print(report: AuditReport, json: boolean): boolean {
  const failed = auditFailed(report);
  printLines(reportLines(report, json, failed));
  return failed;
}

export async function auditCommand(args: AuditArgs): Promise<number> {
  const progress = progressLine('gitsign audit');
  let started: AuditStart | undefined;
  try {
    if (args.policy !== undefined && args['trust-root'] !== undefined) throw new GitsignError('USAGE', '--policy and --trust-root exclude each other: --policy judges every commit by one policy from outside');
    if (args.html === '' || args.html === '-') throw new GitsignError('USAGE', '--html needs the path of the page to write: standard output (-) carries the text or --json report');
    const range = args.range ?? 'HEAD';
    // git walks the history while the configuration, trust material and caches load.
    tuneForBatch();
    started = startAudit(range, args.ref, undefined, args.policy === undefined && args['trust-root'] === undefined);
    const cfg = loadConfig();
    const flags = trustFlags(args, cfg);
    const settings = await verifySettings(cfg, flags);
    // From the configuration already read (one git process fewer).
    const configured = args.policy === undefined && args['trust-root'] === undefined ? cfg.auditTrustRoot : '';
    // Read once: the audit and its OpenPGP keyring judge by the same bytes.
    const policyFile = args.policy === undefined ? undefined : { name: args.policy, bytes: readPolicyFile(args.policy) };
    const trustRoot = args['trust-root'] ?? (configured || undefined);
    const report = await runAudit({
      range,
      started,
      ref: args.ref,
      trustRoot,
      policyFile,
      keepGoing: Boolean(args['keep-going']),
      ...(await auditVerifier(args, cfg, flags, settings, { range, trustRoot, policyFile: policyFile?.bytes })),
      approvals: { trust: settings.trust.material, rekorUrl: settings.rekorUrl, ignoreSct: settings.ignoreSct, offline: flags.offline },
      pathCache: args.cache === false ? undefined : await openPathCache(VERSION),
      progress: (done, total) => progress.update(done, total),
    });
    progress.end();
    // The page first: when it cannot be written the audit did not deliver what was asked (exit 2, nothing printed).
    if (args.html !== undefined) writeAuditPage(args.html, report, VERSION);
    return print(report, Boolean(args.json)) ? 1 : 0;
  } catch (err) {
    progress.end();
    const e = toGitsignError(err);
    printErr(errorLine(`gitsign: audit: could not run: ${e.code === 'INTERNAL' ? 'internal error: ' : ''}`, e.message));
    return EXIT_COULD_NOT_RUN;
  } finally {
    started?.close();
  }
}
