import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import type { SignatureContent } from '@sigstore/verify/dist/shared.types';
import { verifyTLogBody, verifyTLogInclusion } from '@sigstore/verify/dist/tlog';
import { GitsignError } from '../errors';
import { checkProofMatchesCheckpoint } from '../rekor/checkpoint';
import type { LogEntry } from '../rekor/tlogEntry';

/**
 * A Rekor entry checked against the trust root and against what it claims to log: SET, inclusion
 * proof and its checkpoint, and the body's hash and signature. Used when verifying, and when signing
 * before an entry is embedded (gitsign does not check what Rekor returns; we do).
 */

/** A signature over a message, as the log's hashedrekord entry describes it. */
export class SignedMessage implements SignatureContent {
  constructor(
    private readonly message: Buffer,
    readonly signature: Buffer,
  ) {}
  compareSignature(signature: Buffer): boolean {
    return signature.equals(this.signature);
  }
  compareDigest(d: Buffer): boolean {
    return d.equals(createHash('sha256').update(this.message).digest());
  }
  verifySignature(key: KeyObject): boolean {
    return cryptoVerify('sha256', this.message, key, this.signature);
  }
}

export function verifyLogEntry(entry: LogEntry, content: SignatureContent, trust: TrustMaterial): void {
  try {
    verifyTLogInclusion(entry, trust.tlogs);
    verifyTLogBody(entry, content);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    throw new GitsignError('TLOG', `transparency log entry does not verify: ${e.message ?? String(err)}${e.code ? ` (${e.code})` : ''}`);
  }
  checkProofMatchesCheckpoint(entry);
}
