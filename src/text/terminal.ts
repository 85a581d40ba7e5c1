/**
 * Text from objects, certificates and servers, made harmless for a terminal. Every character a
 * terminal may act on instead of showing is replaced by a visible escape: C0 and C1 controls and DEL
 * (so ESC sequences, 8-bit CSI, CR, backspace, BEL, and LF inside a value), Unicode format characters
 * (bidi overrides and isolates, zero-width characters, BOM, tag characters), line and paragraph
 * separators, and lone surrogates. LF and CR become \n and \r, the rest \uXXXX (an astral character
 * as its two UTF-16 halves): the same escapes JSON uses, so a line of JSON stays valid JSON with the
 * same value. A tab is kept: it only moves the cursor right on its own line.
 *
 * A backslash is not escaped: a name that spells "\u001b" prints like an escaped ESC. That can mislead
 * about which bytes a value holds, never make the terminal do anything.
 */
const UNSAFE = /(?!\t)[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

function visible(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/** Printable ASCII and tabs, which UNSAFE never matches: most lines, checked far faster than UNSAFE is searched. */
const PLAIN = /^[\t\x20-\x7e]*$/;

/** One line for the terminal: nothing in it can move the cursor, change colours, or start a new line. */
export function terminalLine(text: string): string {
  return PLAIN.test(text) ? text : text.replace(UNSAFE, visible);
}

/** Lines for the terminal, each made safe, each ended by the one newline we put there. */
export function terminalLines(lines: readonly string[]): string {
  let out = '';
  for (const line of lines) out += `${terminalLine(line)}\n`;
  return out;
}

/**
 * A JSON text as lines: JSON.stringify escapes LF inside strings, so every LF in its output is
 * layout. Only for text JSON.stringify produced.
 */
export function jsonLines(json: string): string[] {
  return json.replace(/\n$/, '').split('\n');
}

/** At most `max` characters of a text another party chose (an error body, a description), marked when cut. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}
