import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { canonicalize } from '@tufjs/canonical-json';
import { Key, Signature } from '@tufjs/models';

/**
 * The TUF repository's signing keys, one per top-level role, in the forms TUF clients read: the
 * offline-style roles (root, targets) ECDSA P-256 as Sigstore's root-signing publishes them (keytype
 * "ecdsa", scheme "ecdsa-sha2-nistp256", PEM public key), the online roles (snapshot, timestamp) Ed25519
 * (keytype and scheme "ed25519", hex public key), so both formats are exercised.
 */
export const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type Role = (typeof ROLES)[number];
export type RoleKeys = Record<Role, KeyObject>;

function generateRoleKey(role: Role): KeyObject {
  return role === 'root' || role === 'targets'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    : generateKeyPairSync('ed25519').privateKey;
}

/** A key of the type its role uses (as generateRoleKey makes them). */
export function isRoleKey(role: Role, key: KeyObject): boolean {
  if (role === 'root' || role === 'targets') return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  return key.asymmetricKeyType === 'ed25519';
}

export function generateRoleKeys(): RoleKeys {
  return Object.fromEntries(ROLES.map((r) => [r, generateRoleKey(r)])) as RoleKeys;
}

/** The raw 32 bytes of an Ed25519 public key: the end of its SPKI. */
const ed25519Raw = (pub: KeyObject): Buffer => pub.export({ type: 'spki', format: 'der' }).subarray(-32);

/** The public half as TUF metadata lists it; its key ID is SHA-256 over the canonical JSON of that form (TUF spec). */
export function tufKey(privateKey: KeyObject): Key {
  const pub = createPublicKey(privateKey);
  const ed = pub.asymmetricKeyType === 'ed25519';
  const fields = ed
    ? { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: ed25519Raw(pub).toString('hex') } }
    : { keytype: 'ecdsa', scheme: 'ecdsa-sha2-nistp256', keyval: { public: pub.export({ type: 'spki', format: 'pem' }) as string } };
  const keyID = createHash('sha256').update(canonicalize(fields)).digest('hex');
  return new Key({ keyID, keyType: fields.keytype, scheme: fields.scheme, keyVal: fields.keyval });
}

/** A signer for Metadata.sign: ECDSA over SHA-256 (DER) or Ed25519, hex encoded, as TUF clients verify them. */
export function signerFor(privateKey: KeyObject): (data: Buffer) => Signature {
  const keyID = tufKey(privateKey).keyID;
  const digest = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256';
  return (data) => new Signature({ keyID, sig: sign(digest, data, privateKey).toString('hex') });
}

export const exportKey = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }) as string;
export const importKey = (pem: string): KeyObject => createPrivateKey(pem);
