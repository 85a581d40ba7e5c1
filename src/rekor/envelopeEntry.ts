import { createHash } from 'node:crypto';

/**
 * The two Rekor v1 kinds that log a DSSE envelope, as proposed by a client and as the log keeps them.
 * intoto 0.0.1 (what gitsign attest uploads) sends the envelope and one PEM key; the log keeps only
 * the envelope's and the payload's SHA-256 and the key. dsse 0.0.1 sends the envelope and its
 * verifiers; the log keeps the two hashes and each signature with the key that verified it, sorted by
 * signature. Bodies are canonicalized (RFC 8785) by the caller, as for hashedrekord.
 */
const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');
const hash = (data: Buffer | string): { algorithm: 'sha256'; value: string } => ({ algorithm: 'sha256', value: sha256(data) });

export type EnvelopeKind = 'intoto' | 'dsse';

/** The proposed entry for a serialized envelope signed by the key or certificate in `pem`. */
export function proposeEnvelopeEntry(kind: EnvelopeKind, envelope: Buffer, pem: string): unknown {
  const key = Buffer.from(pem).toString('base64');
  if (kind === 'intoto') {
    return { apiVersion: '0.0.1', kind, spec: { content: { envelope: envelope.toString('utf8'), hash: hash(envelope) }, publicKey: key } };
  }
  return { apiVersion: '0.0.1', kind, spec: { proposedContent: { envelope: envelope.toString('utf8'), verifiers: [key] } } };
}

export function intotoBody(envelope: Buffer, payload: Buffer, canonicalPem: string): unknown {
  return {
    apiVersion: '0.0.1',
    kind: 'intoto',
    spec: { content: { hash: hash(envelope), payloadHash: hash(payload) }, publicKey: Buffer.from(canonicalPem).toString('base64') },
  };
}

/** `signatures`: each envelope signature as written there (base64) with the PEM of its verifier. */
export function dsseBody(envelope: Buffer, payload: Buffer, signatures: { sig: string; canonicalPem: string }[]): unknown {
  const logged = signatures
    .map((s) => ({ signature: s.sig, verifier: Buffer.from(s.canonicalPem).toString('base64') }))
    .sort((a, b) => (a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0));
  return { apiVersion: '0.0.1', kind: 'dsse', spec: { envelopeHash: hash(envelope), payloadHash: hash(payload), signatures: logged } };
}
