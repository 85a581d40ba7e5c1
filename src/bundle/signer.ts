import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Bundle } from '@sigstore/protobuf-specs';
import { cannotRead, GitsignError, quoted } from '../errors';
import type { Signer } from '../verify/signedContent';
import { Certificate } from '../x509/certificate';

/**
 * Who signed a bundle, and how the caller wants it checked: a Fulcio certificate (checked against the
 * trusted root and an identity), or a managed key the caller supplies (the bundle only hints at it).
 * The two must agree: a certificate bundle is not verified with --key, nor a key bundle by identity.
 */
export interface BundleSigner {
  /** Absent for a managed key. */
  certificate?: Certificate;
  key: KeyObject;
  /** The signer as a log entry must name it. */
  logged: Signer;
}

export function readPublicKey(path: string): KeyObject {
  let pem: Buffer;
  try {
    pem = readFileSync(path);
  } catch (err) {
    throw cannotRead('USAGE', 'the public key', path, err);
  }
  try {
    return createPublicKey(pem);
  } catch {
    // OpenSSL's words ("error:1E08010C:DECODER routines::unsupported") say nothing a person can act on.
    throw new GitsignError('USAGE', `${path} is not a usable public key (a PEM or DER public key or certificate)`);
  }
}

const spki = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });

/** The leaf certificate; a chain must not bring its own root (roots come only from the trusted root). */
function bundleCertificate(material: NonNullable<Bundle['verificationMaterial']>['content']): Certificate | undefined {
  if (material?.$case === 'certificate') return new Certificate(material.certificate.rawBytes);
  if (material?.$case !== 'x509CertificateChain') return undefined;
  const certs = material.x509CertificateChain.certificates.map((c) => new Certificate(c.rawBytes));
  const root = certs.find((c) => c.x509.subject.equals(c.x509.issuer));
  if (root) throw new GitsignError('CERTIFICATE', `the bundle's certificate chain includes a root certificate (${root.issuerString}); roots come only from the trusted root`);
  return certs[0];
}

export function bundleSigner(bundle: Bundle, key: KeyObject | undefined): BundleSigner {
  const material = bundle.verificationMaterial?.content;
  const certificate = bundleCertificate(material);
  if (certificate) {
    if (key) throw new GitsignError('IDENTITY', 'the bundle is signed with a certificate, not a managed key: verify it with --certificate-identity and --certificate-oidc-issuer, not --key');
    return { certificate, key: certificate.publicKey, logged: { certificate: certificate.der, publicKey: spki(certificate.publicKey) } };
  }
  if (!key) {
    const hint = material?.$case === 'publicKey' && material.publicKey.hint ? ` (hint ${quoted(material.publicKey.hint)})` : '';
    throw new GitsignError('IDENTITY', `the bundle is signed with a managed key${hint}, not a certificate: give that public key with --key`);
  }
  return { key, logged: { publicKey: spki(key) } };
}
