import { createHash, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { decodePem, encodePem, pemLabel } from '../cms/pem';
import { OID } from '../cms/oids';
import { type SignedData, type SignerInfo, digest, digestName, findAttribute, parseSignedData, requiredAttribute } from '../cms/signedData';
import { GitsignError, toGitsignError } from '../errors';
import { canonicalBody, hashedRekord } from '../rekor/hashedrekord';
import { hashedRekordV2Body, keyDetails } from '../rekor/v2/hashedrekord';
import { decodeLogEntry, type LogEntry } from '../rekor/tlogEntry';
import { RSA_ENCRYPTION, SIGNATURE_HASH, SIGNATURE_KEY_TYPE } from '../x509/algorithms';
import type { Certificate } from '../x509/certificate';
import { certificateOf } from '../x509/knownCertificates';
import { verifyCertificateTrust } from './certificateTrust';
import { checkIssuerSignatures } from './chain';
import { verifyNow, verifyOffThread } from '../crypto/verify';
import type { Sct } from './sct';
import { checkIdentity, type IdentityCheck } from './identity';
import { type VerifiedEntry, verifyLogEntry } from './logEntry';
import { attestedTimes, requireAttestedTimes } from './time/attested';
import { SignedMessage } from './signedContent';
import { verifyTimestampToken } from './time/tsa';
import { withSandboxHint } from './hints';

/**
 * Verifies one gitsign CMS signature over a payload: content binding, the signer's signature, the
 * transparency log (embedded entry, else Rekor search), timestamps, the Fulcio chain at the attested
 * time, the SCT, and the identity. Each failure is a GitsignError with a stable code.
 */
export interface VerifyOptions {
  trust: TrustMaterial;
  /** Look up the Rekor entry of an online-mode signature; absent when offline. */
  findOnlineEntry?: (cert: Certificate) => Promise<OnlineEntry>;
  ignoreTlog: boolean;
  ignoreSct: boolean;
  /** A detached SCT (--sct), checked when the certificate embeds none. */
  detachedSct?: Sct;
  identity: IdentityCheck;
  /** Require the PEM label gitsign writes (gitsign verify does; git's --verify accepts any). */
  requireSignedMessageLabel: boolean;
  /** Signature checks on libuv's thread pool, while other objects are parsed (many objects at once); else on this thread. */
  concurrent?: boolean;
}

export interface OnlineEntry {
  entry: LogEntry;
  /** What the online-mode entry signs: the object's SHA-1 as 40 hex characters. */
  message: Buffer;
}

export type TimeSource = 'tlog' | 'tsa' | 'unattested';

export interface VerifiedSignature {
  certificate: Certificate;
  /** kind: "<kind>/<version>" of the entry, e.g. hashedrekord/0.0.2 for Rekor v2. */
  tlog: { source: 'embedded' | 'online' | 'none'; kind?: string; logIndex?: string; integratedTime?: number };
  signingTime: Date;
  timeSource: TimeSource;
  cmsSigningTime?: Date;
  sctChecked: boolean;
}

/** A failure that still knows the certificate (for status lines and --json). */
export class SignatureFailure extends GitsignError {
  constructor(
    inner: GitsignError,
    readonly certificate?: Certificate,
  ) {
    super(inner.code, inner.message, { cause: inner });
  }
}

/** The signer's certificate among those the signature carries, by issuer and serial or by key ID. */
export function findSignerCertificate(sd: SignedData, si: SignerInfo): Certificate {
  for (const der of sd.certificates) {
    const cert = certificateOf(der);
    if ('issuer' in si.sid ? cert.matchesSignerId(si.sid.issuer, si.sid.serial) : cert.subjectKeyId?.equals(si.sid.subjectKeyId)) {
      return cert;
    }
  }
  throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: the signer certificate is not in the signature');
}

function checkContent(si: SignerInfo, sd: SignedData, payload: Buffer): Date | undefined {
  const contentType = requiredAttribute(si.signedAttrs, OID.contentType, 'contentType').oid;
  if (contentType !== sd.eContentType) throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: contentType attribute differs from the content type');
  const expected = requiredAttribute(si.signedAttrs, OID.messageDigest, 'messageDigest').content;
  if (!digest(si.digestAlgorithm, payload).equals(expected)) {
    throw new GitsignError('CONTENT_MISMATCH', 'signature does not match the signed data: message digest differs (the object was changed after signing)');
  }
  const t = findAttribute(si.signedAttrs, OID.signingTime);
  return t && t.length === 1 ? t[0].time : undefined;
}

async function checkSignerSignature(si: SignerInfo, key: KeyObject, offThread: boolean): Promise<void> {
  const hash = SIGNATURE_HASH[si.signatureAlgorithm] ?? (si.signatureAlgorithm === RSA_ENCRYPTION ? digestName(si.digestAlgorithm) : undefined);
  if (!hash) throw new GitsignError('UNSUPPORTED_SIGNATURE', `unsupported signature algorithm ${si.signatureAlgorithm}`);
  // As Go: an ECDSA-labelled signature by an RSA key (or the reverse) is refused, not tried.
  const keyType = SIGNATURE_KEY_TYPE[si.signatureAlgorithm] ?? 'rsa';
  if (keyType !== key.asymmetricKeyType) {
    throw new GitsignError('SIGNATURE_INVALID', `the signature algorithm ${si.signatureAlgorithm} is not for the certificate's ${key.asymmetricKeyType} key`);
  }
  const ok = offThread ? await verifyOffThread(hash, si.signedAttrsDer, key, si.signature) : verifyNow(hash, si.signedAttrsDer, key, si.signature);
  if (!ok) throw new GitsignError('SIGNATURE_INVALID', "signature does not verify with the signing certificate's key");
}

/**
 * The embedded Rekor entry, or null when absent (or in the abandoned pre-release layout, a plain string).
 * Its body was left out: it is rebuilt from the signature, as Rekor v1 (0.0.1) or v2 (0.0.2) makes it.
 */
function embeddedEntry(si: SignerInfo, cert: Certificate): LogEntry | null {
  const values = findAttribute(si.unsignedAttrs, OID.rekorTransparencyLogEntry);
  if (!values) return null;
  if (values.length !== 1) throw new GitsignError('MALFORMED_SIGNATURE', 'malformed embedded log entry: more than one value');
  if (!values[0].isUniversal(4)) return null;
  const entry = decodeLogEntry(values[0].content);
  const { kind, version } = entry.kindVersion;
  if (kind === 'hashedrekord' && version === '0.0.1') {
    entry.canonicalizedBody = canonicalBody(hashedRekord(si.signedAttrsDer, si.signature, cert.der));
  } else if (kind === 'hashedrekord' && version === '0.0.2') {
    const digest = createHash('sha256').update(si.signedAttrsDer).digest();
    entry.canonicalizedBody = hashedRekordV2Body(digest, si.signature, { certificate: cert.der }, keyDetails(cert.publicKey));
  } else {
    throw new GitsignError('TLOG', `embedded log entry has unsupported kind ${kind}/${version}`);
  }
  return entry;
}

/** An online-mode entry: a separate signature, by the same key, over the object SHA string. */
function verifyOnlineEntry(online: OnlineEntry, cert: Certificate, key: KeyObject, trust: TrustMaterial, tsa: Date[]): VerifiedEntry {
  const body = JSON.parse(online.entry.canonicalizedBody.toString('utf8')) as {
    spec?: { signature?: { content?: string; publicKey?: { content?: string } } };
  };
  const sig = Buffer.from(body.spec?.signature?.content ?? '', 'base64');
  const certPem = Buffer.from(body.spec?.signature?.publicKey?.content ?? '', 'base64').toString('utf8');
  if (certPem !== encodePem('CERTIFICATE', cert.der)) throw new GitsignError('TLOG', 'Rekor entry names another certificate');
  const content = new SignedMessage(online.message, sig);
  if (!content.verifySignature(key)) throw new GitsignError('TLOG', 'Rekor entry signature does not verify over the object SHA');
  return verifyLogEntry(online.entry, content, trust, tsa);
}

function tsaTimes(si: SignerInfo, trust: TrustMaterial): Date[] {
  return (findAttribute(si.unsignedAttrs, OID.timeStampToken) ?? []).map((v) => verifyTimestampToken(v.raw, si.signature, trust));
}

/**
 * The transparency log entry: embedded, else (online mode) searched in Rekor. An embedded entry is
 * checked even under --insecure-ignore-tlog: ignoring the log means not looking it up.
 */
async function verifyTlog(si: SignerInfo, cert: Certificate, key: KeyObject, tsa: Date[], opts: VerifyOptions): Promise<{ tlog: VerifiedSignature['tlog']; verified?: VerifiedEntry }> {
  const embedded = embeddedEntry(si, cert);
  let entry: LogEntry;
  let verified: VerifiedEntry;
  let source: 'embedded' | 'online';
  if (embedded) {
    entry = embedded;
    verified = verifyLogEntry(entry, new SignedMessage(si.signedAttrsDer, si.signature), opts.trust, tsa);
    source = 'embedded';
  } else {
    if (opts.ignoreTlog) return { tlog: { source: 'none' } };
    if (!opts.findOnlineEntry) {
      throw new GitsignError('TLOG_MISSING', 'no transparency log entry is embedded in the signature and --offline forbids looking it up in Rekor (--insecure-ignore-tlog skips the log)');
    }
    const online = await opts.findOnlineEntry(cert);
    entry = online.entry;
    verified = verifyOnlineEntry(online, cert, key, opts.trust, tsa);
    source = 'online';
  }
  const integratedTime = verified.integratedTime ? verified.integratedTime.getTime() / 1000 : undefined;
  const kind = `${entry.kindVersion.kind}/${entry.kindVersion.version}`;
  return { tlog: { source, kind, logIndex: entry.logIndex, ...(integratedTime !== undefined ? { integratedTime } : {}) }, verified };
}

async function verifySigner(sd: SignedData, si: SignerInfo, payload: Buffer, opts: VerifyOptions): Promise<VerifiedSignature> {
  const cert = findSignerCertificate(sd, si);
  try {
    const cmsSigningTime = checkContent(si, sd, payload);
    const key = cert.publicKey;
    // Concurrently, the chain's signature check starts now too, on another thread: verifyChain finds its answer.
    const issuerChecked = opts.concurrent ? checkIssuerSignatures(cert, opts.trust) : undefined;
    await checkSignerSignature(si, key, Boolean(opts.concurrent));

    // Timestamps first: an entry without a SET (Rekor v2) has its log key checked at their times.
    const tsa = tsaTimes(si, opts.trust);
    const { tlog, verified } = await verifyTlog(si, cert, key, tsa, opts);
    const attested = attestedTimes(verified ? [verified] : [], tsa);
    // Only --insecure-ignore-tlog may fall back to an unattested time; every output then says so.
    const times = opts.ignoreTlog && attested.length === 0 ? [] : requireAttestedTimes(attested);
    const timeSource: TimeSource = times[0]?.source ?? 'unattested';
    const signingTime = times[0]?.time ?? cert.notBefore;
    await issuerChecked;
    const sctChecked = verifyCertificateTrust(cert, times.length ? times.map((t) => t.time) : [cert.notBefore], opts.trust, opts.ignoreSct, opts.detachedSct);
    checkIdentity(cert, opts.identity);
    return { certificate: cert, tlog, signingTime, timeSource, cmsSigningTime, sctChecked };
  } catch (err) {
    throw new SignatureFailure(withSandboxHint(toGitsignError(err), cert), cert);
  }
}

export async function verifyCmsSignature(payload: Buffer, signature: Buffer, opts: VerifyOptions): Promise<VerifiedSignature> {
  // The label is checked before the base64 is decoded: a PGP block is the wrong type, not a corrupt one.
  const label = pemLabel(signature);
  if (opts.requireSignedMessageLabel && label !== null && label !== 'SIGNED MESSAGE') {
    throw new GitsignError('UNSUPPORTED_SIGNATURE', `unsupported signature type "${label || 'DER'}" (gitsign signatures are SIGNED MESSAGE PEM blocks)`);
  }
  const pem = decodePem(signature);
  const sd = parseSignedData(pem.der);
  if (sd.certificates.length === 0) throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: no certificate in the signature');
  let first: unknown;
  for (const si of sd.signers) {
    try {
      return await verifySigner(sd, si, payload, opts);
    } catch (err) {
      first ??= err;
    }
  }
  throw first;
}
