import { decodePem } from '../cms/pem';
import { GitsignError, quoted } from '../errors';
import { type LoggedDigest, type LoggedSignature, type LoggedSigner, field } from './loggedSignature';
import type { LogEntry } from './tlogEntry';
import { parseV2Body } from './v2/entryBody';

/**
 * Reads a log entry's canonicalized body into a LoggedSignature. Rekor v1 kinds are parsed here
 * (hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.1 and 0.0.2: hex digests, base64 PEM signers); the
 * Rekor v2 kinds (hashedrekord 0.0.2, dsse 0.0.2) in v2/entryBody.ts.
 */
const V1_HASHES = new Set(['sha256', 'sha384', 'sha512']);

function malformed(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry body is malformed: ${why}`);
}

function hexDigest(hash: unknown, path: string): LoggedDigest {
  const algorithm = field<string>(hash, 'algorithm', 'string');
  const value = field<string>(hash, 'value', 'string');
  if (!V1_HASHES.has(algorithm) || !/^([0-9a-f]{2})+$/.test(value)) throw malformed(`${path} is not a sha256/384/512 hex digest`);
  return { algorithm, value: Buffer.from(value, 'hex') };
}

/** Rekor v1 logs a signer as base64 of its PEM: a certificate or a public key. */
function pemSigner(b64: string, path: string): LoggedSigner {
  try {
    const { label, der } = decodePem(Buffer.from(b64, 'base64'));
    if (label === 'CERTIFICATE') return { certificate: der };
    if (label === 'PUBLIC KEY') return { publicKey: der };
  } catch {
    // reported below
  }
  throw malformed(`${path} is not a PEM certificate or public key`);
}

function hashedRekordV001(spec: unknown): Omit<LoggedSignature, 'type'> {
  return {
    signedDigest: hexDigest(field(spec, 'data.hash', 'object'), 'spec.data.hash'),
    signatures: [
      {
        signature: Buffer.from(field<string>(spec, 'signature.content', 'string'), 'base64'),
        signer: pemSigner(field<string>(spec, 'signature.publicKey.content', 'string'), 'spec.signature.publicKey'),
      },
    ],
  };
}

function dsseV001(spec: unknown): Omit<LoggedSignature, 'type'> {
  return {
    payloadDigest: hexDigest(field(spec, 'payloadHash', 'object'), 'spec.payloadHash'),
    signatures: field<unknown[]>(spec, 'signatures', 'array').map((s, i) => ({
      signature: Buffer.from(field<string>(s, 'signature', 'string'), 'base64'),
      signer: pemSigner(field<string>(s, 'verifier', 'string'), `spec.signatures[${i}].verifier`),
    })),
  };
}

/** intoto 0.0.1 (what gitsign attest logs) keeps one signer and the envelope's digest, not its signature. */
function intotoV001(spec: unknown): Omit<LoggedSignature, 'type'> {
  const payloadHash = (spec as { content?: { payloadHash?: unknown } }).content?.payloadHash;
  return {
    envelopeDigest: hexDigest(field(spec, 'content.hash', 'object'), 'spec.content.hash'),
    payloadDigest: payloadHash === undefined ? undefined : hexDigest(payloadHash, 'spec.content.payloadHash'),
    signatures: [{ signer: pemSigner(field<string>(spec, 'publicKey', 'string'), 'spec.publicKey') }],
  };
}

/** intoto 0.0.2 logs each signature base64-encoded twice. */
function intotoV002(spec: unknown): Omit<LoggedSignature, 'type'> {
  return {
    payloadDigest: hexDigest(field(spec, 'content.payloadHash', 'object'), 'spec.content.payloadHash'),
    signatures: field<unknown[]>(spec, 'content.envelope.signatures', 'array').map((s, i) => ({
      signature: Buffer.from(Buffer.from(field<string>(s, 'sig', 'string'), 'base64').toString('latin1'), 'base64'),
      signer: pemSigner(field<string>(s, 'publicKey', 'string'), `spec.content.envelope.signatures[${i}].publicKey`),
    })),
  };
}

const PARSERS: Record<string, (spec: unknown) => Omit<LoggedSignature, 'type'>> = {
  'hashedrekord/0.0.1': hashedRekordV001,
  'dsse/0.0.1': dsseV001,
  'intoto/0.0.1': intotoV001,
  'intoto/0.0.2': intotoV002,
  'hashedrekord/0.0.2': (spec) => parseV2Body('hashedrekord', spec),
  'dsse/0.0.2': (spec) => parseV2Body('dsse', spec),
};

export function parseEntryBody(entry: LogEntry): LoggedSignature {
  let body: unknown;
  try {
    body = JSON.parse(entry.canonicalizedBody.toString('utf8'));
  } catch {
    throw malformed('not JSON');
  }
  const kind = field<string>(body, 'kind', 'string');
  const version = field<string>(body, 'apiVersion', 'string');
  const { kind: wantKind, version: wantVersion } = entry.kindVersion;
  if (kind !== wantKind || version !== wantVersion) {
    throw new GitsignError('TLOG', `transparency log entry is ${quoted(`${wantKind}/${wantVersion}`)} but its body is ${quoted(`${kind}/${version}`)}`);
  }
  const type = `${kind}/${version}`;
  const parse = PARSERS[type];
  if (!parse) throw new GitsignError('TLOG', `unsupported transparency log entry kind ${quoted(type)}`);
  return { type, ...parse(field(body, 'spec', 'object')) };
}
