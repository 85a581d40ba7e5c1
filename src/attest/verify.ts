import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError, toGitsignError } from '../errors';
import type { CatFile } from '../git/catFile';
import type { GitOptions } from '../git/run';
import { verifyCertificateTrust } from '../verify/certificateTrust';
import { checkIdentity, type IdentityCheck } from '../verify/identity';
import type { VerifiedSignature } from '../verify/signature';
import type { Certificate } from '../x509/certificate';
import { INTOTO_PAYLOAD_TYPE, parseEnvelope } from './dsse';
import { DIGEST_TYPE, type Json, type ObjectKind, parsePredicate, parseStatement, type Statement, structJson } from './statement';
import { ATTESTATION_REFS, readAttestations } from './store';
import { findEnvelopeEntry } from './tlog';

/**
 * `gitsign verify-attestation`: every attestation stored for a commit (and for its tree) is checked
 * as a whole: the envelope's log entry (found by its hash; it names the certificate), the signature,
 * the certificate's chain at the logged time and its SCT, the identity, that the statement's subject
 * is this commit or tree, and that the file stored next to the envelope is the signed predicate.
 */
export interface StoredAttestation {
  kind: ObjectKind;
  sha: string;
  ref: string;
  /** The file's name in `<sha>/` (its envelope is `<name>.sig`). */
  name: string;
  file: Buffer | null;
  envelope: Buffer;
}

export interface AttestationContext {
  trust: TrustMaterial;
  rekorUrl: string;
  ignoreSct: boolean;
  /** --insecure-ignore-tlog: the entry is only where the certificate is found; its SET and proof are not checked. */
  ignoreTlog: boolean;
  identity: IdentityCheck;
  /** Only attestations of this predicate type (--type). */
  predicateType?: string;
}

/** identityChecked: the identity check ran (and passed) before the failure. */
export type AttestationOutcome =
  | { ok: VerifiedSignature; statement: Statement }
  | { error: GitsignError; certificate?: Certificate; statement?: Statement; identityChecked?: boolean };

const SIG = Buffer.from('.sig');

/** The attestations stored for each target, in tree order; `refs` says which refs exist at all. */
export async function storedAttestations(
  targets: { kind: ObjectKind; sha: string }[],
  catFile: CatFile,
  opts: GitOptions = {},
): Promise<{ found: StoredAttestation[]; refs: string[] }> {
  const found: StoredAttestation[] = [];
  const refs: string[] = [];
  for (const { kind, sha } of targets) {
    const { tip, dir } = await readAttestations(kind, sha, opts);
    if (tip) refs.push(ATTESTATION_REFS[kind]);
    for (const e of dir) {
      if (e.type !== 'blob' || e.name.length <= SIG.length || !e.name.subarray(-SIG.length).equals(SIG)) continue;
      const fileName = e.name.subarray(0, -SIG.length);
      const fileEntry = dir.find((f) => f.type === 'blob' && f.name.equals(fileName));
      const envelope = await catFile.read(e.sha);
      const file = fileEntry ? await catFile.read(fileEntry.sha) : null;
      if (!envelope) throw new GitsignError('GIT', `${ATTESTATION_REFS[kind]}: blob ${e.sha} is missing`);
      found.push({ kind, sha, ref: ATTESTATION_REFS[kind], name: fileName.toString('utf8'), file: file?.raw ?? null, envelope: envelope.raw });
    }
  }
  return { found, refs };
}

function describeSubjects(st: Statement): string {
  return st.subjects.map((s) => Object.entries(s.digest).map(([alg, d]) => `${alg} ${d}`).join(', ')).join('; ');
}

/** The checks that need no network, in the order a reader wants failures named. */
function checkClaims(a: StoredAttestation, st: Statement): void {
  const want = DIGEST_TYPE[a.kind];
  if (!st.subjects.some((s) => s.digest[want]?.toLowerCase() === a.sha)) {
    throw new GitsignError('CONTENT_MISMATCH', `the attestation is about ${describeSubjects(st) || 'nothing'}, not ${want} ${a.sha}`);
  }
  if (!a.file) throw new GitsignError('CONTENT_MISMATCH', `the file ${a.name} is missing next to its signature ${a.name}.sig`);
  let stored: Json;
  try {
    stored = parsePredicate(a.file, a.name);
  } catch (err) {
    throw new GitsignError('CONTENT_MISMATCH', `the stored file ${a.name} is not the signed predicate: ${toGitsignError(err).message}`);
  }
  if (structJson(stored) !== structJson(st.predicate)) throw new GitsignError('CONTENT_MISMATCH', `the stored file ${a.name} differs from the signed predicate`);
}

/** null: of another predicate type than asked for (not an error, just not shown). */
export async function verifyStoredAttestation(a: StoredAttestation, ctx: AttestationContext): Promise<AttestationOutcome | null> {
  let statement: Statement | undefined;
  let certificate: Certificate | undefined;
  let identityChecked = false;
  try {
    const env = parseEnvelope(a.envelope);
    if (env.payloadType !== INTOTO_PAYLOAD_TYPE) throw new GitsignError('UNSUPPORTED_SIGNATURE', `the envelope holds ${env.payloadType}, not an in-toto statement`);
    if (env.signatures.length !== 1) throw new GitsignError('UNSUPPORTED_SIGNATURE', `the envelope has ${env.signatures.length} signatures; gitsign writes one`);
    statement = parseStatement(env.payload);
    if (ctx.predicateType !== undefined && statement.predicateType !== ctx.predicateType) return null;
    const logged = await findEnvelopeEntry(ctx.rekorUrl, env, ctx.trust, !ctx.ignoreTlog);
    certificate = logged.certificate;
    const time = logged.integratedTime;
    // Without a verified entry no time is attested: the certificate is checked at its notBefore, and every output says so.
    const sctChecked = verifyCertificateTrust(certificate, [time ?? certificate.notBefore], ctx.trust, ctx.ignoreSct);
    checkIdentity(certificate, ctx.identity);
    identityChecked = true;
    checkClaims(a, statement);
    const ok: VerifiedSignature = {
      certificate,
      tlog: time
        ? { source: 'online', kind: `${logged.entry.kindVersion.kind}/${logged.entry.kindVersion.version}`, logIndex: logged.entry.logIndex, integratedTime: time.getTime() / 1000 }
        : { source: 'none' },
      signingTime: time ?? certificate.notBefore,
      timeSource: time ? 'tlog' : 'unattested',
      sctChecked,
    };
    return { ok, statement };
  } catch (err) {
    return { error: toGitsignError(err), certificate, statement, identityChecked };
  }
}
