import { createPrivateKey } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { CacheClient } from '../cache/client';
import { cacheId } from '../cache/id';
import { LOGIN_ON_MISS_LIMIT_MS } from '../cache/loginOnMiss';
import { goConfig, type WireCredential } from '../cache/rpc';
import { socketFromEnv } from '../cache/socketPath';
import { decodePemAll, encodePem } from '../cms/pem';
import type { Config } from '../config/config';
import type { LoginIo } from '../oidc/flowTypes';
import { Certificate } from '../x509/certificate';
import { checkCredential, type Credential } from './credential';

/**
 * Signing credentials through gitsign-credential-cache (GITSIGN_CREDENTIAL_CACHE), under gitsign's
 * ID for this host and directory: a cached credential is used only after the checks a fresh one
 * passes, at a time 30 s from now (so it cannot expire between signing and Rekor's integration);
 * any problem means a fresh login, silently.
 */
export const MIN_VALIDITY_LEFT_MS = 30_000;
/** A daemon logging in for us gets its own deadline and a little more for the answer to arrive. */
const LOGIN_WAIT_MS = LOGIN_ON_MISS_LIMIT_MS + 15_000;
/** After this long without an answer, the person learns where the login is happening. */
const TELL_AFTER_MS = 1_500;

/** onRefused hears why a socket was not trusted (another user's daemon, a path others can change). */
export function cacheClient(env: NodeJS.ProcessEnv = process.env, onRefused?: (why: string) => void): CacheClient | undefined {
  const path = socketFromEnv(env);
  return path ? new CacheClient(path, { onRefused }) : undefined;
}

export function toWire(c: Credential): WireCredential {
  return {
    privateKey: Buffer.from(c.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()),
    cert: Buffer.from(encodePem('CERTIFICATE', c.certificate.der)),
    chain: Buffer.from(c.chain.map((d) => encodePem('CERTIFICATE', d)).join('')),
  };
}

export function fromWire(w: WireCredential): Credential {
  const [leaf, ...extra] = decodePemAll(w.cert.toString('latin1'), 'CERTIFICATE');
  if (!leaf || extra.length) throw new Error('not one certificate');
  return { privateKey: createPrivateKey(w.privateKey), certificate: new Certificate(leaf), chain: decodePemAll(w.chain.toString('latin1'), 'CERTIFICATE') };
}

/** The cached credential when it passes every check, else null. */
function usable(w: WireCredential, cfg: Config, trust: TrustMaterial, now: number): Credential | null {
  try {
    const c = fromWire(w);
    if (c.certificate.notAfter.getTime() - now < MIN_VALIDITY_LEFT_MS) return null;
    checkCredential(c, trust, cfg, new Date(now + MIN_VALIDITY_LEFT_MS));
    return c;
  } catch {
    return null;
  }
}

/** The daemon's entry for us, if usable; answered: the daemon is alive and speaks the protocol. */
export async function fromCache(client: CacheClient, cfg: Config, trust: TrustMaterial, env: NodeJS.ProcessEnv = process.env, now = Date.now()): Promise<{ credential: Credential | null; answered: boolean }> {
  const r = await client.get(cacheId(env));
  if (!r.ok) return { credential: null, answered: r.answered === true };
  return { credential: usable(r.value, cfg, trust, now), answered: true };
}

/**
 * A miss, asked again with our Config, as Go gitsign asks: the daemon may log in for us (a socket
 * forwarded from a machine with a browser). A daemon that will not answers at once; one that does
 * may take a person's login, so the wait is long and the person is told where to look.
 */
export async function loginThroughCache(client: CacheClient, cfg: Config, trust: TrustMaterial, term: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<Credential | null> {
  const tell = setTimeout(() => term.say('gitsign: waiting for the credential cache to log in (its browser, or the link it prints)...'), TELL_AFTER_MS);
  try {
    const r = await client.get(cacheId(env), goConfig(cfg), LOGIN_WAIT_MS);
    return r.ok ? usable(r.value, cfg, trust, Date.now()) : null;
  } finally {
    clearTimeout(tell);
  }
}

export async function storeInCache(client: CacheClient, c: Credential, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await client.store(cacheId(env), toWire(c));
}
