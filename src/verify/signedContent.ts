import { createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { verifyNow } from '../crypto/verify';
import { dsse } from '@sigstore/core';
import { GitsignError } from '../errors';
import { verifyDigest } from '../crypto/prehash';

/**
 * What a signature covers, in the terms a transparency log entry records it: the digest of the signed
 * bytes, for DSSE the digest of the payload, the signature, and who signed. The same for a gitsign
 * signature (a message: the CMS signed attributes), a bundle's message signature (the artifact) and a
 * bundle's DSSE envelope (its PAE).
 */
export interface Signer {
  /** DER certificate, when the signer has one. */
  certificate?: Buffer;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Buffer;
}

export interface SignedContent {
  /** Digest of the exact bytes signed; undefined when it cannot be computed (a message known only by its SHA-256). */
  signedDigest(algorithm: string): Buffer | undefined;
  /** DSSE only: digest of the envelope payload. */
  payloadDigest?(algorithm: string): Buffer | undefined;
  /** DSSE only, when the serialized envelope is known: its digest (what intoto 0.0.1 logs). */
  envelopeDigest?(algorithm: string): Buffer | undefined;
  readonly signature: Buffer;
  /** Absent when the caller has bound the log entry to its signer already. */
  readonly signer?: Signer;
  verifySignature(key: KeyObject): boolean;
}

/** The hash a key signs with when nothing else says: none for EdDSA, the curve's size for ECDSA. */
function keyHash(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448') return null;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
}

/** A signature over a message, which may be known only by its SHA-256 (a digest given instead of an artifact). */
export class SignedMessage implements SignedContent {
  constructor(
    private readonly message: Buffer | { sha256: Buffer },
    readonly signature: Buffer,
    readonly signer?: Signer,
    /** The hash the signer used (a bundle's message digest algorithm); gitsign always uses SHA-256. */
    private readonly hash = 'sha256',
  ) {}

  signedDigest(algorithm: string): Buffer | undefined {
    if (Buffer.isBuffer(this.message)) return createHash(algorithm).update(this.message).digest();
    return algorithm === 'sha256' ? this.message.sha256 : undefined;
  }

  verifySignature(key: KeyObject): boolean {
    const eddsa = keyHash(key) === null;
    try {
      if (Buffer.isBuffer(this.message)) return cryptoVerify(eddsa ? null : this.hash, this.message, key, this.signature);
      if (eddsa) throw new GitsignError('UNSUPPORTED_SIGNATURE', 'an EdDSA signature can only be checked over the artifact itself, not over its digest');
      return this.hash === 'sha256' && verifyDigest(key, this.message.sha256, this.signature);
    } catch (err) {
      if (err instanceof GitsignError) throw err;
      return false;
    }
  }
}

/** A DSSE envelope's one signature, over PAE(payloadType, payload). */
export class SignedEnvelope implements SignedContent {
  private readonly pae: Buffer;

  constructor(
    private readonly payload: Buffer,
    payloadType: string,
    readonly signature: Buffer,
    readonly signer?: Signer,
    /** The envelope as serialized and logged, when there is one (not in a bundle). */
    private readonly envelope?: Buffer,
  ) {
    this.pae = dsse.preAuthEncoding(payloadType, payload);
  }

  envelopeDigest(algorithm: string): Buffer | undefined {
    return this.envelope && createHash(algorithm).update(this.envelope).digest();
  }

  signedDigest(algorithm: string): Buffer {
    return createHash(algorithm).update(this.pae).digest();
  }

  payloadDigest(algorithm: string): Buffer {
    return createHash(algorithm).update(this.payload).digest();
  }

  verifySignature(key: KeyObject): boolean {
    return verifyNow(keyHash(key), this.pae, key, this.signature);
  }
}
