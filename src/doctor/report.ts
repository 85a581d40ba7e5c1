import { jsonLines } from '../text/terminal';

/**
 * What `gitsign doctor` found: one result per check, in the order they ran. The JSON form (`--json`)
 * is this object as is; its schema is documented in gitsign(1) and versioned by `schemaVersion`.
 */
export type Status = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable, dotted: "git.version", "config.gpg.format", "service.rekor", "clock.skew". */
  id: string;
  /** A few words for people. */
  title: string;
  status: Status;
  /** One sentence: what was found (or why the check was skipped). */
  summary: string;
  /** Commands that fix the problem, each runnable as is (absent when there is nothing to fix). */
  fix?: string[];
  /** Measured and read values (URLs, versions, times, milliseconds), for tools. */
  details?: Record<string, unknown>;
}

export interface DoctorReport {
  schemaVersion: 1;
  /** True when nothing failed: signing and verifying would work here (skipped checks do not count). */
  ok: boolean;
  gitsignVersion: string;
  offline: boolean;
  checks: CheckResult[];
}

const LABEL: Record<Status, string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** The report for people: one line per check, its fixes under it, a verdict last. */
export function humanLines(report: DoctorReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.title.length));
  const lines = [`gitsign doctor (gitsign-ts ${report.gitsignVersion})${report.offline ? ', offline: no network check' : ''}`];
  for (const c of report.checks) {
    lines.push(`  ${LABEL[c.status].padEnd(4)}  ${c.title.padEnd(width)}  ${c.summary}`);
    for (const cmd of c.fix ?? []) lines.push(`        ${''.padEnd(width)}  fix: ${cmd}`);
  }
  const fails = report.checks.filter((c) => c.status === 'fail').length;
  const warns = report.checks.filter((c) => c.status === 'warn').length;
  const counts = `${fails} problem${fails === 1 ? '' : 's'}, ${warns} warning${warns === 1 ? '' : 's'}`;
  lines.push(report.ok ? `${counts}: signing and verifying should work here.` : `${counts}: signing or verifying would fail here; run the fix commands above.`);
  return lines;
}

export function jsonReportLines(report: DoctorReport): string[] {
  return jsonLines(JSON.stringify(report, null, 2));
}

export function reportOf(gitsignVersion: string, offline: boolean, checks: CheckResult[]): DoctorReport {
  // Fields in the documented order, whichever order the checks built them in.
  const ordered = checks.map(({ id, title, status, summary, fix, details }) => ({ id, title, status, summary, ...(fix ? { fix } : {}), ...(details ? { details } : {}) }));
  return { schemaVersion: 1, ok: checks.every((c) => c.status !== 'fail'), gitsignVersion, offline, checks: ordered };
}

/** A duration for people: "4.2 s", "17 min", "5 h", "12 days". */
export function duration(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 120_000) return `${(abs / 1000).toFixed(1)} s`;
  if (abs < 2 * 3600_000) return `${Math.round(abs / 60_000)} min`;
  if (abs < 2 * 86_400_000) return `${Math.round(abs / 3600_000)} h`;
  return `${Math.round(abs / 86_400_000)} days`;
}
