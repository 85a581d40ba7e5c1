import type * as OpenPgp from 'openpgp';
import { type ErrorCode, GitsignError } from '../errors';
import type { OpenPgpKeyring, OpenPgpResult, VerifyOptions } from './index';
import { libraryKey } from './keys';
import { openpgpLib, strictConfig } from './library';
import { packetIssuer, readSignaturePacket } from './signature';

/**
 * A verify that takes longer than this gives up (OPENPGP_TIMEOUT). The caps on signature and key
 * sizes keep real work far below it; this bounds what the caps miss.
 */
export const VERIFY_DEADLINE_MS = 10_000;
/** Clocks disagree a little: a claimed time up to this far ahead of ours is not "in the future". */
export const CLOCK_SKEW_MS = 5 * 60_000;

type Candidate = { primary: OpenPgp.Key; signer: OpenPgp.Key | OpenPgp.Subkey };

function bad(code: ErrorCode, message: string): OpenPgpResult {
  return { state: 'bad', code, message };
}

function hex(fingerprint: string): string {
  return fingerprint.toLowerCase();
}

/** The keys of the keyring (primary or subkey) the signature names: its key ID, and its fingerprint when it gives one. */
function candidates(keyring: OpenPgpKeyring, packet: OpenPgp.SignaturePacket, fingerprint: string | null): Candidate[] {
  const found: Candidate[] = [];
  for (const key of keyring.keys) {
    const primary = libraryKey(key);
    if (!primary) continue;
    for (const signer of primary.getKeys(packet.issuerKeyID)) {
      if (fingerprint === null || hex(signer.getFingerprint()) === fingerprint) found.push({ primary, signer });
    }
  }
  return found;
}

/** Why a key that made a good signature cannot vouch for it at the claimed time: a stable code. */
async function keyProblem({ primary, signer }: Candidate, at: Date, config: OpenPgp.Config): Promise<OpenPgpResult | null> {
  try {
    await primary.getSigningKey(signer.getKeyID(), at, undefined, config);
    return null;
  } catch {
    // Diagnosed below; the library's words are not ours to show.
  }
  const which = signer === primary ? `the key ${hex(primary.getFingerprint())}` : `the signing subkey ${hex(signer.getFingerprint())}`;
  if (signer.keyPacket.created > at) return bad('OPENPGP_KEY_UNUSABLE', `${which} was created after the time the signature claims`);
  // Hard revocations (compromise, or no reason given) count whenever they were made; soft ones
  // (superseded, retired) only from their own time on: RFC 9580 5.2.3.31, as openpgp.js implements.
  if (await primary.isRevoked(undefined, undefined, at, config)) return bad('OPENPGP_KEY_REVOKED', `the key ${hex(primary.getFingerprint())} is revoked`);
  if (signer !== primary) {
    const subkey = signer as OpenPgp.Subkey;
    for (const binding of subkey.bindingSignatures) {
      if (await subkey.isRevoked(binding, primary.keyPacket, at, config).catch(() => false)) return bad('OPENPGP_KEY_REVOKED', `${which} is revoked`);
    }
  }
  const expiry = await primary.getExpirationTime(undefined, config).catch(() => null);
  if (expiry instanceof Date && at >= expiry) return bad('OPENPGP_KEY_EXPIRED', `the key ${hex(primary.getFingerprint())} expired ${expiry.toISOString()}, before the time the signature claims`);
  if (signer !== primary) {
    const subExpiry = await (signer as OpenPgp.Subkey).getExpirationTime(at, config).catch(() => null);
    if (subExpiry instanceof Date && at >= subExpiry) return bad('OPENPGP_KEY_EXPIRED', `${which} expired ${subExpiry.toISOString()}, before the time the signature claims`);
  }
  const info = signer.keyPacket.getAlgorithmInfo();
  const algorithm = String(info.algorithm);
  if (algorithm === 'dsa' || algorithm === 'elgamal' || (algorithm.startsWith('rsa') && (info.bits ?? 0) < 2047)) {
    return bad('OPENPGP_WEAK_KEY', `${which} is ${algorithm}${info.bits ? ` ${info.bits}` : ''}: too weak to rely on`);
  }
  return bad('OPENPGP_KEY_UNUSABLE', `${which} may not sign at the time the signature claims (no valid self-signature or subkey binding, or not flagged for signing)`);
}

async function userIdsAt(primary: OpenPgp.Key, at: Date, config: OpenPgp.Config): Promise<string[]> {
  const ids: string[] = [];
  for (const user of primary.users) {
    if (!user.userID) continue;
    try {
      await user.verify(at, config);
      ids.push(user.userID.userID);
    } catch {
      // Not certified (or revoked) at that time: not a name the key had.
    }
  }
  return ids;
}

