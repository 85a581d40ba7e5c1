import { createPublicKey } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import { isObject } from '../json';

/**
 * A trusted root (protobuf JSON, already checked by validateTrustedRoot) as @sigstore/verify's
 * TrustMaterial, made as its toTrustMaterial makes it from a TrustedRoot message, without the
 * protobuf-specs and @sigstore/verify modules that reading one through them loads on git's hot path.
 * Every certificate and key is read here, so a malformed one fails when the root is loaded.
 */
type Json = Record<string, unknown>;
type TLog = TrustMaterial['tlogs'][number];
type CertAuthority = TrustMaterial['certificateAuthorities'][number];

/** The open end of a validity period, as @sigstore/verify writes it. */
const END_OF_TIME = new Date(8_640_000_000_000_000);

/** PublicKeyDetails whose key bytes are PKCS#1 (by name or protobuf number); the others are SubjectPublicKeyInfo. */
const PKCS1_KEY_DETAILS = new Set<unknown>(['PKCS1_RSA_PKCS1V5', 'PKCS1_RSA_PSS', 1, 2]);

const present = (v: unknown): boolean => v !== undefined && v !== null;
/** protobuf JSON bytes (base64, standard or URL-safe); absent is empty. */
const bytes = (v: unknown): Buffer => (typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.alloc(0));

function validFor(range: unknown): { start: Date; end: Date } {
  const r = isObject(range) ? range : {};
  return { start: present(r.start) ? new Date(r.start as string) : new Date(0), end: present(r.end) ? new Date(r.end as string) : END_OF_TIME };
}

function tlog(log: Json): TLog {
  const key = log.publicKey as Json;
  // A log signing checkpoints with another key ID than its entries' is found by that one.
  const checkpointKey = log.checkpointKeyId;
  const logID = present(checkpointKey) ? bytes(isObject(checkpointKey) ? checkpointKey.keyId : undefined) : bytes((log.logId as Json).keyId);
  return {
    baseURL: present(log.baseUrl) ? String(log.baseUrl) : '',
    logID,
    publicKey: createPublicKey({ key: bytes(key.rawBytes), format: 'der', type: PKCS1_KEY_DETAILS.has(key.keyDetails) ? 'pkcs1' : 'spki' }),
    validFor: validFor(key.validFor),
  };
}

function authority(ca: Json): CertAuthority {
  const certs = (ca.certChain as Json).certificates as Json[];
  return { certChain: certs.map((c) => X509Certificate.parse(bytes(c.rawBytes) as Buffer<ArrayBuffer>)), validFor: validFor(ca.validFor) };
}

const list = (root: Json, key: string): Json[] => (Array.isArray(root[key]) ? (root[key] as Json[]) : []);

/** Throws what @sigstore/core or node:crypto say of a certificate or key they cannot read (the caller names the root). */
export function trustMaterialOf(root: Json): TrustMaterial {
  return {
    certificateAuthorities: list(root, 'certificateAuthorities').map(authority),
    timestampAuthorities: list(root, 'timestampAuthorities').map(authority),
    tlogs: list(root, 'tlogs').map(tlog),
    ctlogs: list(root, 'ctlogs').map(tlog),
    publicKey: (hint: string) => {
      throw new GitsignError('TRUST_ROOT', `a trusted root has no key for the hint ${JSON.stringify(hint)}`);
    },
  };
}
