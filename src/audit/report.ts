import { clip } from '../text/terminal';
import type { AuditReport } from './engine';
import { type AuditEntry, STATUSES } from './types';

/**
 * How an audit is printed: one line per commit or tag, then a summary (people); or one JSON object
 * per commit or tag, then one summary object (--json). Text from objects and certificates is escaped
 * by printOut, which every line goes through.
 */
const WIDTH = Math.max(...STATUSES.map((s) => s.length));

export function entryLine(e: AuditEntry): string {
  const what = e.type === 'tag' ? `tag ${e.name ?? e.object.slice(0, 12)}` : e.object.slice(0, 12);
  const signer = e.signer?.identities[0] ?? '-';
  const parts = [
    e.status.padEnd(WIDTH),
    what,
    e.reason,
    `signer=${e.kind && e.kind !== 'sigstore' ? `${e.kind}:` : ''}${signer}`,
    `time=${e.attestedTime ?? (e.claimedTime ? `claimed:${e.claimedTime}` : e.timeSource === 'unattested' ? 'unattested' : '-')}`,
    `serial=${e.policySerial ?? '-'}`,
    ...(e.rule ? [`rule=${e.rule}`] : []),
  ];
  const notes = e.notChecked.length ? ` [not checked: ${e.notChecked.join('; ')}]` : '';
  return `${parts.join('  ')}: ${clip(e.message, 500)}${notes}`;
}

/** How many objects each format signed, and how many of their times a log attests or the signer only claims. */
function kindsLine(entries: AuditEntry[]): string {
  const count = (f: (e: AuditEntry) => boolean): number => entries.filter(f).length;
  const kinds = (['sigstore', 'ssh', 'openpgp'] as const).map((k) => `${count((e) => e.kind === k)} ${k}`).join(', ');
  return `audit: signatures: ${kinds}, ${count((e) => e.kind === null)} unsigned; time attested by a log or timestamp: ${count((e) => e.attestedTime !== null)}, only claimed by the signer: ${count((e) => e.claimedTime !== undefined)}`;
}

export function summaryLines(r: AuditReport): string[] {
  const commits = r.entries.filter((e) => e.type === 'commit').length;
  const tags = r.entries.length - commits;
  const counts = STATUSES.map((s) => `${r.counts[s]} ${s}`).join(', ');
  const lines = [`audit: ${commits} commit${commits === 1 ? '' : 's'} and ${tags} tag${tags === 1 ? '' : 's'} of ${r.range} (tip ${r.tip}, ref ${r.ref ?? 'unknown: rules with refs did not apply'}): ${counts}`];
  if (r.mode === 'file') {
    lines.push(`audit: every commit was judged by the policy ${r.trustRoot.origin} (serial ${r.trustRoot.serial}), given with --policy; the repository's own policy files were not used`);
  } else {
    lines.push(`audit: trust root: ${r.trustRoot.origin}, policy serial ${r.trustRoot.serial}`);
    if (r.adopted.length) lines.push(`audit: policy versions adopted in the range: ${r.adopted.map((a) => `serial ${a.serial} at ${a.origin.slice(0, 12)}`).join(', ')}`);
  }
  // Only for mixed histories: a gitsign-only audit's times are all attested or all flagged per line.
  if (r.entries.some((e) => e.kind === 'ssh' || e.kind === 'openpgp')) lines.push(kindsLine(r.entries));
  return lines;
}

export function summaryJson(r: AuditReport, failed: boolean): string {
  const { commits } = r;
  return JSON.stringify({
    type: 'summary',
    range: r.range,
    tip: r.tip,
    ref: r.ref,
    mode: r.mode,
    trustRoot: r.trustRoot,
    adopted: r.adopted,
    commits,
    tags: r.lines.length - commits,
    counts: r.counts,
    clean: !failed,
  });
}
