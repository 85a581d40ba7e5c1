import { createHash } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError, quoted } from '../errors';
import { createEntryV2, hashedRekordV2Request } from '../rekor/v2/client';
import { hashedRekordV2Body, keyDetails } from '../rekor/v2/hashedrekord';
import type { LogEntry } from '../rekor/tlogEntry';
import { verifyChain } from '../verify/chain';
import { verifyLogEntry } from '../verify/logEntry';
import { SignedMessage } from '../verify/signedContent';
import type { Credential } from './credential';

/**
 * Logs a signature in a Rekor v2 log as hashedrekord 0.0.2 (the digest of the signed attributes, the
 * signature, the DER certificate) and verifies the answer before it is embedded. A v2 entry carries no
 * time of its own: the RFC 3161 timestamp's time is the one the log key and the certificate are checked at.
 */
export const REKOR_V2_NEEDS_TSA = 'rekorVersion=2 needs a timestamp authority (Rekor v2 entries carry no time): set gitsign.timestampServerURL';

export async function logV2AndVerify(rekorUrl: string, message: Buffer, signature: Buffer, cred: Credential, trust: TrustMaterial, tsaTime: Date): Promise<LogEntry> {
  const digest = createHash('sha256').update(message).digest();
  const signer = { certificate: cred.certificate.der };
  const details = keyDetails(cred.certificate.publicKey);
  const entry = await createEntryV2(rekorUrl, hashedRekordV2Request(digest, signature, signer, details));
  if (entry.kindVersion.kind !== 'hashedrekord' || entry.kindVersion.version !== '0.0.2') {
    throw new GitsignError('TLOG', `Rekor v2 logged a ${quoted(`${entry.kindVersion.kind}/${entry.kindVersion.version}`)} entry, not hashedrekord/0.0.2`);
  }
  if (!Buffer.from(entry.canonicalizedBody).equals(hashedRekordV2Body(digest, signature, signer, details))) {
    throw new GitsignError('TLOG', 'Rekor v2 logged another entry than the one sent');
  }
  verifyLogEntry(entry, new SignedMessage(message, signature), trust, [tsaTime]);
  verifyChain(cred.certificate, tsaTime, trust);
  return entry;
}
