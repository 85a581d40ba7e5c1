import { Bundle } from '@sigstore/protobuf-specs';
import { GitsignError, oneLine, quoted } from '../errors';
import { type Shape, shapeProblem, TLOG_ENTRY_SHAPE } from '../rekor/protoJson';
import type { LogEntry } from '../rekor/tlogEntry';

/**
 * A Sigstore bundle read from its JSON: the media type names the version (v0.1 to v0.3, both v0.3
 * spellings), every bytes field must be base64 (the protobuf decoder would silently skip junk), and
 * the structure each version requires is checked here, before any cryptography.
 */
export type BundleVersion = '0.1' | '0.2' | '0.3';

export interface ParsedBundle {
  version: BundleVersion;
  bundle: Bundle;
  /** The bundle's log entries, each with the log ID and kind the checks below require. */
  tlogEntries: LogEntry[];
}

const MEDIA_TYPES: Record<string, BundleVersion> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

/**
 * The JSON types of every field the decoder reads (bytes are standard or URL-safe base64, padding
 * optional), so a wrong type is named here instead of being coerced or crashing the decoder.
 */
const BUNDLE_SHAPE: Shape = {
  mediaType: 'string',
  verificationMaterial: {
    publicKey: { hint: 'string' },
    x509CertificateChain: { certificates: [{ rawBytes: 'bytes' }] },
    certificate: { rawBytes: 'bytes' },
    tlogEntries: [TLOG_ENTRY_SHAPE],
    timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: 'bytes' }] },
  },
  messageSignature: { messageDigest: { algorithm: 'enum', digest: 'bytes' }, signature: 'bytes' },
  dsseEnvelope: { payload: 'bytes', payloadType: 'string', signatures: [{ sig: 'bytes', keyid: 'string' }] },
};

function invalid(why: string): GitsignError {
  return new GitsignError('BUNDLE', `invalid bundle: ${why}`);
}

/** A protobuf int64 as JSON gives it (a decimal string); anything else is malformed. */
function int64(value: string, what: string): bigint {
  if (!/^-?[0-9]+$/.test(value)) throw invalid(`${what} is not an integer (${quoted(value)})`);
  return BigInt(value);
}

function checkContent(b: Bundle): void {
  const c = b.content;
  if (!c) throw invalid('it has neither a message signature nor a DSSE envelope');
  if (c.$case === 'messageSignature' && c.messageSignature.signature.length === 0) throw invalid('the message signature is empty');
  if (c.$case === 'dsseEnvelope') {
    const n = c.dsseEnvelope.signatures.length;
    if (n !== 1) throw invalid(`the DSSE envelope has ${n} signatures; exactly one is supported`);
    if (c.dsseEnvelope.signatures[0].sig.length === 0) throw invalid('the DSSE envelope signature is empty');
  }
}

function checkMaterial(b: Bundle, version: BundleVersion): LogEntry[] {
  const m = b.verificationMaterial;
  if (!m?.content) throw invalid('it has no verification material (certificate or public key)');
  if (m.content.$case === 'x509CertificateChain') {
    if (version === '0.3') throw invalid('a v0.3 bundle carries a single certificate, not a certificate chain');
    const certs = m.content.x509CertificateChain.certificates;
    if (certs.length === 0) throw invalid('its certificate chain is empty');
    if (certs.some((c) => c.rawBytes.length === 0)) throw invalid('its certificate chain holds an empty certificate');
  }
  if (m.content.$case === 'certificate' && m.content.certificate.rawBytes.length === 0) throw invalid('its certificate is empty');
  m.tlogEntries.forEach((e, i) => {
    const at = `transparency log entry ${i}`;
    if (int64(e.logIndex, `${at} log index`) < 0n) throw invalid(`${at} has a negative log index (${e.logIndex})`);
    if (!e.logId || e.logId.keyId.length === 0) throw invalid(`${at} has no log ID`);
    if (!e.kindVersion) throw invalid(`${at} has no kind and version`);
    if (e.canonicalizedBody.length === 0) throw invalid(`${at} has no body`);
    if (version === '0.1' && !e.inclusionPromise) throw invalid(`${at} has no signed entry timestamp (required in a v0.1 bundle)`);
    if (version !== '0.1' && !e.inclusionProof) throw invalid(`${at} has no inclusion proof (required since bundle v0.2)`);
    const proof = e.inclusionProof;
    if (proof && (int64(proof.logIndex, `${at} proof index`) < 0n || int64(proof.treeSize, `${at} tree size`) < 0n)) {
      throw invalid(`${at} has an inclusion proof with a negative index or tree size`);
    }
  });
  return m.tlogEntries as LogEntry[];
}

export function parseBundle(text: string): ParsedBundle {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(`not valid JSON (${oneLine((err as Error).message)})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  const version = typeof mediaType === 'string' ? MEDIA_TYPES[mediaType] : undefined;
  if (mediaType === undefined || mediaType === null) throw invalid('it has no media type (supported: bundle v0.1, v0.2, v0.3)');
  if (!version) throw invalid(`unsupported media type ${quoted(mediaType)} (supported: bundle v0.1, v0.2, v0.3)`);
  const problem = shapeProblem(json, BUNDLE_SHAPE, '');
  if (problem) throw invalid(problem);
  let bundle: Bundle;
  try {
    bundle = Bundle.fromJSON(json);
  } catch (err) {
    throw invalid(`it does not decode (${oneLine((err as Error).message)})`);
  }
  checkContent(bundle);
  return { version, bundle, tlogEntries: checkMaterial(bundle, version) };
}
