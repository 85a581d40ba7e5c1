import type { AuditReport } from '../engine';
import { FAILING, STATUSES } from '../types';
import { policyAnchor } from './anchors';
import { type Html, html } from './markup';

/** What the page says it is: the tool that wrote it and when (shown; never fetched). */
export interface PageMeta {
  generator: string;
  generatedAt: Date;
}

/** The verdict, what was audited and from which trust root, and one count per status (each a link to its group). */
export function summarySection(r: AuditReport, meta: PageMeta): Html {
  const commits = r.entries.filter((e) => e.type === 'commit').length;
  const tags = r.entries.length - commits;
  const failing = r.entries.filter((e) => FAILING.has(e.status)).length;
  const verdict = failing
    ? html`<p class="verdict failed" id="verdict">Failed: ${failing} of ${r.entries.length} objects are not authorized by the policy (or could not be checked).</p>`
    : html`<p class="verdict clean" id="verdict">Clean: every commit and tag is authorized by the policy.</p>`;
  const policy =
    r.mode === 'file'
      ? html`<dt>policy</dt><dd><a href="#${policyAnchor(0)}">${r.trustRoot.origin}</a> (serial ${r.trustRoot.serial}), given with --policy: every commit was judged by it; the repository's own policy files were not used</dd>`
      : html`<dt>trust root</dt><dd><a href="#${policyAnchor(0)}">${r.trustRoot.origin}</a> (policy serial ${r.trustRoot.serial})</dd>
<dt>policy versions</dt><dd>${r.adopted.length ? `${r.adopted.length} adopted in the range (serials ${r.adopted.map((a) => a.serial).join(', ')})` : 'none adopted in the range'}</dd>`;
  return html`<section id="summary">
<h1>gitsign audit of ${r.range}</h1>
${verdict}
<div class="counts">${STATUSES.map((s) =>
    r.counts[s]
      ? html`<a class="count s-${s}" id="count-${s}" href="#status-${s}"><span class="n">${r.counts[s]}</span>${s}</a>`
      : html`<span class="count s-${s} zero" id="count-${s}"><span class="n">0</span>${s}</span>`,
  )}</div>
<dl class="about">
<dt>range</dt><dd><code>${r.range}</code>: ${commits} commit${commits === 1 ? '' : 's'} and ${tags} annotated tag${tags === 1 ? '' : 's'}</dd>
<dt>tip</dt><dd><code>${r.tip}</code></dd>
<dt>ref</dt><dd>${r.ref ?? "unknown: rules with refs did not apply"}</dd>
${policy}
<dt>written by</dt><dd>${meta.generator} at ${meta.generatedAt.toISOString()}</dd>
</dl>
</section>`;
}
