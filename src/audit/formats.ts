import { toGitsignError } from '../errors';
import type { RawObject } from '../git/catFile';
import { type ObjectType, splitObject } from '../git/rawobj';
import type { Signer } from '../policy/identity';
import { parseSshSignature, SSH_ARMOR_BEGIN, verifySshSignature } from '../ssh/sshsig';
import type { ObjectVerifier, VerifierFactory } from './engine';
import type { SignatureFacts } from './types';

/**
 * The signature formats git itself signs with, in front of `gitsign verify`'s checker: an object whose
 * signature is SSH (SSHSIG armor) or OpenPGP (PGP armor) is verified here; every other object
 * (gitsign's CMS, unsigned, malformed) goes to the checker it wraps, which is started only when the
 * first such object comes. Their time is the one the object claims (SSH: the committer or tagger date; OpenPGP: the
 * signature's creation time): no log saw them, so it is reported as claimed, never attested.
 */
export const PGP_ARMOR_BEGIN = '-----BEGIN PGP SIGNATURE-----';

/** Checks an OpenPGP-signed object (src/audit/formatsOpenPgp.ts), loaded only when one is met. */
export type OpenPgpChecker = (signature: Buffer, payload: Buffer) => Promise<SignatureFacts>;

/** The committer's (commit) or tagger's (tag) date: what the signer claims. Null when the header has none that parses. */
export function claimedTime(type: ObjectType, payload: Buffer): Date | null {
  const end = payload.indexOf('\n\n');
  const head = payload.toString('utf8', 0, end === -1 ? payload.length : end);
  const who = type === 'commit' ? 'committer ' : 'tagger ';
  const line = head.split('\n').find((l) => l.startsWith(who));
  const m = line ? /> (\d{1,15}) [+-]\d{4}$/.exec(line) : null;
  return m ? new Date(Number(m[1]) * 1000) : null;
}

function sshFacts(type: ObjectType, signature: Buffer, payload: Buffer): SignatureFacts {
  const claimed = claimedTime(type, payload);
  try {
    const sig = verifySshSignature(signature, payload);
    const signer: Signer = {
      identities: [sig.key.fingerprint],
      issuer: '',
      claim: () => undefined,
      key: { kind: 'ssh', fingerprint: sig.key.fingerprint, namespace: sig.namespace, claimedTime: claimed, publicKey: `${sig.key.type} ${sig.key.blob.toString('base64')}` },
    };
    return { state: 'verified', kind: 'ssh', signer, time: claimed ?? new Date(0), timeSource: 'claimed', logIndex: null, notChecked: [] };
  } catch (err) {
    const e = toGitsignError(err);
    let identities: string[] = [];
    try {
      identities = [parseSshSignature(signature).key.fingerprint];
    } catch {
      identities = [];
    }
    return { state: 'error', kind: 'ssh', code: e.code, message: e.message, identities, issuer: null };
  }
}

/** Wraps the checker of `gitsign verify` (for this many objects) with SSH and OpenPGP verification. */
export function withKeyFormats(inner: VerifierFactory, openpgp: () => OpenPgpChecker): VerifierFactory {
  return (count, names) => {
    let sigstore: ObjectVerifier | null = null;
    let pgp: OpenPgpChecker | null = null;
    return {
      // Only gitsign's checks are cached (cacheEntry.ts), and only objects that are not SSH or OpenPGP reach them.
      answer: (name: string, object: () => RawObject | null): SignatureFacts | null => (sigstore ??= inner(count, names)).answer?.(name, object) ?? null,
      verify: async (obj: RawObject): Promise<SignatureFacts> => {
        let split;
        try {
          split = obj.type === 'commit' || obj.type === 'tag' ? splitObject(obj.type, obj.raw) : null;
        } catch {
          split = null; // malformed: the gitsign checker says how, with its code
        }
        const armor = split?.signature?.subarray(0, 40).toString('latin1') ?? '';
        if (split?.signature && armor.startsWith(SSH_ARMOR_BEGIN)) return sshFacts(obj.type as ObjectType, split.signature, split.payload);
        if (split?.signature && armor.startsWith(PGP_ARMOR_BEGIN)) {
          pgp ??= openpgp();
          try {
            return await pgp(split.signature, split.payload);
          } catch (err) {
            const e = toGitsignError(err);
            return { state: 'error', kind: 'openpgp', code: e.code, message: e.message, identities: [], issuer: null };
          }
        }
        sigstore ??= inner(count, names);
        return sigstore.verify(obj);
      },
      close: async () => {
        await sigstore?.close();
      },
    };
  };
}
