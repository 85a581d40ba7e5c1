import { terminalLine } from '../../text/terminal';

/**
 * HTML built so that nothing another party chose can become markup: the `html` template escapes every
 * value it is given, except `Html` values (markup this folder wrote with `html`). Text from commits,
 * certificates and policies can therefore only ever be text, in element content and in quoted
 * attribute values alike.
 */
export class Html {
  constructor(readonly markup: string) {}
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text as HTML: the markup characters as entities, and every character that would not show as itself
 * (controls, bidi overrides, zero-width characters, line separators) as a visible \uXXXX escape, as on
 * a terminal, so a page cannot show a name other than the bytes it holds.
 */
export function escapeText(text: string): string {
  return terminalLine(text).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}

export type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part instanceof Html) return part.markup;
  if (Array.isArray(part)) return part.map(render).join('');
  if (part === null || part === undefined || part === false) return '';
  return escapeText(String(part));
}

/** A template of markup whose every value is escaped (lists are joined, null/undefined/false are nothing). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}
