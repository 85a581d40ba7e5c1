import { spawn, type ChildProcess } from 'node:child_process';
import { GitsignError } from '../errors';

/**
 * Opens the login URL in a browser: gitsign.urlOpener (an argv template with {{.URL}}, split like a
 * shell would but run without one, so the URL is never interpreted), else the `open` package. The
 * answer says whether a browser could be started; a program that fails at once (no display, no
 * browser, xdg-open's "no method available") counts as not opened, so the caller falls back.
 */
export const URL_PLACEHOLDER = '{{.URL}}';

/** How long an opener may take to fail before it counts as started (openers hand over and exit). */
const FAILURE_WINDOW_MS = 3_000;

/** Splits like a POSIX shell: quotes and backslashes group and escape; nothing is expanded. */
export function splitArgs(template: string): string[] {
  const args: string[] = [];
  let cur = '';
  let inArg = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < template.length && '"\\$`'.includes(template[i + 1])) cur += template[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inArg = true;
    } else if (c === '\\' && i + 1 < template.length) {
      cur += template[++i];
      inArg = true;
    } else if (/\s/.test(c)) {
      if (inArg) args.push(cur);
      cur = '';
      inArg = false;
    } else {
      cur += c;
      inArg = true;
    }
  }
  if (quote) throw new GitsignError('CONFIG', `gitsign.urlOpener has an unterminated ${quote} quote`);
  if (inArg) args.push(cur);
  return args;
}

export function openerArgv(template: string, url: string): string[] {
  const args = splitArgs(template);
  if (args.length === 0 || !args.some((a) => a.includes(URL_PLACEHOLDER))) {
    throw new GitsignError('CONFIG', `gitsign.urlOpener must be a command with ${URL_PLACEHOLDER} in its arguments, got "${template}"`);
  }
  return args.map((a) => a.split(URL_PLACEHOLDER).join(url));
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
