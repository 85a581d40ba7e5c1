import type { AuditReport } from '../engine';
import type { AuditEntry } from '../types';
import { entryAnchor, policyAnchor } from './anchors';
import { type Html, html } from './markup';

/**
 * Who signed over time: one row per signer (first identity and issuer), a mark per commit or tag at
 * its attested time (never the committer date, which the signer chose), coloured by status, each a
 * link to its details; the policy versions adopted in the range as lines at their commits' times.
 * Marks are placed with CSS percentages: no script and no image.
 */
interface Row {
  identity: string;
  issuer: string;
  marks: { entry: AuditEntry; time: number }[];
  /** The earliest mark (entries come in history order, not time order). */
  first: number;
}

const AXIS_LABELS = 5;

const label = (t: number): string => `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')}Z`;

function rowsOf(entries: readonly AuditEntry[]): Row[] {
  const rows = new Map<string, Row>();
  for (const entry of entries) {
    const identity = entry.signer?.identities[0];
    if (identity === undefined || !entry.attestedTime) continue;
    const issuer = entry.signer?.issuer ?? '';
    const key = JSON.stringify([issuer, identity]);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { identity, issuer, marks: [], first: Infinity }));
    const time = Date.parse(entry.attestedTime);
    row.marks.push({ entry, time });
    row.first = Math.min(row.first, time);
  }
  return [...rows.values()].sort((a, b) => a.first - b.first);
}

export function timelineSection(r: AuditReport): Html {
  const rows = rowsOf(r.entries);
  const times = rows.flatMap((row) => row.marks.map((m) => m.time));
  const away = r.entries.length - times.length;
  const note = away ? html`<p class="muted">${away} of ${r.entries.length} objects have no signer with an attested time and are not on the timeline.</p>` : '';
  if (!times.length) return html`<section id="timeline"><h2>Who signed, over time</h2><p>No signature with an attested time: nothing to place on a timeline.</p>${note}</section>`;
  const min = times.reduce((a, b) => Math.min(a, b));
  const max = times.reduce((a, b) => Math.max(a, b));
  const at = (t: number): string => `left: ${(max > min ? ((t - min) / (max - min)) * 100 : 50).toFixed(3)}%`;
  const byObject = new Map(r.entries.filter((e) => e.type === 'commit').map((e) => [e.object, e]));
  const changes = r.versions.flatMap((v, i) => {
    const when = byObject.get(v.origin)?.attestedTime;
    return i > 0 && when ? [{ i, serial: v.policy.serial, origin: v.origin, time: Date.parse(when) }] : [];
  });
  const axis = Array.from({ length: AXIS_LABELS }, (_, i) => html`<span>${label(min + ((max - min) * i) / (AXIS_LABELS - 1))}</span>`);
  return html`<section id="timeline">
<h2>Who signed, over time</h2>
<p class="muted">By attested time (the log's or a timestamp authority's), from ${label(min)} to ${label(max)}. Each mark is a commit (a tag is turned) and links to its details${changes.length ? '; lines are the policy versions adopted in the range' : ''}.</p>
<div class="tl">
${changes.length ? html`<div class="tl-row"><span class="tl-name muted">policy versions</span><span class="tl-count"></span><div class="tl-track">${changes.map(
    (c) => html`<a class="tl-policy" style="${at(c.time)}" href="#${policyAnchor(c.i)}" title="policy serial ${c.serial} adopted by ${c.origin}"><span>${c.serial}</span></a>`,
  )}</div></div>` : ''}
${rows.map(
  (row) => html`<div class="tl-row signer"><span class="tl-name" title="${row.identity} (issuer ${row.issuer || 'none'})">${row.identity}</span><span class="tl-count">${row.marks.length}</span><div class="tl-track">${row.marks.map(
    ({ entry, time }) =>
      html`<a class="tl-mark s-${entry.status}${entry.type === 'tag' ? ' tag' : ''}" style="${at(time)}" href="#${entryAnchor(entry)}" title="${entry.type === 'tag' ? `tag ${entry.name ?? ''}` : entry.object.slice(0, 12)} ${entry.status} ${entry.attestedTime ?? ''}"></a>`,
  )}</div></div>
`,
)}</div>
<div class="tl-row"><span></span><span></span><div class="tl-axis">${axis}</div></div>
${note}
</section>`;
}
