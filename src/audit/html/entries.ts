import { clip } from '../../text/terminal';
import type { AuditReport } from '../engine';
import type { AuditEntry, PolicyVersion, Status } from '../types';
import { entryAnchor, policyAnchor, versionPlaces } from './anchors';
import { type Html, html } from './markup';

/**
 * Every commit and tag, grouped by status with the failing ones first (violations first of all), in
 * history order within a group. Each is one line that opens on its details; the details carry the
 * object's anchor, so a link to it from the timeline or a policy version opens them.
 */
const ORDER: readonly Status[] = ['violation', 'revoked', 'unsigned', 'error', 'endorsed', 'ok'];

/** A message is the engine's sentence with certificate text in it: bounded on the page as on a terminal. */
const MAX_MESSAGE = 2000;

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

function signerLine(e: AuditEntry): string {
  const ids = e.signer?.identities ?? [];
  if (!ids.length) return e.status === 'unsigned' ? 'not signed' : 'no identity';
  return ids.length > 1 ? `${ids[0]} (+${ids.length - 1})` : ids[0];
}

function timeLine(e: AuditEntry): string {
  if (e.attestedTime) return e.attestedTime;
  return e.timeSource === 'unattested' ? 'no attested time' : '';
}

function list(items: readonly string[]): Html {
  return html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`;
}

function details(e: AuditEntry, versions: readonly PolicyVersion[], places: Map<string, number>): Html {
  const place = (origin: string): number | undefined => places.get(origin);
  // Version 0 is the trust root (or --policy file): never adopted by a commit of the range.
  const adopted = e.type === 'commit' ? place(e.object) : undefined;
  const adopts = adopted ? adopted : undefined;
  const governing = e.policies.map((origin) => {
    const i = place(origin);
    return i === undefined ? html`<code>${origin}</code>` : html`<a href="#${policyAnchor(i)}">${origin}</a>`;
  });
  return html`<dl class="facts" id="${entryAnchor(e)}">
<dt>${e.type}</dt><dd><code>${e.object}</code>${e.type === 'tag' && e.name !== undefined ? html` (${e.name})` : ''}</dd>
<dt>status</dt><dd><span class="badge s-${e.status}">${e.status}</span> ${e.reason}</dd>
<dt>why</dt><dd>${clip(e.message, MAX_MESSAGE)}</dd>
<dt>signer</dt><dd>${e.signer ? html`${list(e.signer.identities)}<span class="muted">issuer</span> ${e.signer.issuer ?? 'none'}` : 'none'}</dd>
<dt>principals</dt><dd>${e.principals.length ? e.principals.join(', ') : 'none'}</dd>
<dt>attested time</dt><dd>${e.attestedTime ?? 'none'}${e.timeSource ? ` (${e.timeSource})` : ''}</dd>
<dt>judged by</dt><dd>${e.policySerial === null ? 'no policy' : html`policy serial ${e.policySerial}: ${governing.length ? governing.map((g, i) => html`${i ? ', ' : ''}${g}`) : 'none'}`}</dd>
<dt>rule</dt><dd>${e.rule ?? 'none'}</dd>
${adopts !== undefined ? html`<dt>adopts</dt><dd><a href="#${policyAnchor(adopts)}">the policy of serial ${versions[adopts].policy.serial}</a></dd>` : ''}
${e.endorsedBy ? html`<dt>endorsed by</dt><dd><a href="#${entryAnchor({ type: 'commit', object: e.endorsedBy })}">the merge ${e.endorsedBy}</a></dd>` : ''}
${e.notChecked.length ? html`<dt>not checked</dt><dd>${list(e.notChecked)}</dd>` : ''}
</dl>`;
}

function entryItem(e: AuditEntry, versions: readonly PolicyVersion[], places: Map<string, number>): Html {
  const what = e.type === 'tag' ? html`<span>tag ${e.name ?? e.object.slice(0, 12)}</span>` : html`<code class="sha">${e.object.slice(0, 12)}</code>`;
  return html`<details class="entry s-${e.status}"><summary><span class="badge">${e.status}</span>${what}<span>${signerLine(e)}</span><span>${e.reason}</span><span class="muted">${timeLine(e)}</span></summary>
${details(e, versions, places)}</details>
`;
}

export function entriesSection(r: AuditReport): Html {
  const places = versionPlaces(r.versions);
  const groups = ORDER.map((status) => ({ status, entries: r.entries.filter((e) => e.status === status) })).filter((g) => g.entries.length);
  return html`<section id="objects">
<h2>Commits and tags</h2>
${groups.map(
  (g) => html`<section class="group s-${g.status}" id="status-${g.status}">
<h3>${g.status}: ${plural(g.entries.length, 'object')}</h3>
${g.entries.map((e) => entryItem(e, r.versions, places))}
</section>
`,
)}
</section>`;
}
