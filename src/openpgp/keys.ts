import type * as OpenPgp from 'openpgp';
import { GitsignError } from '../errors';
import type { OpenPgpKey, OpenPgpKeyring } from './index';
import { openpgpLib, strictConfig } from './library';

/** A certificate with its subkeys and signatures is a few KiB; GitHub's web-flow file is under 2 KiB. */
export const MAX_KEY_BYTES = 1024 * 1024;
/** Certificates in one keyring (every call to verify may look at each). */
export const MAX_KEYS = 256;
/**
 * Self-signatures (certifications, bindings, revocations) one certificate may carry: each may be
 * checked when a signature is verified, so this bounds the work per verify.
 */
export const MAX_SELF_SIGNATURES = 512;

/** The library's key behind each key we hand out (a caller may filter or copy keyrings freely). */
const libraryKeys = new WeakMap<OpenPgpKey, OpenPgp.Key>();

export function libraryKey(key: OpenPgpKey): OpenPgp.Key | undefined {
  return libraryKeys.get(key);
}

function refuse(which: number, sentence: string): GitsignError {
  return new GitsignError('OPENPGP_KEY', `OpenPGP certificate ${which + 1}: ${sentence}`);
}

function selfSignatureCount(key: OpenPgp.Key): number {
  // directSignatures is in the library's JavaScript but not its type declarations.
  let count = ((key as unknown as { directSignatures?: unknown[] }).directSignatures?.length ?? 0) + key.revocationSignatures.length;
  for (const user of key.users) count += user.selfCertifications.length + user.revocationSignatures.length;
  for (const subkey of key.subkeys) count += subkey.bindingSignatures.length + subkey.revocationSignatures.length;
  return count;
}

/** The user IDs with a self-certification that verifies and is not revoked (the key's expiry is the signature's business). */
async function certifiedUserIds(key: OpenPgp.Key, config: OpenPgp.Config): Promise<string[]> {
  const ids: string[] = [];
  for (const user of key.users) {
    if (!user.userID) continue;
    try {
      await user.verify(new Date(), config);
      ids.push(user.userID.userID);
    } catch {
      // No valid self-certification: a name the key's owner never gave it (or took back).
    }
  }
  return ids;
}

/** Parses armored certificates (public keys); hostile input -> GitsignError('OPENPGP_KEY', sentence). */
export async function readOpenPgpKeys(armored: string[]): Promise<OpenPgpKeyring> {
  const lib = openpgpLib();
  const config = { ...lib.config, ...strictConfig(lib) } as OpenPgp.Config;
  const keys: OpenPgpKey[] = [];
  for (const [which, text] of armored.entries()) {
    if (typeof text !== 'string') throw refuse(which, 'is not text');
    if (Buffer.byteLength(text) > MAX_KEY_BYTES) throw refuse(which, `is larger than ${MAX_KEY_BYTES / 1024 / 1024} MiB`);
    if (/[^\t\n\r\x20-\x7e]/.test(text)) throw refuse(which, 'is not ASCII armor');
    if (text.includes('PRIVATE KEY BLOCK')) throw refuse(which, 'is a private key: give its public certificate (gpg --armor --export)');
    const blocks = text.split('-----BEGIN PGP PUBLIC KEY BLOCK-----').length - 1;
    if (blocks === 0) throw refuse(which, 'is not an armored public key ("-----BEGIN PGP PUBLIC KEY BLOCK-----")');
    // The library reads the first block only: a second would be dropped without a word.
    if (blocks > 1) throw refuse(which, 'holds more than one armor block: give each certificate as its own entry');
    let read: OpenPgp.Key[];
    try {
      read = await lib.readKeys({ armoredKeys: text, config });
    } catch {
      throw refuse(which, 'does not parse as OpenPGP public keys (or uses an algorithm or version not supported)');
    }
    for (const key of read) {
      if (key.isPrivate()) throw refuse(which, 'holds a private key: give its public certificate (gpg --armor --export)');
      if (selfSignatureCount(key) > MAX_SELF_SIGNATURES) throw refuse(which, `has more than ${MAX_SELF_SIGNATURES} self-signatures`);
      if (keys.length === MAX_KEYS) throw refuse(which, `makes more than ${MAX_KEYS} certificates in one keyring`);
      const ours: OpenPgpKey = {
        fingerprint: key.getFingerprint().toLowerCase(),
        keyIds: key.getKeys().map((k) => k.getKeyID().toHex().toLowerCase()),
        userIds: await certifiedUserIds(key, config),
      };
      libraryKeys.set(ours, key);
      keys.push(ours);
    }
  }
  return { keys };
}
