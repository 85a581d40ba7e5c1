import { GitsignError } from '../errors';
import type { LoggedSignature } from '../rekor/loggedSignature';
import type { SignedContent } from './signedContent';

/**
 * A log entry vouches only for what it records: the signed bytes' digest (hashedrekord) or the DSSE
 * payload's (dsse, intoto) and the whole envelope's (intoto 0.0.1), the signer, and the signature,
 * compared in that order so the message names the first thing that differs. A hashedrekord entry may
 * log a DSSE envelope by the digest of its PAE (Rekor v2's hashedrekord-over-DSSE); @sigstore/verify
 * 3.1.1 compares that digest with the payload's and rejects such valid entries.
 */
function mismatch(what: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry does not match the signature: ${what}`);
}

export function checkEntryMatches(logged: LoggedSignature, content: SignedContent): void {
  const dsse = content.payloadDigest !== undefined;
  if (logged.signedDigest) {
    const { algorithm, value } = logged.signedDigest;
    const want = content.signedDigest(algorithm);
    if (!want) throw mismatch(`the ${logged.type} entry records a ${algorithm} digest, which cannot be computed from a SHA-256 digest`);
    if (!want.equals(value)) throw mismatch(dsse ? 'it records another DSSE envelope (the digest of its PAE differs)' : 'it records the digest of another artifact');
  }
  if (logged.payloadDigest) {
    if (!content.payloadDigest) throw mismatch(`a ${logged.type} entry logs a DSSE envelope, not a message signature`);
    if (!content.payloadDigest(logged.payloadDigest.algorithm)?.equals(logged.payloadDigest.value)) throw mismatch('it records another DSSE payload');
  }
  if (logged.envelopeDigest) {
    const want = content.envelopeDigest?.(logged.envelopeDigest.algorithm);
    if (!want) throw mismatch(`a ${logged.type} entry logs a whole serialized DSSE envelope, which this signature does not come with`);
    if (!want.equals(logged.envelopeDigest.value)) throw mismatch('it records another DSSE envelope');
  }
  if (logged.signatures.length !== 1) throw mismatch(`it records ${logged.signatures.length} signatures, not one`);
  const [{ signature, signer }] = logged.signatures;
  if (content.signer) {
    if ('certificate' in signer) {
      if (!content.signer.certificate?.equals(signer.certificate)) throw mismatch('it names another signing certificate');
    } else if (!content.signer.publicKey.equals(signer.publicKey)) {
      throw mismatch('it names another public key');
    }
  }
  // Without a logged signature (intoto 0.0.1) the envelope digest, which covers it, has been compared.
  if (signature && !signature.equals(content.signature)) throw mismatch('it records another signature');
}
