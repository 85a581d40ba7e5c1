/**
 * The page's one style sheet (inline: the page loads nothing). Status colours are the classes
 * s-<status>; the timeline places its marks with inline `left: N%` styles the page computes. The page
 * puts it in as markup, not text: it is ours, and a style element does not decode entities.
 */
export const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #fff; --panel: #f6f8fa; --line: #d1d9e0;
  --ok: #1a7f37; --endorsed: #0969da; --violation: #cf222e; --unsigned: #bc4c00; --revoked: #8250df; --error: #6e7781;
  --add: #dafbe1; --del: #ffebe9; --mark: #fff8c5; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --panel: #151b23; --line: #3d444d;
    --ok: #3fb950; --endorsed: #4493f8; --violation: #f85149; --unsigned: #db6d28; --revoked: #ab7df8; --error: #9198a1;
    --add: #12261e; --del: #25171c; --mark: #3b2e00; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 1200px; margin: 0 auto; padding: 0 16px 48px; }
nav { position: sticky; top: 0; z-index: 2; background: var(--bg); border-bottom: 1px solid var(--line); padding: 6px 16px; }
nav a { margin-right: 16px; }
a { color: var(--endorsed); }
h1 { font-size: 22px; margin: 16px 0 8px; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 16px 0 6px; overflow-wrap: anywhere; }
code, pre, .sha { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
section[id], .facts { scroll-margin-top: 48px; }
.verdict { padding: 8px 12px; border-radius: 6px; font-weight: 600; border-left: 6px solid; background: var(--panel); }
.verdict.clean { border-color: var(--ok); }
.verdict.failed { border-color: var(--violation); }
.about { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
.about dt, .facts dt { color: var(--muted); }
.about dd, .facts dd { margin: 0; overflow-wrap: anywhere; }
.counts { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0; }
.count { display: block; min-width: 96px; padding: 6px 10px; border: 1px solid var(--line); border-top: 4px solid; border-radius: 6px; text-decoration: none; color: var(--fg); }
.count .n { display: block; font-size: 20px; font-weight: 600; }
.count.zero { opacity: .55; }
.s-ok { --c: var(--ok); } .s-endorsed { --c: var(--endorsed); } .s-violation { --c: var(--violation); }
.s-unsigned { --c: var(--unsigned); } .s-revoked { --c: var(--revoked); } .s-error { --c: var(--error); }
.count, .group > h3 { border-color: var(--c); }
.group > h3 { border-left: 6px solid var(--c); padding-left: 8px; }
.badge { display: inline-block; min-width: 76px; padding: 0 6px; border-radius: 10px; background: var(--c); color: #fff; font-size: 12px; font-weight: 600; text-align: center; }
/* A long history is tens of thousands of entries: those off screen are not laid out until scrolled to. */
.entry { border-bottom: 1px solid var(--line); content-visibility: auto; contain-intrinsic-size: auto 28px; }
.entry > summary { display: grid; grid-template-columns: 88px 110px minmax(0, 1.4fr) minmax(0, 1fr) 190px; gap: 8px; align-items: baseline; padding: 3px 4px; cursor: pointer; list-style: none; }
.entry > summary::-webkit-details-marker { display: none; }
.entry > summary > * { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.entry > summary:hover { background: var(--panel); }
.entry[open] > summary { background: var(--panel); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; padding: 8px 12px 12px 100px; }
.facts:target { background: var(--mark); }
.facts ul { margin: 0; padding-left: 18px; }
.muted { color: var(--muted); }
.tl { margin: 12px 0; }
.tl-row { display: grid; grid-template-columns: minmax(120px, 260px) 48px 1fr; gap: 8px; align-items: center; min-height: 22px; }
.tl-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.tl-count { text-align: right; color: var(--muted); }
.tl-track { position: relative; height: 18px; background: var(--panel); border-radius: 3px; }
.tl-mark { position: absolute; top: 3px; width: 8px; height: 12px; margin-left: -4px; border-radius: 2px; background: var(--c); }
.tl-mark.tag { transform: rotate(45deg) scale(.8); }
.tl-mark:hover, .tl-mark:focus { outline: 2px solid var(--fg); z-index: 1; }
.tl-policy { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: var(--revoked); }
.tl-policy span { position: absolute; top: -1px; left: 4px; font-size: 11px; white-space: nowrap; }
.tl-axis { display: flex; justify-content: space-between; color: var(--muted); font-size: 12px; }
.policy { border: 1px solid var(--line); border-radius: 6px; padding: 0 12px 8px; margin: 12px 0; }
pre { background: var(--panel); padding: 8px; overflow-x: auto; margin: 6px 0; }
.diff span { display: block; white-space: pre; }
.diff .add { background: var(--add); }
.diff .del { background: var(--del); }
.diff .hunk { color: var(--muted); }
`;
