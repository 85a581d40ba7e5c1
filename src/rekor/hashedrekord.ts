import { createHash } from 'node:crypto';
import { json } from '@sigstore/core';
import { encodePem } from '../cms/pem';

/**
 * The hashedrekord v0.0.1 entry gitsign uploads: the SHA-256 of the signed message, the signature, and
 * the signing certificate as base64 of its PEM. Its canonical (RFC 8785) JSON is the log's entry body.
 */
export interface HashedRekordBody {
  apiVersion: '0.0.1';
  kind: 'hashedrekord';
  spec: {
    data: { hash: { algorithm: 'sha256'; value: string } };
    signature: { content: string; publicKey: { content: string } };
  };
}

export function hashedRekord(message: Buffer, signature: Buffer, certDer: Buffer): HashedRekordBody {
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(message).digest('hex') } },
      signature: {
        content: signature.toString('base64'),
        publicKey: { content: Buffer.from(encodePem('CERTIFICATE', certDer)).toString('base64') },
      },
    },
  };
}

export function canonicalBody(body: unknown): Buffer {
  return Buffer.from(json.canonicalize(body), 'utf8');
}

/** The entry's leaf hash, which is also its UUID in Rekor v1: sha256(0x00 || body). */
export function entryUuid(body: Buffer): string {
  return createHash('sha256').update(Buffer.from([0])).update(body).digest('hex');
}
