import { CacheClient } from '../cache/client';
import { PROTOCOL_VERSION } from '../cache/protocol';
import { socketFromEnv } from '../cache/socketPath';
import type { CheckResult } from './report';
import { shellWord } from './shell';

/**
 * The credential cache, when GITSIGN_CREDENTIAL_CACHE names one: reachable, answering our protocol,
 * run by this user (the client checks the peer before it writes a byte). Without it signing still
 * works (each commit logs in again), so its problems only warn.
 */
export async function checkCache(env: NodeJS.ProcessEnv, selfVersion: string): Promise<CheckResult> {
  const id = 'cache';
  const title = 'credential cache';
  const path = socketFromEnv(env);
  if (!path) return { id, title, status: 'skip', summary: 'not configured (GITSIGN_CREDENTIAL_CACHE unset): every signing session logs in' };
  const details: Record<string, unknown> = { socket: path, protocol: PROTOCOL_VERSION };
  const r = await new CacheClient(path).ping();
  if (!r.ok) {
    const fix = r.refused ? [`unset GITSIGN_CREDENTIAL_CACHE   (or point it at your own daemon's socket)`] : [`gitsign-credential-cache --socket ${shellWord(path)} &`];
    const what = r.refused ? 'refused' : r.why.startsWith('unsupported_version') ? 'speaks another protocol' : 'not answering';
    return { id, title, status: 'warn', summary: `${path}: ${what} (${r.why}); signing logs in every time`, fix, details };
  }
  Object.assign(details, { daemonVersion: r.value.version ?? null, entries: r.value.entries ?? null });
  const other = r.value.version && r.value.version !== selfVersion ? `, version ${r.value.version} (this gitsign is ${selfVersion})` : '';
  return { id, title, status: 'ok', summary: `${path}: our user's daemon answers protocol ${PROTOCOL_VERSION}${other}, ${r.value.entries ?? '?'} cached credential(s)`, details };
}
