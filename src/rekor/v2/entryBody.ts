import { GitsignError } from '../../errors';
import { type LoggedDigest, type LoggedSignature, type LoggedSigner, field } from '../loggedSignature';

/**
 * Rekor v2 entry bodies, the protobuf JSON of dev.sigstore.rekor.v2.Entry: hashedrekord 0.0.2 logs the
 * digest of the signed bytes with the signature and its verifier; dsse 0.0.2 the payload digest and the
 * envelope's signatures. Signers are DER (certificate or public key), digests base64 named by the
 * HashAlgorithm enum. A DSSE envelope may also be logged as a hashedrekord over the digest of its PAE
 * ("hashedrekord-over-DSSE"): the comparison with the bundle handles that, this only reads.
 */
const V2_HASHES: Record<string, string> = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512', 1: 'sha256', 2: 'sha384', 3: 'sha512' };

function malformed(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry body is malformed: ${why}`);
}

function digest(hash: unknown, path: string): LoggedDigest {
  const algorithm = V2_HASHES[String((hash as { algorithm?: unknown }).algorithm)];
  if (!algorithm) throw malformed(`${path}.algorithm is not SHA2_256, SHA2_384 or SHA2_512`);
  return { algorithm, value: Buffer.from(field<string>(hash, 'digest', 'string'), 'base64') };
}

function signer(verifier: unknown, path: string): LoggedSigner {
  const v = verifier as { x509Certificate?: unknown; publicKey?: unknown };
  if (v.x509Certificate !== undefined) return { certificate: Buffer.from(field<string>(v.x509Certificate, 'rawBytes', 'string'), 'base64') };
  if (v.publicKey !== undefined) return { publicKey: Buffer.from(field<string>(v.publicKey, 'rawBytes', 'string'), 'base64') };
  throw malformed(`${path} has neither an x509Certificate nor a publicKey`);
}

function signature(sig: unknown, path: string): { signature: Buffer; signer: LoggedSigner } {
  return {
    signature: Buffer.from(field<string>(sig, 'content', 'string'), 'base64'),
    signer: signer(field(sig, 'verifier', 'object'), `${path}.verifier`),
  };
}

export function parseV2Body(kind: 'hashedrekord' | 'dsse', spec: unknown): Omit<LoggedSignature, 'type'> {
  if (kind === 'hashedrekord') {
    const s = field(spec, 'hashedRekordV002', 'object');
    return {
      signedDigest: digest(field(s, 'data', 'object'), 'spec.hashedRekordV002.data'),
      signatures: [signature(field(s, 'signature', 'object'), 'spec.hashedRekordV002.signature')],
    };
  }
  const s = field(spec, 'dsseV002', 'object');
  return {
    payloadDigest: digest(field(s, 'payloadHash', 'object'), 'spec.dsseV002.payloadHash'),
    signatures: field<unknown[]>(s, 'signatures', 'array').map((sig, i) => signature(sig, `spec.dsseV002.signatures[${i}]`)),
  };
}
