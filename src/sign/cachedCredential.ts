import { createPrivateKey } from 'node:crypto';
import { hostname } from 'node:os';
import type { TrustMaterial } from '@sigstore/verify';
import { CacheClient } from '../cache/client';
import type { CacheKey, WireCredential } from '../cache/protocol';
import { socketFromEnv } from '../cache/socketPath';
import { decodePemAll, encodePem } from '../cms/pem';
import type { Config } from '../config/config';
import { Certificate } from '../x509/certificate';
import { checkCredential, type Credential } from './credential';

/**
 * Signing credentials through gitsign-credential-cache (GITSIGN_CREDENTIAL_CACHE): a cached credential
 * is used only after the checks a fresh one passes, at a time 30 s from now (so it cannot expire
 * between signing and Rekor's integration); any problem means a fresh login, silently.
 */
export const MIN_VALIDITY_LEFT_MS = 30_000;

/** onRefused hears why a socket was not trusted (another user's daemon, a path others can change). */
export function cacheClient(env: NodeJS.ProcessEnv = process.env, onRefused?: (why: string) => void): CacheClient | undefined {
  const path = socketFromEnv(env);
  return path ? new CacheClient(path, { onRefused }) : undefined;
}

/** gitsign's key (host and working directory), bound to the Fulcio and issuer it was made with. */
export function cacheKey(cfg: Config): CacheKey {
  return { id: `${hostname()}@${process.cwd()}`, fulcio: cfg.fulcio.replace(/\/+$/, ''), issuer: cfg.issuer };
}

export function toWire(c: Credential): WireCredential {
  return {
    privateKey: c.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certificate: encodePem('CERTIFICATE', c.certificate.der),
    chain: c.chain.map((d) => encodePem('CERTIFICATE', d)).join(''),
  };
}

export function fromWire(w: WireCredential): Credential {
  const [leaf, ...extra] = decodePemAll(w.certificate, 'CERTIFICATE');
  if (!leaf || extra.length) throw new Error('not one certificate');
  return { privateKey: createPrivateKey(w.privateKey), certificate: new Certificate(leaf), chain: decodePemAll(w.chain, 'CERTIFICATE') };
}

export async function fromCache(client: CacheClient, cfg: Config, trust: TrustMaterial, now = Date.now()): Promise<Credential | null> {
  const r = await client.get(cacheKey(cfg));
  if (!r.ok || !r.value) return null;
  try {
    const c = fromWire(r.value);
    if (c.certificate.notAfter.getTime() - now < MIN_VALIDITY_LEFT_MS) return null;
    checkCredential(c, trust, cfg, new Date(now + MIN_VALIDITY_LEFT_MS));
    return c;
  } catch {
    return null;
  }
}

export async function storeInCache(client: CacheClient, cfg: Config, c: Credential): Promise<void> {
  await client.store(cacheKey(cfg), toWire(c));
}
