import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import type { Config } from '../config/config';
import { GitsignError } from '../errors';
import { requestCertificate } from '../fulcio/client';
import type { LoginIo } from '../oidc/flowTypes';
import { obtainIdToken, refuseExpired } from '../oidc/token';
import { checkLeaf, verifyChain } from '../verify/chain';
import { verifyCertificateScts } from '../verify/sct';
import { cacheClient, fromCache, loginThroughCache, storeInCache } from './cachedCredential';
import { Certificate } from '../x509/certificate';

/**
 * A signing identity: an ephemeral P-256 key and the Fulcio certificate for it. The certificate is
 * checked before anything is signed with it (gitsign does not): our key, a chain to a trusted Fulcio
 * CA, an SCT from a trusted CT log, and gitsign.matchCommitter.
 */
export interface Credential {
  privateKey: KeyObject;
  certificate: Certificate;
  /** Intermediates and root as Fulcio returned them. */
  chain: Buffer[];
}

export type Say = (line: string) => void;

/**
 * The credential to sign with: from gitsign-credential-cache when GITSIGN_CREDENTIAL_CACHE names it and
 * it holds a good one; else, when the daemon answered, one it logs in for (as Go gitsign asks its
 * daemon to); else a fresh one (a token, maybe a login, a key and a certificate), which is then
 * offered to the cache.
 */
export async function obtainCredential(cfg: Config, trust: TrustMaterial, term: LoginIo, env: NodeJS.ProcessEnv = process.env): Promise<Credential> {
  const cache = cacheClient(env, (why) => term.say(`gitsign: not using the credential cache: ${why}`));
  if (cache) {
    const cached = await fromCache(cache, cfg, trust, env);
    if (cached.credential) return cached.credential;
    const viaDaemon = cached.answered ? await loginThroughCache(cache, cfg, trust, term, env) : null;
    if (viaDaemon) return viaDaemon;
  }
  const credential = await freshCredential(cfg, trust, term, env);
  if (cache) await storeInCache(cache, credential, env);
  return credential;
}

export async function freshCredential(cfg: Config, trust: TrustMaterial, term: LoginIo, env: NodeJS.ProcessEnv): Promise<Credential> {
  const token = await obtainIdToken(cfg, term, env);
  refuseExpired(token);
  term.say('Generating ephemeral keys...');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { chain } = await requestCertificate(cfg.fulcio, token.raw, token.subject, privateKey, publicKey);
  const credential = { privateKey, certificate: new Certificate(chain[0]), chain: chain.slice(1) };
  checkCredential(credential, trust, cfg);
  return credential;
}

/** Everything a credential must satisfy before it signs (also applied to cached credentials). */
export function checkCredential(c: Credential, trust: TrustMaterial, cfg: Config, at = new Date()): void {
  const cert = c.certificate;
  const certKey = cert.publicKey.export({ type: 'spki', format: 'der' });
  if (!certKey.equals(createPublicKey(c.privateKey).export({ type: 'spki', format: 'der' }))) {
    throw new GitsignError('CERTIFICATE', 'the certificate is for another key than ours');
  }
  let path;
  try {
    path = verifyChain(cert, at, trust);
  } catch (err) {
    throw new GitsignError('CERTIFICATE', `the certificate from Fulcio does not verify: ${(err as Error).message}`);
  }
  if (cert.extensions.scts.length === 0) throw new GitsignError('SCT', 'the certificate from Fulcio has no SCT from a trusted CT log');
  try {
    verifyCertificateScts(cert, path.issuerSpki, trust.ctlogs);
  } catch (err) {
    throw new GitsignError('SCT', `the certificate from Fulcio has an SCT that does not verify: ${(err as Error).message}`);
  }
  try {
    checkLeaf(cert); // what verifiers will require of it: refuse before signing, not after
  } catch (err) {
    throw new GitsignError('CERTIFICATE', `the certificate from Fulcio cannot sign: ${(err as Error).message}`);
  }
  if (cfg.matchCommitter) {
    const emailOk = cfg.committerEmail !== '' && cert.emails.includes(cfg.committerEmail);
    const uriOk = cfg.committerName !== '' && cert.uris.includes(cfg.committerName);
    if (!emailOk && !uriOk) {
      throw new GitsignError(
        'IDENTITY',
        `gitsign.matchCommitter: certificate identity does not match config - want ${cfg.committerName} <${cfg.committerEmail}>, got email: [${cert.emails.join(' ')}],uri: [${cert.uris.join(' ')}]`,
      );
    }
  }
}
