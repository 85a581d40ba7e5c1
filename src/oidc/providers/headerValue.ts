import { type ErrorCode, GitsignError } from '../../errors';

/**
 * A value that goes into an HTTP header (from the environment, or a token a server issued), or a
 * sentence naming it: node:http throws a bare TypeError on a newline or control character there.
 */
export function headerValue(value: string, what: string, code: ErrorCode = 'CONFIG'): string {
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value)) throw new GitsignError(code, `${what} holds a character that cannot be sent in an HTTP header`);
  return value;
}
