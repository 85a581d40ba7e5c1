import { createPublicKey, type KeyObject } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { GitsignError } from '../errors';
import { certificateBytes } from '../trust/rootMaterial';
import type { Certificate } from '../x509/certificate';
import { type Extensions, KEY_USAGE, OID_CODE_SIGNING } from '../x509/extensions';
import { parseCertificateFields } from '../x509/parse';

/**
 * Fulcio chain verification: the leaf must be signed by a certificate of a trusted CA valid at the
 * attested time, with the CA's own path (to its root) well-formed and valid then too.
 *
 * The rules of Go's x509.Verify with KeyUsages [codeSigning], which the Go gitsign uses: issuer found
 * by AKI/SKI and name, every certificate valid at the time, every CA above the leaf a CA (basic
 * constraints with cA) whose key usage, when present, allows certificate signing, path lengths
 * respected, and extended key usages nested (a CA that lists usages must list codeSigning or any).
 * A CA with name constraints is refused: we do not evaluate them, so we cannot honour them. The
 * certificates of the trusted root are trust anchors: their own signatures are not re-verified for
 * every object (with @sigstore/verify that re-work was 65% of the time to verify the corpus).
 */
interface CaCert {
  /** Its subject and issuer Names, whole (as our parser gives a leaf's), and the subject as Go prints it. */
  subject: Buffer;
  issuer: Buffer;
  name: string;
  notBefore: Date;
  notAfter: Date;
  extensions: Extensions;
  /** Its SubjectPublicKeyInfo (DER), and the key made from it once asked for (only an issuer's is). */
  spki: Buffer;
  key?: KeyObject;
}

interface Authority {
  certs: CaCert[];
  validFor: { start: Date; end: Date };
}

/** What a verified chain tells its callers: the issuer's key, which the SCT check needs. */
export interface VerifiedChain {
  /** The issuing CA's SubjectPublicKeyInfo (DER). */
  issuerSpki: Buffer;
}

const OID_ANY_EKU = '2.5.29.37.0';

const cache = new WeakMap<TrustMaterial, Authority[]>();

/**
 * A trusted root's CA certificate read by our parser, as a leaf is (once per trust root, from the
 * bytes the root gives). Whatever fails to read is the trust root's fault, never a runtime error.
 */
function toCaCert(der: Buffer): CaCert {
  try {
    const f = parseCertificateFields(der);
    return { subject: f.subject.der, issuer: f.issuer.der, name: f.subject.text, notBefore: f.notBefore, notAfter: f.notAfter, extensions: f.extensions, spki: f.spki };
  } catch (err) {
    const why = err instanceof GitsignError ? err.message : 'it cannot be read';
    throw new GitsignError('TRUST_ROOT', `a certificate authority of the trusted root has a malformed certificate (${why})`);
  }
}

/** A CA's certificates as the trusted root gives them (material made elsewhere: re-encoded by @sigstore/core). */
function chainOf(ca: TrustMaterial['certificateAuthorities'][number]): Buffer[] {
  return certificateBytes(ca) ?? ca.certChain.map((c) => Buffer.from(c.root.toDER()));
}

function authorities(trust: TrustMaterial): Authority[] {
  let list = cache.get(trust);
  if (!list) {
    list = trust.certificateAuthorities.map((ca) => ({ certs: chainOf(ca).map(toCaCert), validFor: ca.validFor }));
    cache.set(trust, list);
  }
  return list;
}

/** CA keys by SubjectPublicKeyInfo: a root listed by several CAs of a trusted root is one key, checked once per leaf. */
const caKeys = new Map<string, KeyObject>();

