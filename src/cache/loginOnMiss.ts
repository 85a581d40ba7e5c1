import { GitsignError, quoted } from '../errors';
import type { GoConfig, WireCredential } from './rpc';

/**
 * The daemon's login on a miss, as Go gitsign's daemon logs in when a GetCredential that brings a
 * Config finds nothing (its PR #211): with a socket forwarded over SSH (`ssh -R`), a `git commit`
 * on a remote host gets a credential from a login in the local browser. Go's daemon logs in with
 * the Config the client sent; that would let whoever reaches the socket choose where the ID token
 * goes (its Fulcio), which issuer to trust, and which command runs (gitsign.urlOpener) on this
 * machine. So this daemon logs in only with its own configuration, and only for a client that
 * names the same Fulcio and issuer; it always makes it a person's login (the browser, or the device
 * flow when its own gitsign.tokenProvider says so), never an ambient token handed to a socket peer
 * without anyone agreeing; one login at a time (calls arriving meanwhile wait for it); and each
 * login ends within LOGIN_ON_MISS_LIMIT_MS.
 */
export const LOGIN_ON_MISS_LIMIT_MS = 5 * 60_000;

/** The daemon's own login, as its configuration (read at each miss) describes it. */
export interface OwnLogin {
  fulcio: string;
  issuer: string;
  run(): Promise<WireCredential>;
}

const trimmed = (url: string): string => url.replace(/\/+$/, '');

/** Why the requested Config may not be served by our login, or null. */
function foreign(requested: GoConfig, own: OwnLogin): string | null {
  const fulcio = typeof requested.Fulcio === 'string' ? requested.Fulcio : '';
  const issuer = typeof requested.Issuer === 'string' ? requested.Issuer : '';
  if (trimmed(fulcio) === trimmed(own.fulcio) && trimmed(issuer) === trimmed(own.issuer)) return null;
  return `the client asks for Fulcio ${quoted(fulcio)} and issuer ${quoted(issuer)}; this daemon logs in only for its own, ${quoted(own.fulcio)} and ${quoted(own.issuer)}`;
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GitsignError('TOKEN', `the login did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** The login for misses; `own` reads the daemon's configuration (a CONFIG error refuses the login). */
export function loginOnMiss(own: () => OwnLogin, limitMs = LOGIN_ON_MISS_LIMIT_MS): (requested: GoConfig) => Promise<WireCredential> {
  let running: Promise<WireCredential> | null = null;
  return (requested) => {
    const login = own();
    const why = foreign(requested, login);
    if (why) return Promise.reject(new GitsignError('CONFIG', `not logging in: ${why}`));
    if (!running) {
      const current = withDeadline(login.run(), limitMs);
      running = current;
      const forget = (): void => {
        if (running === current) running = null;
      };
      current.then(forget, forget);
    }
    return running;
  };
}
