import type { KeyObject } from 'node:crypto';
import { GitsignError } from '../../errors';
import { canonicalBody } from '../hashedrekord';
import type { LoggedSigner } from '../loggedSignature';

/**
 * The hashedrekord 0.0.2 entry body a Rekor v2 log makes of a signature: the canonical (RFC 8785)
 * protobuf JSON of {data: {algorithm, digest}, signature: {content, verifier: {keyDetails, certificate
 * or key}}}. Its bytes are the Merkle leaf, so a verifier that holds only the signature (a gitsign CMS
 * embeds the entry without its body) rebuilds them here; a signer can compare what the log returns.
 */
export function keyDetails(key: KeyObject): string {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType === 'ed25519') return 'PKIX_ED25519';
  if (curve === 'prime256v1') return 'PKIX_ECDSA_P256_SHA_256';
  if (curve === 'secp384r1') return 'PKIX_ECDSA_P384_SHA_384';
  if (curve === 'secp521r1') return 'PKIX_ECDSA_P521_SHA_512';
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (key.asymmetricKeyType === 'rsa' && (bits === 2048 || bits === 3072 || bits === 4096)) return `PKIX_RSA_PKCS1V15_${bits}_SHA256`;
  throw new GitsignError('UNSUPPORTED_SIGNATURE', `no Rekor v2 key type for a ${key.asymmetricKeyType ?? 'unknown'} key ${curve ?? bits ?? ''}`.trim());
}

/** digest: SHA-256 of the signed bytes (for a DSSE envelope, of its PAE). */
export function hashedRekordV2Body(digest: Buffer, signature: Buffer, signer: LoggedSigner, details: string): Buffer {
  const verifier = 'certificate' in signer ? { keyDetails: details, x509Certificate: { rawBytes: signer.certificate.toString('base64') } } : { keyDetails: details, publicKey: { rawBytes: signer.publicKey.toString('base64') } };
  return canonicalBody({
    apiVersion: '0.0.2',
    kind: 'hashedrekord',
    spec: { hashedRekordV002: { data: { algorithm: 'SHA2_256', digest: digest.toString('base64') }, signature: { content: signature.toString('base64'), verifier } } },
  });
}
