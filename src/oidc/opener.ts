import { spawn, type ChildProcess } from 'node:child_process';
import { GitsignError } from '../errors';

/**
 * Opens the login URL in a browser: gitsign.urlOpener when set, else the `open` package. The opener is
 * read as gitsign reads it: split into words (whitespace separates, '...' and "..." group, a backslash
 * is an ordinary character so Windows paths need no doubling), then each word rendered as a Go
 * text/template whose data has one field, URL. It runs without a shell, so the URL is never
 * interpreted. The answer says whether a browser could be started; a program that fails at once (no
 * display, no browser, xdg-open's "no method available") counts as not opened, so the caller falls back.
 */
export const URL_PLACEHOLDER = '{{.URL}}';

/** How long an opener may take to fail before it counts as started (openers hand over and exit). */
const FAILURE_WINDOW_MS = 3_000;

/** The characters Go's splitter and its template lexer take for whitespace. */
const SPACE = ' \t\r\n';
const isSpace = (c: string | undefined): boolean => c !== undefined && c !== '' && SPACE.includes(c);

const configError = (command: string, why: string): GitsignError => new GitsignError('CONFIG', `gitsign.urlOpener ${JSON.stringify(command)}: ${why}`);

/** gitsign's word splitting: no escapes, nothing expanded; an empty quoted word is a word. */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: string | null = null;
  for (const c of command) {
    if (quote) {
      if (c === quote) quote = null;
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (isSpace(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw configError(command, `unterminated ${quote} quote`);
  if (inWord) words.push(cur);
  return words;
}

/** One piece of a word's template: literal text, or the URL. */
type Piece = { text: string } | { url: true };

/**
 * A word as Go's text/template parses it, for the actions an opener uses: {{.URL}} (or {{$.URL}}) with
 * any spacing inside the braces, the trim markers {{- and -}}, and comments {{/* ... *\/}}. Any other
 * action (a function call, a pipeline, another field) is refused rather than half-understood.
 */
function parseWord(command: string, word: string): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  let trimNext = false;
  for (;;) {
    const open = word.indexOf('{{', pos);
    let text = word.slice(pos, open === -1 ? word.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    if (open === -1) {
      if (text) pieces.push({ text });
      return pieces;
    }
    let start = open + 2;
    // A left trim marker is "-" then a space; it trims the text before the action.
    if (word[start] === '-' && isSpace(word[start + 1])) {
      text = text.replace(/[ \t\r\n]+$/, '');
      start += 2;
    }
    if (text) pieces.push({ text });
    const close = word.indexOf('}}', start);
    if (close === -1) throw configError(command, `the word ${JSON.stringify(word)} has an unclosed action (write {{.URL}}, quoted if it has spaces inside the braces)`);
    let inner = word.slice(start, close);
    // A right trim marker is a space then "-" just before the braces; it trims the text after the action.
    trimNext = inner.length >= 2 && inner.endsWith('-') && isSpace(inner[inner.length - 2]);
    if (trimNext) inner = inner.slice(0, -2);
    if (inner.startsWith('/*')) {
      // Go allows nothing between the comment's end and the closing braces (or the trim marker).
      if (inner.length < 4 || !inner.endsWith('*/')) throw configError(command, `the comment in ${JSON.stringify(word)} does not end right before the closing braces`);
    } else {
      const action = inner.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (action !== '.URL' && action !== '$.URL') {
        throw configError(command, `the word ${JSON.stringify(word)} has the action {{${inner}}}; only {{.URL}} is supported`);
      }
      pieces.push({ url: true });
    }
    pos = close + 2;
  }
}

/** The opener's argv for a URL; every configuration error is found with any URL, so it can be checked first. */
export function openerArgv(command: string, url: string): string[] {
  if (/[\r\n]/.test(command)) throw configError(command, 'a command cannot contain a line break');
  const words = splitWords(command).map((w) => parseWord(command, w));
  if (words.length === 0) throw configError(command, 'the command is empty');
  if (!words.some((pieces) => pieces.some((p) => 'url' in p))) throw configError(command, `the command must have ${URL_PLACEHOLDER} in its arguments`);
  return words.map((pieces) => pieces.map((p) => ('url' in p ? url : p.text)).join(''));
}

/** Resolves with null once the child has run FAILURE_WINDOW_MS or exited 0, else with why it failed. */
function outcome(child: ChildProcess): Promise<string | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(null), FAILURE_WINDOW_MS);
    const done = (why: string | null): void => {
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      child.on('error', () => undefined);
      child.unref();
      resolve(why);
    };
    child.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    child.once('exit', (code, signal) => done(code === 0 ? null : signal ? `killed by ${signal}` : `exit status ${code}`));
  });
}

/** null when a browser was started, else a short reason. */
export async function openBrowser(url: string, urlOpener: string): Promise<string | null> {
  let child: ChildProcess;
  try {
    if (urlOpener) {
      const [cmd, ...args] = openerArgv(urlOpener, url);
      child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    } else {
      const open = (await import('open')).default;
      child = await open(url);
    }
  } catch (err) {
    if (err instanceof GitsignError) throw err;
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  return outcome(child);
}
