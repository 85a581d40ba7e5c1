import { createPublicKey, type KeyObject } from 'node:crypto';
import type { X509Certificate } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import type { Certificate } from '../x509/certificate';

/**
 * Fulcio chain verification: the leaf must be signed by a certificate of a trusted CA valid at the
 * attested time, with the CA's own path (to its root) well-formed and valid then too.
 *
 * The same rules as @sigstore/verify's CertificateChainVerifier (issuer found by AKI/SKI and name,
 * every certificate valid at the time, CAs above the leaf, name chaining, path length), except that
 * the certificates of the trusted root are trust anchors: their own signatures are not re-verified
 * for every object. With @sigstore/verify that re-work (three P-384 verifications and repeated DER
 * re-encodings per object) was 65% of the time to verify the corpus.
 */
interface CaCert {
  core: X509Certificate;
  subject: Buffer;
  issuer: Buffer;
  ski?: Buffer;
  isCA: boolean;
  pathLen?: number;
  notBefore: Date;
  notAfter: Date;
  key?: KeyObject;
}

interface Authority {
  certs: CaCert[];
  validFor: { start: Date; end: Date };
}

const cache = new WeakMap<TrustMaterial, Authority[]>();

function toCaCert(core: X509Certificate): CaCert {
  const bc = core.extBasicConstraints;
  return {
    core,
    subject: core.subject,
    issuer: core.issuer,
    ski: core.extSubjectKeyID?.keyIdentifier,
    isCA: Boolean(bc?.isCA),
    pathLen: bc?.pathLenConstraint !== undefined ? Number(bc.pathLenConstraint) : undefined,
    notBefore: core.notBefore,
    notAfter: core.notAfter,
  };
}

function authorities(trust: TrustMaterial): Authority[] {
  let list = cache.get(trust);
  if (!list) {
    list = trust.certificateAuthorities.map((ca) => ({ certs: ca.certChain.map(toCaCert), validFor: ca.validFor }));
    cache.set(trust, list);
  }
  return list;
}

function publicKeyOf(c: CaCert): KeyObject {
  c.key ??= createPublicKey({ key: c.core.publicKey, format: 'der', type: 'spki' });
  return c.key;
}

function fail(message: string): GitsignError {
  return new GitsignError('CERTIFICATE', message);
}

function validAt(c: { notBefore: Date; notAfter: Date }, t: Date): boolean {
  return c.notBefore <= t && t <= c.notAfter;
}

/** From a CA certificate up to the self-signed root, by names within the trusted chain. */
function pathToRoot(certs: CaCert[], from: CaCert): CaCert[] | null {
  const path = [from];
  for (let c = from; !c.subject.equals(c.issuer); ) {
    const next = certs.find((p) => p.subject.equals(c.issuer) && !path.includes(p));
    if (!next) return null;
    path.push(next);
    c = next;
  }
  return path;
}

/** The verified path [leaf, issuer, ..., root] as @sigstore/core certificates. */
export function verifyChain(cert: Certificate, time: Date, trust: TrustMaterial): X509Certificate[] {
  const leaf = cert.x509;
  const aki = leaf.extAuthorityKeyID?.keyIdentifier;
  let reason = `no trusted CA valid at ${time.toISOString()} issued this certificate`;
  for (const ca of authorities(trust)) {
    if (time < ca.validFor.start || time > ca.validFor.end) continue;
    for (const issuer of ca.certs) {
      if (!issuer.subject.equals(leaf.issuer) || (aki && issuer.ski && !issuer.ski.equals(aki))) continue;
      if (!cert.isSignedBy(publicKeyOf(issuer))) {
        reason = "certificate signature does not verify with its issuer's key";
        continue;
      }
      const path = pathToRoot(ca.certs, issuer);
      if (!path) {
        reason = 'the trusted CA chain does not lead to a self-signed root';
        continue;
      }
      if (!path.every((c) => c.isCA)) throw fail('intermediate certificate is not a CA');
      path.forEach((c, depth) => {
        if (c.pathLen !== undefined && c.pathLen < depth) throw fail('path length constraint exceeded');
      });
      if (!validAt(leaf, time) || !path.every((c) => validAt(c, time))) {
        throw fail(`certificate is not valid at ${time.toISOString()} (valid ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()})`);
      }
      return [leaf, ...path.map((c) => c.core)];
    }
  }
  throw fail(reason);
}
