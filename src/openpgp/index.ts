/**
 * OpenPGP signatures of git objects (gpg.format openpgp, GitHub's web-flow key), for policies and
 * audits only: git's own calls never load this (openpgp.js is its own bundle file, loaded lazily).
 * Every outcome is a value; hostile bytes give a stable code, never a library or runtime message.
 */
export { readOpenPgpKeys } from './keys';
export { openPgpSignatureIssuer } from './signature';
export { verifyOpenPgp } from './verify';

export interface OpenPgpKey {
  /** The primary key's fingerprint, lowercase hex (40 characters for v4 keys). */
  fingerprint: string;
  /** The key IDs of the primary key and of every subkey, lowercase hex (16 characters). */
  keyIds: string[];
  /** The key's user IDs that carry a valid self-certification: the key's own words, escape before showing. */
  userIds: string[];
}

export interface OpenPgpKeyring {
  keys: OpenPgpKey[];
}

export type OpenPgpResult =
  | { state: 'verified'; fingerprint: string /* the primary key's */; signingKey: string; userIds: string[]; claimedTime: Date }
  | { state: 'unknown-key'; keyId: string | null; fingerprint: string | null; claimedTime: Date | null }
  | { state: 'bad'; code: string; message: string };

export interface VerifyOptions {
  /** The time to compare the signature's claimed time and expiry with (default: now). */
  now?: Date;
}
