import type { AuditReport } from '../engine';
import { entriesSection } from './entries';
import { Html, html } from './markup';
import { policiesSection } from './policies';
import { STYLE } from './style';
import { type PageMeta, summarySection } from './summary';
import { timelineSection } from './timeline';

export type { PageMeta } from './summary';

/**
 * `gitsign audit --html FILE`: one self-contained, inert page. Its Content-Security-Policy (first in
 * the head, before anything from the audit) forbids every script and every load from anywhere; the
 * one style sheet is inline and the icon is empty, so opening the page makes no request. It needs no
 * script: links are anchors in the page and details open as <details>. Everything from commits,
 * certificates and policies reaches it through `html`, escaped.
 */
export const CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

export function auditPage(r: AuditReport, meta: PageMeta): string {
  return html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>gitsign audit of ${r.range}</title>
<style>${new Html(STYLE)}</style>
</head>
<body>
<nav><a href="#summary">Summary</a><a href="#objects">Commits and tags</a><a href="#timeline">Timeline</a><a href="#policies">Policy versions</a></nav>
<main>
${summarySection(r, meta)}
${entriesSection(r)}
${timelineSection(r)}
${policiesSection(r)}
</main>
</body>
</html>
`.markup;
}
