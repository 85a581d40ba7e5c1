import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ASN1Obj } from '@sigstore/core';
import { decodePem } from '../../cms/pem';
import { SIGNATURE_HASH } from '../../x509/algorithms';

/**
 * What Fulcio checks about the requester's key: that it parses (PEM or PKIX DER), that it is not weak,
 * and that the requester holds it (a signature over the identity's name, or a self-signed CSR).
 */
export class KeyProblem extends Error {
  constructor(readonly kind: 'invalidPublicKey' | 'insecurePublicKey' | 'invalidSignature' | 'invalidCSR', detail: string) {
    super(detail);
  }
}

export function parsePublicKey(content: Buffer): KeyObject {
  if (content.length === 0) throw new KeyProblem('invalidPublicKey', 'public key not provided');
  try {
    if (content.includes('-----BEGIN')) return createPublicKey(content.toString('utf8'));
    return createPublicKey({ key: content, format: 'der', type: 'spki' });
  } catch (err) {
    throw new KeyProblem('invalidPublicKey', (err as Error).message);
  }
}

/** Fulcio's default algorithm registry: EC P-256/384/521, RSA >= 2048 bits, Ed25519. */
export function checkKeyStrength(key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const d = key.asymmetricKeyDetails ?? {};
  if (type === 'ec' && ['prime256v1', 'secp384r1', 'secp521r1'].includes(d.namedCurve ?? '')) return;
  if (type === 'rsa' && (d.modulusLength ?? 0) >= 2048 && (d.modulusLength ?? 0) <= 4096) return;
  if (type === 'ed25519') return;
  throw new KeyProblem('insecurePublicKey', `unsupported key ${type ?? '?'} ${d.namedCurve ?? d.modulusLength ?? ''}`);
}

/** The default hash for a key's signatures (sigstore's LoadDefaultVerifier). */
function defaultHash(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
}

export function verifyProofOfPossession(key: KeyObject, name: string, proof: Buffer): void {
  let ok = false;
  try {
    ok = proof.length > 0 && verify(defaultHash(key), Buffer.from(name, 'utf8'), key, proof);
  } catch {
    ok = false;
  }
  if (!ok) throw new KeyProblem('invalidSignature', 'proof of possession does not verify');
}

const ED25519 = '1.3.101.112';


/** A PKCS#10 request (PEM or DER): its key, once its self-signature checks out. */
export function keyFromCsr(content: Buffer): KeyObject {
  let cri: ASN1Obj;
  let sigAlg: string;
  let sig: Buffer;
  let spki: Buffer;
  try {
    const der = content.includes('-----BEGIN') ? decodePem(content).der : content;
    const root = ASN1Obj.parseBuffer(der as Buffer<ArrayBuffer>);
    cri = root.subs[0];
    sigAlg = root.subs[1].subs[0].toOID();
    sig = Buffer.from(root.subs[2].value.subarray(1));
    spki = cri.subs[2].toDER();
  } catch (err) {
    throw new KeyProblem('invalidCSR', (err as Error).message);
  }
  const key = parsePublicKey(spki);
  checkKeyStrength(key);
  // Ed25519 signs the message itself (no separate hash).
  const hash = sigAlg === ED25519 ? null : SIGNATURE_HASH[sigAlg];
  if (hash === undefined) throw new KeyProblem('invalidSignature', `unsupported CSR signature algorithm ${sigAlg}`);
  let ok = false;
  try {
    ok = verify(hash, cri.toDER(), key, sig);
  } catch {
    ok = false;
  }
  if (!ok) throw new KeyProblem('invalidSignature', 'CSR signature does not verify');
  return key;
}
