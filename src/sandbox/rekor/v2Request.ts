import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { hashedRekordV2Body, keyDetails } from '../../rekor/v2/hashedrekord';
import type { LoggedSigner } from '../../rekor/loggedSignature';
import { verifyDigest } from '../../crypto/prehash';

/**
 * A Rekor v2 (rekor-tiles) CreateEntryRequest checked and turned into the hashedrekord 0.0.2 body the
 * log appends: the digest must be SHA-256, the verifier a certificate or PKIX key of the named type,
 * and the signature must verify over the digest. DSSE requests are not served by the sandbox.
 */
export class V2RequestRejected extends Error {}

const reject = (why: string): V2RequestRejected => new V2RequestRejected(why);

function b64(v: unknown, what: string): Buffer {
  if (typeof v !== 'string' || v === '' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw reject(`${what} must be non-empty base64`);
  return Buffer.from(v, 'base64');
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw reject(`${what} is required`);
  return v as Record<string, unknown>;
}

function verifierKey(verifier: Record<string, unknown>): { signer: LoggedSigner; key: KeyObject } {
  try {
    if (verifier.x509Certificate !== undefined) {
      const der = b64(obj(verifier.x509Certificate, 'verifier.x509Certificate').rawBytes, 'verifier.x509Certificate.rawBytes');
      return { signer: { certificate: der }, key: new X509Certificate(der).publicKey };
    }
    if (verifier.publicKey !== undefined) {
      const der = b64(obj(verifier.publicKey, 'verifier.publicKey').rawBytes, 'verifier.publicKey.rawBytes');
      return { signer: { publicKey: der }, key: createPublicKey({ key: der, format: 'der', type: 'spki' }) };
    }
  } catch (err) {
    if (err instanceof V2RequestRejected) throw err;
    throw reject('the verifier could not be parsed');
  }
  throw reject('verifier needs an x509Certificate or a publicKey');
}

export function hashedRekordV2FromRequest(request: unknown): Buffer {
  const r = obj(request, 'request');
  if (r.dsseRequestV002 !== undefined) throw reject('dsseRequestV002 is not supported by the sandbox');
  const spec = obj(r.hashedRekordRequestV002, 'hashedRekordRequestV002');
  const digest = b64(spec.digest, 'digest');
  if (digest.length !== 32) throw reject('digest must be a SHA-256 digest');
  const sig = obj(spec.signature, 'signature');
  const content = b64(sig.content, 'signature.content');
  const verifier = obj(sig.verifier, 'signature.verifier');
  const { signer, key } = verifierKey(verifier);
  let details: string;
  try {
    details = keyDetails(key);
  } catch {
    throw reject('unsupported key type');
  }
  if (verifier.keyDetails !== details) throw reject(`keyDetails must be ${details} for this key`);
  let ok = false;
  try {
    ok = verifyDigest(key, digest, content);
  } catch {
    throw reject('unsupported key type');
  }
  if (!ok) throw reject('verifying signature: invalid signature');
  return hashedRekordV2Body(digest, content, signer, details);
}
