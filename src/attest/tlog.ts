import { createHash } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { decodePem, encodePem } from '../cms/pem';
import { GitsignError, toGitsignError } from '../errors';
import { createEntry, getEntry, leafHashOf, searchByHash, toLogEntry } from '../rekor/client';
import { dsseBody, type EnvelopeKind, intotoBody, proposeEnvelopeEntry } from '../rekor/envelopeEntry';
import { canonicalBody } from '../rekor/hashedrekord';
import type { LogEntry } from '../rekor/tlogEntry';
import { verifyLogEntry } from '../verify/logEntry';
import { SignedEnvelope } from '../verify/signedContent';
import { Certificate } from '../x509/certificate';
import type { Envelope } from './dsse';

/**
 * An attestation's transparency log entry. gitsign logs the envelope as intoto 0.0.1; a log that
 * refuses that kind gets a dsse 0.0.1 entry instead. The envelope stored in git carries no
 * certificate, so a verifier finds the entry by the envelope's hash (both kinds index it) and takes
 * the certificate from there.
 */
export interface LoggedEnvelope {
  entry: LogEntry;
  /** The entry's UUID, as the log names it. */
  uuid: string;
  kind: EnvelopeKind;
  certificate: Certificate;
  integratedTime: Date;
}

/** A stored envelope's entry as found: without its time when the entry itself was not verified (--insecure-ignore-tlog). */
export type FoundEnvelope = Omit<LoggedEnvelope, 'integratedTime'> & { integratedTime?: Date };

/** Most entries to try for one envelope hash: an identical envelope is logged once per kind at most. */
const MAX_CANDIDATES = 16;

const envelopeHash = (env: Envelope): string => createHash('sha256').update(env.raw).digest('hex');

function signedContent(env: Envelope, cert: Certificate): SignedEnvelope {
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return new SignedEnvelope(env.payload, env.payloadType, env.signatures[0].signature, { certificate: cert.der, publicKey: spki }, env.raw);
}

function verifyEnvelopeSignature(env: Envelope, cert: Certificate): SignedEnvelope {
  const content = signedContent(env, cert);
  if (!content.verifySignature(cert.publicKey)) throw new GitsignError('SIGNATURE_INVALID', "the envelope's signature does not verify with the certificate's key");
  return content;
}

/**
 * The envelope's signature by the certificate's key, then the entry against the trust root and against
 * the envelope and certificate it must log.
 */
function verifyEnvelopeEntry(entry: LogEntry, env: Envelope, cert: Certificate, trust: TrustMaterial): Date {
  const content = verifyEnvelopeSignature(env, cert);
  const { integratedTime } = verifyLogEntry(entry, content, trust);
  if (!integratedTime) throw new GitsignError('TLOG', 'the transparency log entry has no signed entry timestamp');
  return integratedTime;
}

/** Uploads the envelope (intoto, else dsse) and verifies what the log answers before anything is stored. */
export async function logEnvelope(rekorUrl: string, env: Envelope, cert: Certificate, trust: TrustMaterial): Promise<LoggedEnvelope> {
  const pem = encodePem('CERTIFICATE', cert.der);
  const errors: string[] = [];
  for (const kind of ['intoto', 'dsse'] as const) {
    let answer;
    try {
      answer = await createEntry(rekorUrl, proposeEnvelopeEntry(kind, env.raw, pem));
    } catch (err) {
      const e = toGitsignError(err);
      // A refused kind (4xx) may be one this log does not offer; anything else is not the kind's fault.
      if (e.code !== 'TLOG') throw e;
      errors.push(`${kind}: ${e.message}`);
      continue;
    }
    const entry = toLogEntry(answer.uuid, answer.entry);
    const expected = kind === 'intoto' ? intotoBody(env.raw, env.payload, pem) : dsseBody(env.raw, env.payload, [{ sig: env.signatures[0].sig, canonicalPem: pem }]);
    if (!entry.canonicalizedBody.equals(canonicalBody(expected))) throw new GitsignError('TLOG', 'Rekor logged another entry than the one sent');
    return { entry, uuid: answer.uuid, kind, certificate: cert, integratedTime: verifyEnvelopeEntry(entry, env, cert, trust) };
  }
  throw new GitsignError('TLOG', `Rekor accepts the attestation neither as intoto nor as dsse (${errors.join('; ')})`);
}

type Hash = { value?: unknown };
interface EnvelopeBody {
  kind?: unknown;
  apiVersion?: unknown;
  spec?: { content?: { hash?: Hash }; publicKey?: unknown; envelopeHash?: Hash; signatures?: { signature?: unknown; verifier?: unknown }[] };
}

/** The certificate an entry names for this envelope, or null when the entry logs another envelope. */
function loggedCertificate(body: EnvelopeBody, env: Envelope, hash: string): Certificate | null {
  let pem: unknown;
  if (body.kind === 'intoto' && body.apiVersion === '0.0.1' && body.spec?.content?.hash?.value === hash) {
    pem = body.spec.publicKey;
  } else if (body.kind === 'dsse' && body.apiVersion === '0.0.1' && body.spec?.envelopeHash?.value === hash) {
    pem = body.spec.signatures?.find((s) => s.signature === env.signatures[0].sig)?.verifier;
  } else {
    return null;
  }
  const { label, der } = decodePem(Buffer.from(typeof pem === 'string' ? pem : '', 'base64'));
  if (label !== 'CERTIFICATE') throw new GitsignError('TLOG', 'the attestation was logged with a bare public key, not a Fulcio certificate');
  return new Certificate(der);
}

/**
 * The verified entry of a stored envelope, found in Rekor by the envelope's hash. With `checkEntry`
 * false (--insecure-ignore-tlog) the log is only where the certificate is found: the entry must still
 * name this envelope and its signature must verify with that certificate, but the entry's SET and
 * inclusion proof are not checked, so it attests no time.
 */
export async function findEnvelopeEntry(rekorUrl: string, env: Envelope, trust: TrustMaterial, checkEntry = true): Promise<FoundEnvelope> {
  const hash = envelopeHash(env);
  const uuids = await searchByHash(rekorUrl, `sha256:${hash}`);
  let failure: GitsignError | undefined;
  for (const uuid of uuids.slice(0, MAX_CANDIDATES)) {
    const { uuid: key, entry: json } = await getEntry(rekorUrl, uuid);
    if (leafHashOf(key) !== leafHashOf(uuid)) throw new GitsignError('TLOG', `Rekor answered entry ${key} for ${uuid}`);
    const entry = toLogEntry(key, json);
    let body: EnvelopeBody;
    try {
      body = JSON.parse(entry.canonicalizedBody.toString('utf8')) as EnvelopeBody;
    } catch {
      continue; // toLogEntry has checked the body hashes to its UUID; a non-JSON body logs nothing of ours
    }
    try {
      const cert = loggedCertificate(body, env, hash);
      if (!cert) continue;
      const found = { entry, uuid: key, kind: body.kind as EnvelopeKind, certificate: cert };
      if (!checkEntry) {
        verifyEnvelopeSignature(env, cert);
        return found;
      }
      return { ...found, integratedTime: verifyEnvelopeEntry(entry, env, cert, trust) };
    } catch (err) {
      failure ??= toGitsignError(err);
    }
  }
  if (failure) throw failure;
  throw new GitsignError(
    'TLOG_MISSING',
    `no transparency log entry at ${rekorUrl} records this envelope (sha256 ${hash}): it was changed after signing, or never logged`,
  );
}
