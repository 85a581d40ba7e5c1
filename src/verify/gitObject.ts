import { GitsignError, toGitsignError } from '../errors';
import type { RawObject } from '../git/catFile';
import { joinSignature, objectSha1 } from '../git/objectHash';
import { type ObjectType, signerEmail, splitObject } from '../git/rawobj';
import type { IdentityCheck } from './identity';
import { signatureOptions, type VerifySettings } from './settings';
import { SignatureFailure, type VerifiedSignature, verifyCmsSignature } from './signature';
import type { Certificate } from '../x509/certificate';

/** How the identity is to be checked for `gitsign verify`: explicit flags, or the committer's email. */
export type IdentityRequest = IdentityCheck | { kind: 'committer-pending'; issuer?: string; issuerRegexp?: string };

export type ObjectOutcome =
  | { ok: VerifiedSignature; identity: IdentityCheck }
  | { error: GitsignError; certificate?: Certificate; identity: IdentityCheck };

/** Verifies a commit or tag from its raw object bytes (as `gitsign verify` reads them). */
export async function verifyGitObject(obj: RawObject, settings: VerifySettings, request: IdentityRequest): Promise<ObjectOutcome> {
  let identity: IdentityCheck = request.kind === 'committer-pending' ? { kind: 'committer', email: null } : request;
  try {
    if (obj.type !== 'commit' && obj.type !== 'tag') {
      throw new GitsignError('MALFORMED_OBJECT', `${obj.sha} is a ${obj.type}, not a commit or tag`);
    }
    const type = obj.type as ObjectType;
    const { payload, signature } = splitObject(type, obj.raw);
    if (request.kind === 'committer-pending') {
      identity = { kind: 'committer', email: signerEmail(type, payload), role: type === 'tag' ? 'tagger' : 'committer', issuer: request.issuer, issuerRegexp: request.issuerRegexp };
    }
    if (!signature) throw new GitsignError('NOT_SIGNED', `the ${type} is not signed`);
    // The SHA an online-mode entry names is the one gitsign computes when signing: SHA-1 over the
    // object with a `gpgsig` header, even in a SHA-256 repository (whose header is gpgsig-sha256).
    const objectSha = (): string => objectSha1(type, joinSignature(type, payload, signature));
    const ok = await verifyCmsSignature(payload, signature, signatureOptions(settings, objectSha, identity, true));
    return { ok, identity };
  } catch (err) {
    const error = toGitsignError(err);
    return { error, certificate: err instanceof SignatureFailure ? err.certificate : undefined, identity };
  }
}
