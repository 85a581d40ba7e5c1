import { CacheClient } from '../cache/client';
import { socketFromEnv } from '../cache/socketPath';
import type { CheckResult } from './report';
import { shellWord } from './shell';

/**
 * The credential cache, when GITSIGN_CREDENTIAL_CACHE names one: reachable, answering Go gitsign's
 * protocol, run by this user (the client checks the peer before it writes a byte). The probe asks
 * for an ID no signer uses, without a Config, so no daemon logs in for it: any well-formed reply,
 * "not found" included, shows the daemon serves. Without a cache signing still works (each commit
 * logs in again), so its problems only warn.
 */
const PROBE_ID = 'gitsign-doctor@probe';
const PROTOCOL = 'net/rpc with gob (Go gitsign)';

export async function checkCache(env: NodeJS.ProcessEnv): Promise<CheckResult> {
  const id = 'cache';
  const title = 'credential cache';
  const path = socketFromEnv(env);
  if (!path) return { id, title, status: 'skip', summary: 'not configured (GITSIGN_CREDENTIAL_CACHE unset): every signing session logs in' };
  const details: Record<string, unknown> = { socket: path, protocol: PROTOCOL };
  const r = await new CacheClient(path).get(PROBE_ID);
  if (!r.ok && !r.answered) {
    const fix = r.refused ? [`unset GITSIGN_CREDENTIAL_CACHE   (or point it at your own daemon's socket)`] : [`gitsign-credential-cache --socket ${shellWord(path)} &`];
    const what = r.refused ? 'refused' : r.why.includes('malformed message') ? 'speaks another protocol' : 'not answering';
    return { id, title, status: 'warn', summary: `${path}: ${what} (${r.why}); signing logs in every time`, fix, details };
  }
  return { id, title, status: 'ok', summary: `${path}: our user's daemon answers ${PROTOCOL}`, details };
}
