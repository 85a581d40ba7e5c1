import type { AuditReport } from '../engine';
import type { PolicyVersion } from '../types';
import { entryAnchor, policyAnchor, versionPlaces } from './anchors';
import { diffLines, type Hunk, hunks, textLines } from './diff';
import { type Html, html } from './markup';

/**
 * The policy versions: the trust root's (or the --policy file), then each one adopted in the range,
 * with what changed from the version(s) it replaced (those that governed the commit adopting it), as
 * a line diff; every version's full text in a fold. The texts are shown as the bytes read, decoded as
 * UTF-8 (an invalid byte shows as U+FFFD; invisible characters as escapes).
 */
function hunkLines(h: Hunk): Html {
  const head = `@@ -${h.oldStart},${h.oldCount} +${h.newStart},${h.newCount} @@`;
  const kind = { ' ': 'same', '-': 'del', '+': 'add' } as const;
  return html`<span class="hunk">${head}</span>${h.lines.map((l) => html`<span class="${kind[l.op]}">${l.op}${l.text}</span>`)}`;
}

function diffBlock(from: PolicyVersion, fromPlace: number, to: PolicyVersion): Html {
  const hs = hunks(diffLines(textLines(from.source.toString('utf8')), textLines(to.source.toString('utf8'))));
  const title = html`Changes from <a href="#${policyAnchor(fromPlace)}">serial ${from.policy.serial}</a>`;
  if (!hs.length) return html`<p>${title}: none in the file's text.</p>`;
  return html`<p>${title}:</p><pre class="diff">${hs.map(hunkLines)}</pre>`;
}

function origin(r: AuditReport, v: PolicyVersion, i: number): Html {
  if (i > 0) return html`adopted by the commit <a href="#${entryAnchor({ type: 'commit', object: v.origin })}"><code>${v.origin}</code></a>`;
  return r.mode === 'file' ? html`given with --policy: <code>${v.origin}</code>` : html`the trust root: <code>${v.origin}</code>`;
}

export function policiesSection(r: AuditReport): Html {
  const places = versionPlaces(r.versions);
  const governedBy = new Map(r.entries.filter((e) => e.type === 'commit').map((e) => [e.object, e.policies]));
  const versions = r.versions.map((v, i) => {
    const text = textLines(v.source.toString('utf8'));
    const previous = i > 0 ? (governedBy.get(v.origin) ?? []).flatMap((o) => (places.has(o) ? [places.get(o) as number] : [])) : [];
    return html`<section class="policy" id="${policyAnchor(i)}">
<h3>Serial ${v.policy.serial}: ${origin(r, v, i)}</h3>
${previous.map((p) => diffBlock(r.versions[p], p, v))}
<details${i === 0 ? html` open` : ''}><summary>The file (${text.length} line${text.length === 1 ? '' : 's'})</summary><pre class="text">${text.map((l) => html`${l}
`)}</pre></details>
</section>
`;
  });
  return html`<section id="policies">
<h2>Policy versions</h2>
${versions}
</section>`;
}
