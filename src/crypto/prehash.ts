import { constants, publicDecrypt, type KeyObject } from 'node:crypto';
import type { CurveFn } from '@noble/curves/abstract/weierstrass';
import { GitsignError } from '../errors';

/**
 * Signature checks over a SHA-2 digest whose message the verifier never saw (Rekor's hashedrekord and a
 * bundle given `sha256:<hex>` hold only the hash). node:crypto always hashes the message itself, so
 * ECDSA goes to the audited @noble/curves with prehash off, and RSA PKCS#1 v1.5 to OpenSSL's
 * verify-recover (publicDecrypt), whose output is compared whole with the expected DigestInfo.
 */

/** OpenSSL's curve name -> @noble/curves/nist export. Go's sigstore verifiers take these three. */
const NOBLE_CURVES: Record<string, 'p256' | 'p384' | 'p521'> = { prime256v1: 'p256', secp384r1: 'p384', secp521r1: 'p521' };

let nist: typeof import('@noble/curves/nist') | undefined;

/** @noble/curves costs ~35 ms to load; git's verify path never checks a bare digest, so it loads on demand. */
function nobleCurve(namedCurve: string | undefined): CurveFn | undefined {
  const name = NOBLE_CURVES[namedCurve ?? ''];
  if (!name) return undefined;
  if (!nist) {
    nist = require('@noble/curves/nist') as typeof import('@noble/curves/nist');
    // No precomputed tables for the base point: building them costs 80-300 ms, and a process checks one
    // or a few signatures (a plain double-and-add verification is ~10 ms).
    for (const curve of [nist.p256, nist.p384, nist.p521]) curve.Point.BASE.precompute(1);
  }
  return nist[name];
}

function unsupported(key: KeyObject): GitsignError {
  const kind = key.asymmetricKeyType === 'ec' ? `an EC ${key.asymmetricKeyDetails?.namedCurve ?? 'unknown-curve'}` : `a ${key.asymmetricKeyType ?? 'unknown'}`;
  return new GitsignError('UNSUPPORTED_SIGNATURE', `a signature over a bare digest can be checked only with a P-256, P-384, P-521 or RSA (PKCS#1 v1.5) key, not ${kind} key`);
}

/**
 * ECDSA over a digest. High-S signatures are accepted (lowS: false), as Go's ecdsa.Verify and OpenSSL
 * accept them: Sigstore's logs and signers never normalize S, so refusing would reject half of the
 * valid signatures made by OpenSSL or node:crypto. The signature must be strict DER (the library's parser
 * refuses trailing bytes, non-minimal lengths and integers, negative numbers).
 */
function ecdsaVerifyDigest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const curve = nobleCurve(key.asymmetricKeyDetails?.namedCurve);
  if (!curve) throw unsupported(key);
  const jwk = key.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  try {
    // format 'der': the library's strict DER parser, never its compact-form fallback.
    return curve.verify(signature, digest, point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false; // not DER, or r or s outside 1..n-1
  }
}

/** DER of DigestInfo { AlgorithmIdentifier { sha2 OID, NULL }, OCTET STRING } up to the digest, by digest length. */
const DIGEST_INFO_PREFIX: Record<number, Buffer> = {
  32: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  48: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  64: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** RSASSA-PKCS1-v1_5 over a SHA-256/384/512 digest. The signature must be exactly as long as the modulus (as Go requires). */
function rsaPkcs1VerifyDigest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const prefix = DIGEST_INFO_PREFIX[digest.length];
  const modulusBytes = Math.ceil((key.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
  if (!prefix || signature.length !== modulusBytes) return false;
  try {
    const opened = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    return opened.equals(Buffer.concat([prefix, digest]));
  } catch {
    return false; // not a block-type-1 padded value below the modulus
  }
}

/**
 * Verifies a signature over a SHA-2 digest (its length names the hash) with an ECDSA P-256/P-384/P-521
 * or RSA PKCS#1 v1.5 key. False for any signature that does not verify; a GitsignError
 * (UNSUPPORTED_SIGNATURE) for a key it cannot check a digest with: RSA-PSS (no node:crypto primitive
 * verifies PSS over a digest), EdDSA (signs messages, never digests), other curves.
 */
export function verifyDigest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  if (key.asymmetricKeyType === 'ec') return ecdsaVerifyDigest(key, digest, signature);
  if (key.asymmetricKeyType === 'rsa') return rsaPkcs1VerifyDigest(key, digest, signature);
  throw unsupported(key);
}
