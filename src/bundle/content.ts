import { HashAlgorithm, type Bundle } from '@sigstore/protobuf-specs';
import { GitsignError, quoted } from '../errors';
import { type SignedContent, SignedEnvelope, SignedMessage, type Signer } from '../verify/signedContent';
import { type Artifact, artifactDigest } from './artifact';

/**
 * What a bundle's signature covers, bound to the artifact first: a message signature's digest must be
 * the artifact's (the bundle's digest is only a hint, but a different one means another artifact); a
 * DSSE envelope must be an in-toto statement naming the artifact among its subjects.
 */
const HASHES: Partial<Record<HashAlgorithm, string>> = {
  [HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED]: 'sha256',
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
};

const IN_TOTO = 'application/vnd.in-toto+json';

function mismatch(why: string): GitsignError {
  return new GitsignError('CONTENT_MISMATCH', why);
}

function describe(artifact: Artifact): string {
  return `sha256:${(artifactDigest(artifact, 'sha256') as Buffer).toString('hex')}`;
}

/** The in-toto statement's subjects must include the artifact, by any digest we can compute. */
function checkSubject(payload: Buffer, artifact: Artifact): void {
  let statement: { subject?: { digest?: Record<string, unknown> }[] };
  try {
    statement = JSON.parse(payload.toString('utf8')) as typeof statement;
  } catch {
    throw mismatch('the DSSE payload is not a JSON in-toto statement');
  }
  const named = (statement.subject ?? []).some((s) =>
    Object.entries(s?.digest ?? {}).some(([alg, hex]) => ['sha256', 'sha384', 'sha512'].includes(alg) && typeof hex === 'string' && artifactDigest(artifact, alg)?.toString('hex') === hex.toLowerCase()),
  );
  if (!named) throw mismatch(`the artifact (${describe(artifact)}) is not a subject of the in-toto statement`);
}

export function bundleContent(bundle: Bundle, artifact: Artifact, signer: Signer): SignedContent {
  const content = bundle.content;
  if (content?.$case === 'dsseEnvelope') {
    const env = content.dsseEnvelope;
    if (env.payloadType !== IN_TOTO) throw mismatch(`the DSSE payload type ${quoted(env.payloadType)} is not an in-toto statement, so it names no artifact`);
    checkSubject(env.payload, artifact);
    return new SignedEnvelope(env.payload, env.payloadType, env.signatures[0].sig, signer);
  }
  if (content?.$case !== 'messageSignature') throw new GitsignError('BUNDLE', 'invalid bundle: it has neither a message signature nor a DSSE envelope');
  const { messageDigest, signature } = content.messageSignature;
  const hash = HASHES[messageDigest?.algorithm ?? HashAlgorithm.SHA2_256];
  if (!hash) throw new GitsignError('UNSUPPORTED_SIGNATURE', `unsupported message digest algorithm ${quoted(messageDigest?.algorithm)}`);
  if (messageDigest && messageDigest.digest.length > 0) {
    const actual = artifactDigest(artifact, hash);
    if (!actual) throw new GitsignError('USAGE', `the bundle's message digest is ${hash}; give the artifact itself, not its SHA-256`);
    if (!actual.equals(messageDigest.digest)) throw mismatch(`the artifact (${describe(artifact)}) is not the one signed: its digest differs from the bundle's message digest`);
  }
  return new SignedMessage(artifact, signature, signer, hash);
}
