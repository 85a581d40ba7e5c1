/**
 * The deadline of every network call, set from the configuration: its own module, without the HTTP
 * client's imports (node:tls, node:net), as the configuration is read on git's hot path too.
 *
 * Time for one whole call by default. Real answers take well under a second; this leaves room for a
 * slow link and a retry, and ends a server that drips its answer or never finishes it.
 */
export const CALL_DEADLINE_MS = 30_000;

/** The setting that changes it, named in every deadline message so the user knows what to set. */
export const NETWORK_TIMEOUT_SETTING = 'gitsign.networkTimeout or GITSIGN_NETWORK_TIMEOUT';

let callDeadline = CALL_DEADLINE_MS;

/** Set from the configuration (see loadConfig): every call's deadline from then on. */
export function setCallDeadlineMs(ms: number): void {
  callDeadline = ms;
}

/** The deadline of one whole call now in force. */
export function callDeadlineMs(): number {
  return callDeadline;
}