async function verifyUnbounded(armoredSignature: Buffer, payload: Buffer, keyring: OpenPgpKeyring, now: Date): Promise<OpenPgpResult> {
  const lib = openpgpLib();
  const config = { ...lib.config, ...strictConfig(lib) } as OpenPgp.Config;
  const packet = await readSignaturePacket(armoredSignature);
  const claimedTime = packet.created as Date;
  const { signature: types, hash } = lib.enums;
  // git signs binary (0x00); gpg's textmode makes text signatures (0x01) over CRLF lines, which
  // openpgp.js computes on the bytes. Any other type (standalone, certification...) is not of a document.
  if (packet.signatureType !== types.binary && packet.signatureType !== types.text) {
    return bad('OPENPGP_SIGNATURE_TYPE', `the OpenPGP signature is of type 0x${(packet.signatureType ?? 0).toString(16).padStart(2, '0')}, not a signature of a document`);
  }
  // A text signature covers the lines with CRLF endings, so an object with CRs (a line ending CRLF
  // where the signer's had LF) would carry it too: a commit its signer never made. Only CR-free
  // objects, where the mapping is one-to-one, are accepted with one.
  if (packet.signatureType === types.text && payload.includes(0x0d)) {
    return bad('OPENPGP_SIGNATURE_TYPE', 'the OpenPGP signature is a text signature and the object has carriage returns: it could be another object than the one signed');
  }
  if (packet.hashAlgorithm === null || config.rejectMessageHashAlgorithms.has(packet.hashAlgorithm)) {
    const name = packet.hashAlgorithm === hash.sha1 ? 'SHA-1' : packet.hashAlgorithm === hash.md5 ? 'MD5' : 'RIPEMD-160';
    return bad('OPENPGP_WEAK_HASH', `the OpenPGP signature uses ${name}, which collisions have broken`);
  }
  if (packet.unknownSubpackets.some((s) => s.critical) || packet.rawNotations.some((n) => n.critical && !config.knownNotations.includes(n.name))) {
    return bad('OPENPGP_MALFORMED', 'malformed OpenPGP signature: it has a critical subpacket or notation we do not understand');
  }
  if (claimedTime.getTime() > now.getTime() + CLOCK_SKEW_MS) {
    return bad('OPENPGP_FUTURE_SIGNATURE', `the OpenPGP signature claims to be made ${claimedTime.toISOString()}, in the future`);
  }
  const expires = packet.getExpirationTime();
  if (expires instanceof Date && now >= expires) return bad('OPENPGP_SIGNATURE_EXPIRED', `the OpenPGP signature expired ${expires.toISOString()}`);

  const issuer = packetIssuer(packet);
  const found = issuer.keyId === null ? [] : candidates(keyring, packet, issuer.fingerprint);
  if (found.length === 0) return { state: 'unknown-key', keyId: issuer.keyId, fingerprint: issuer.fingerprint, claimedTime };

  const data = new lib.LiteralDataPacket();
  (data as unknown as { setBytes(bytes: Uint8Array, format: OpenPgp.enums.literal): void }).setBytes(
    new Uint8Array(payload.buffer, payload.byteOffset, payload.length),
    lib.enums.literal.binary,
  );
  let firstProblem: OpenPgpResult | null = null;
  for (const candidate of found) {
    try {
      // No date: the claimed time and expiry were checked above, key validity is checked below.
      await packet.verify(candidate.signer.keyPacket, packet.signatureType, data, null as unknown as Date, true, config);
    } catch {
      continue;
    }
    const problem = await keyProblem(candidate, claimedTime, config);
    if (problem) {
      firstProblem ??= problem;
      continue;
    }
    return {
      state: 'verified',
      fingerprint: hex(candidate.primary.getFingerprint()),
      signingKey: hex(candidate.signer.getFingerprint()),
      userIds: await userIdsAt(candidate.primary, claimedTime, config),
      claimedTime,
    };
  }
  return firstProblem ?? bad('OPENPGP_BAD_SIGNATURE', `the OpenPGP signature does not match the object (key ${issuer.fingerprint ?? issuer.keyId})`);
}

/** Verifies a detached signature (git's gpgsig / tag signature block) over the payload with the keyring. */
export async function verifyOpenPgp(armoredSignature: Buffer, payload: Buffer, keyring: OpenPgpKeyring, options: VerifyOptions = {}): Promise<OpenPgpResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<OpenPgpResult>((resolve) => {
    timer = setTimeout(() => resolve(bad('OPENPGP_TIMEOUT', `verifying the OpenPGP signature took longer than ${VERIFY_DEADLINE_MS / 1000} s`)), VERIFY_DEADLINE_MS);
    timer.unref();
  });
  try {
    return await Promise.race([verifyUnbounded(armoredSignature, payload, keyring, options.now ?? new Date()), deadline]);
  } catch (err) {
    if (err instanceof GitsignError) return bad(err.code, err.message);
    return bad('OPENPGP_MALFORMED', 'malformed OpenPGP signature: the library could not read it');
  } finally {
    clearTimeout(timer);
  }
}
