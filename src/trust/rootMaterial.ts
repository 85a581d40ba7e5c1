import { createPublicKey } from 'node:crypto';
import { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { Der } from '../asn1/reader';
import { GitsignError } from '../errors';
import { isObject } from '../json';

/**
 * A trusted root (protobuf JSON, already checked by validateTrustedRoot) as @sigstore/verify's
 * TrustMaterial, made as its toTrustMaterial makes it from a TrustedRoot message, without the
 * protobuf-specs and @sigstore/verify modules that reading one through them loads on git's hot path.
 * Every key is read here, and every certificate's ASN.1 structure (what @sigstore/core's parser
 * checks), so a malformed one fails when the root is loaded. The certificates' @sigstore/core form
 * (for the timestamp checks) is made when first asked for; the Fulcio chain is built from their
 * bytes by our parser (src/verify/chain.ts), which is why they are kept (certificateBytes).
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

const chainBytes = new WeakMap<CertAuthority, Buffer[]>();

/** The certificates of an authority as the trusted root gives them (DER); undefined for material not made here. */
export function certificateBytes(ca: CertAuthority): Buffer[] | undefined {
  return chainBytes.get(ca);
}

/** A whole, well-formed ASN.1 element, each constructed element's contents too. */
function checkAsn1(el: Der): void {
  for (const child of el.children) checkAsn1(child);
}

function authority(ca: Json): CertAuthority {
  const ders = ((ca.certChain as Json).certificates as Json[]).map((c) => bytes(c.rawBytes));
  for (const der of ders) checkAsn1(Der.parse(der, 'certificate', { code: 'TRUST_ROOT', der: true }));
  let parsed: X509Certificate[] | undefined;
  const made: CertAuthority = {
    get certChain(): X509Certificate[] {
      try {
        parsed ??= ders.map((der) => X509Certificate.parse(der as Buffer<ArrayBuffer>));
      } catch {
        throw new GitsignError('TRUST_ROOT', 'a certificate of the trusted root cannot be read by @sigstore/core');
      }
      return parsed;
    },
    validFor: validFor(ca.validFor),
  };
  chainBytes.set(made, ders);
  return made;
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
