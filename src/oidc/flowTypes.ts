/** What a login needs from the terminal: print a line, and ask for one (null when there is no terminal). */
export interface LoginIo {
  say(line: string): void;
  /** Gives up (resolves null) when the signal aborts. */
  ask(prompt: string, signal: AbortSignal): Promise<string | null>;
}

export const SCOPE = 'openid email';