function publicKeyOf(c: CaCert): KeyObject {
  try {
    if (!c.key) {
      const id = c.spki.toString('base64');
      c.key = caKeys.get(id) ?? createPublicKey({ key: c.spki, format: 'der', type: 'spki' });
      caKeys.set(id, c.key);
    }
  } catch {
    throw new GitsignError('TRUST_ROOT', `the public key of the trusted CA certificate "${c.name}" is not a valid key`);
  }
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

/** Why a CA at `depth` certificates above the leaf's issuer may not issue what is below it, or null. */
function caProblem(ca: CaCert, depth: number): string | null {
  const { basicConstraints: bc, keyUsage, extKeyUsage, hasNameConstraints } = ca.extensions;
  const who = (): string => `CA certificate "${ca.name}"`;
  if (!bc?.isCA) return `${who()} is not a CA (no basic constraints with cA)`;
  if (keyUsage !== undefined && (keyUsage & KEY_USAGE.keyCertSign) === 0) return `${who()} is not allowed to sign certificates (key usage without keyCertSign)`;
  if (bc.pathLen !== undefined && bc.pathLen < depth) return 'path length constraint exceeded';
  if (extKeyUsage && !extKeyUsage.includes(OID_CODE_SIGNING) && !extKeyUsage.includes(OID_ANY_EKU)) return `${who()} does not allow code signing (its extended key usages exclude it)`;
  if (hasNameConstraints) return `${who()} has name constraints, which gitsign-ts does not evaluate`;
  return null;
}

/** Whether a trusted CA certificate may be the leaf's issuer: its subject is the leaf's issuer and the key IDs, when both are given, agree. */
function mayHaveIssued(issuer: CaCert, cert: Certificate): boolean {
  const aki = cert.authorityKeyId;
  const ski = issuer.extensions.subjectKeyId;
  return issuer.subject.equals(cert.issuer) && !(aki && ski && !ski.equals(aki));
}

/**
 * The leaf's signature checked on libuv's thread pool against every trusted CA that may have issued
 * it, ahead of verifyChain, which then finds the answers made (Certificate.isSignedBy). Never fails:
 * a CA key that cannot be made is left for verifyChain to report.
 */
export async function checkIssuerSignatures(cert: Certificate, trust: TrustMaterial): Promise<void> {
  const keys = new Set<KeyObject>();
  try {
    for (const ca of authorities(trust)) {
      for (const issuer of ca.certs) if (mayHaveIssued(issuer, cert)) keys.add(publicKeyOf(issuer));
    }
  } catch {
    // A malformed trusted root: verifyChain reports it, for this object as for any other.
  }
  await Promise.all([...keys].map((k) => cert.checkSignedBy(k)));
}

/** Verifies the leaf's path to a trusted root at `time`. */
export function verifyChain(cert: Certificate, time: Date, trust: TrustMaterial): VerifiedChain {
  let reason = `no trusted CA valid at ${time.toISOString()} issued this certificate`;
  for (const ca of authorities(trust)) {
    if (time < ca.validFor.start || time > ca.validFor.end) continue;
    for (const issuer of ca.certs) {
      if (!mayHaveIssued(issuer, cert)) continue;
      if (!cert.isSignedBy(publicKeyOf(issuer))) {
        reason = "certificate signature does not verify with its issuer's key";
        continue;
      }
      const path = pathToRoot(ca.certs, issuer);
      if (!path) {
        reason = 'the trusted CA chain does not lead to a self-signed root';
        continue;
      }
      path.forEach((c, depth) => {
        const problem = caProblem(c, depth);
        if (problem) throw fail(problem);
      });
      if (!validAt(cert, time) || !path.every((c) => validAt(c, time))) {
        throw fail(`certificate is not valid at ${time.toISOString()} (valid ${cert.notBefore.toISOString()} to ${cert.notAfter.toISOString()})`);
      }
      return { issuerSpki: issuer.spki };
    }
  }
  throw fail(reason);
}

/**
 * What Go's Verify and gitsign require of the signing certificate itself: no critical extension a
 * verifier does not understand, a key usage that allows digital signatures, and codeSigning among its
 * extended key usages (Fulcio always writes both).
 */
export function checkLeaf(cert: Certificate): void {
  const { unhandledCritical, keyUsage } = cert.extensions;
  if (unhandledCritical.length) {
    throw fail(`certificate has an unknown critical extension ${unhandledCritical[0]} (a verifier must refuse what it does not understand)`);
  }
  if (keyUsage === undefined || (keyUsage & KEY_USAGE.digitalSignature) === 0) {
    throw fail(`certificate is not for digital signatures (${keyUsage === undefined ? 'no key usage extension' : 'its key usage lacks digitalSignature'})`);
  }
  if (!cert.hasCodeSigningEku) throw fail('certificate is not for code signing (no codeSigning extended key usage)');
}
