import type * as OpenPgp from 'openpgp';
import { GitsignError } from '../errors';
import { openpgpLib, strictConfig } from './library';

/** A git signature block is a few hundred bytes; anything this large is not one. */
export const MAX_SIGNATURE_BYTES = 64 * 1024;

const BEGIN = '-----BEGIN PGP SIGNATURE-----';
const END = '-----END PGP SIGNATURE-----';

function malformed(sentence: string): GitsignError {
  return new GitsignError('OPENPGP_MALFORMED', `malformed OpenPGP signature: ${sentence}`);
}

/**
 * The one signature packet of an armored block, read strictly: exactly one armor block (as git
 * hands it over: BEGIN first, END last), ASCII only, no packet the library does not know, and one
 * signature (git itself refuses a block with several: gpg then reports two results).
 */
export async function readSignaturePacket(armored: Buffer): Promise<OpenPgp.SignaturePacket> {
  if (armored.length > MAX_SIGNATURE_BYTES) throw malformed(`larger than ${MAX_SIGNATURE_BYTES / 1024} KiB`);
  for (const byte of armored) {
    if (byte > 0x7e || (byte < 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09)) throw malformed('not ASCII armor');
  }
  const text = armored.toString('latin1');
  const lines = text.split(/\r?\n/);
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines[0]?.trimEnd() !== BEGIN || lines[lines.length - 1].trimEnd() !== END) throw malformed(`not one "${BEGIN}" block`);
  if (lines.filter((line) => line.startsWith('-----')).length !== 2) throw malformed('more than one armor block');
  const lib = openpgpLib();
  let signature: OpenPgp.Signature;
  try {
    signature = await lib.readSignature({ armoredSignature: text, config: strictConfig(lib) });
  } catch {
    throw malformed('its packets do not parse (or use an algorithm or version not supported)');
  }
  const packets = [...signature.packets];
  if (packets.length === 0) throw malformed('it holds no signature');
  if (packets.length > 1) throw new GitsignError('OPENPGP_MULTIPLE_SIGNATURES', `the OpenPGP block holds ${packets.length} signatures; git accepts exactly one`);
  const packet = packets[0];
  if (!(packet instanceof lib.SignaturePacket)) throw malformed('it holds a packet that is not a signature');
  if (!(packet.created instanceof Date) || Number.isNaN(packet.created.getTime())) throw malformed('it has no creation time');
  return packet;
}

/** The issuer a signature packet names: fingerprint subpacket (lowercase hex), key ID (16 hex). */
export function packetIssuer(packet: OpenPgp.SignaturePacket): { fingerprint: string | null; keyId: string | null } {
  const fingerprint = packet.issuerFingerprint ? Buffer.from(packet.issuerFingerprint).toString('hex') : null;
  const hex = packet.issuerKeyID.toHex().toLowerCase();
  // All zeros: no issuer subpacket, or the wildcard ("anonymous recipient") ID.
  const keyId = /^[0-9a-f]{16}$/.test(hex) && hex !== '0000000000000000' ? hex : null;
  return { fingerprint, keyId };
}

/** The fingerprint/key ID the signature names (issuer fingerprint subpacket, else issuer key ID), without verifying. */
export async function openPgpSignatureIssuer(armoredSignature: Buffer): Promise<{ fingerprint: string | null; keyId: string | null }> {
  return packetIssuer(await readSignaturePacket(armoredSignature));
}
