import { createHash, generateKeyPairSync } from 'node:crypto';
import { generateRoleKeys } from './keys';
import { signRoot } from './metadata';
import { latestRoot, type AnnouncedLog, type TufState } from './state';

/**
 * Changes of the TUF repository's keys. A rotation replaces every role's key and publishes the next
 * root version signed by the old root key and the new one (TUF 5.3.4: a client trusts root N+1 only
 * when root N's keys and its own sign it). It also changes the trusted_root.json target, as a real
 * rotation that ships new service keys would, without touching the services: the new trusted root
 * announces one more CT log key, valid from now, whose private half is thrown away. No certificate
 * carries an SCT from it, so verifiers (which look SCTs up by log ID) never use it; it only shows
 * that a refreshing client got the new target.
 */
export function rotateKeys(state: TufState, now: Date): void {
  const oldRootKey = state.keys.root;
  state.keys = generateRoleKeys();
  state.roots.push(signRoot(latestRoot(state).signed.version + 1, state.keys, now, [oldRootKey, state.keys.root]));
  const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
  state.announcedCtlogs.push({ rawBytes: spki.toString('base64'), start: now.toISOString() });
}

/** The next root version with the same keys, for a root close to its expiry. */
export function renewRoot(state: TufState, now: Date): void {
  state.roots.push(signRoot(latestRoot(state).signed.version + 1, state.keys, now, [state.keys.root]));
}

/** The sandbox's trusted root with the announced CT log keys appended to its ctlogs (same log URL). */
export function withAnnouncedLogs(base: Record<string, unknown>, announced: AnnouncedLog[]): Record<string, unknown> {
  if (announced.length === 0) return base;
  const ctlogs = (base.ctlogs as Record<string, unknown>[] | undefined) ?? [];
  const baseUrl = ctlogs[0]?.baseUrl;
  const entry = (a: AnnouncedLog): Record<string, unknown> => {
    const spki = Buffer.from(a.rawBytes, 'base64'); // checked when the state was loaded
    return {
      baseUrl,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: a.rawBytes, keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: a.start } },
      logId: { keyId: createHash('sha256').update(spki).digest('base64') },
    };
  };
  return { ...base, ctlogs: [...ctlogs, ...announced.map(entry)] };
}
