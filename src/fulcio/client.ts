import { type KeyObject, sign } from 'node:crypto';
import { decodePemAll } from '../cms/pem';
import { GitsignError } from '../errors';
import { FULCIO_CHAIN } from '../net/answerLimits';
import { isObject } from '../json';
import { type HttpResponse, httpCall, parseJson, serviceError } from '../net/http';

/**
 * Fulcio client: a short-lived certificate for our public key, bound to the ID token's identity by a
 * proof of possession (the key's signature over the subject). The v2 API first; the v1 API gitsign
 * uses when a server has no v2.
 */
export interface CertificateChain {
  /** The leaf first, then the intermediates and root, as DER. */
  chain: Buffer[];
}

const SERVICE = 'Fulcio';

function chainFromPems(pems: string[]): CertificateChain {
  const chain = pems.flatMap((p) => decodePemAll(p, 'CERTIFICATE'));
  if (chain.length === 0) throw new GitsignError('SERVICE', 'Fulcio answered without a certificate');
  return { chain };
}


/** The PEM texts of a v2 answer: {signedCertificateEmbeddedSct|signedCertificateDetachedSct: {chain: {certificates: [PEM]}}}. */
function pemsOf(body: unknown): string[] {
  if (!isObject(body)) throw new GitsignError('SERVICE', 'Fulcio answered with something other than a JSON object');
  const name = body.signedCertificateEmbeddedSct != null ? 'signedCertificateEmbeddedSct' : 'signedCertificateDetachedSct';
  const signed = body[name];
  const chain = isObject(signed) ? signed.chain : undefined;
  const pems = isObject(chain) ? chain.certificates : undefined;
  if (!Array.isArray(pems)) throw new GitsignError('SERVICE', 'Fulcio answered without a certificate chain');
  const bad = pems.findIndex((p) => typeof p !== 'string');
  if (bad >= 0) throw new GitsignError('SERVICE', `Fulcio answered a certificate chain whose ${name}.chain.certificates[${bad}] is not PEM text`);
  return pems as string[];
}

async function v2(url: string, token: string, publicKeyPem: string, proof: Buffer): Promise<HttpResponse> {
  return httpCall(`${url}/api/v2/signingCert`, {
    service: SERVICE,
    method: 'POST',
    limit: FULCIO_CHAIN,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({
      credentials: { oidcIdentityToken: token },
      publicKeyRequest: { publicKey: { algorithm: 'ECDSA', content: publicKeyPem }, proofOfPossession: proof.toString('base64') },
    }),
  });
}

async function v1(url: string, token: string, spki: Buffer, proof: Buffer): Promise<HttpResponse> {
  return httpCall(`${url}/api/v1/signingCert`, {
    service: SERVICE,
    method: 'POST',
    limit: FULCIO_CHAIN,
    headers: { 'Content-Type': 'application/json', Accept: 'application/pem-certificate-chain', Authorization: `Bearer ${token}` },
    // Field order as gitsign's Go struct.
    body: JSON.stringify({ publicKey: { content: spki.toString('base64'), algorithm: 'ecdsa' }, signedEmailAddress: proof.toString('base64'), certificateSigningRequest: null }),
  });
}

export async function requestCertificate(fulcioUrl: string, idToken: string, subject: string, privateKey: KeyObject, publicKey: KeyObject): Promise<CertificateChain> {
  const url = fulcioUrl.replace(/\/+$/, '');
  const proof = sign('sha256', Buffer.from(subject), privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const res = await v2(url, idToken, publicKey.export({ type: 'spki', format: 'pem' }).toString(), proof);
  if (res.status === 200 || res.status === 201) {
    return chainFromPems(pemsOf(parseJson<unknown>(SERVICE, res)));
  }
  if (res.status !== 404 && res.status !== 405 && res.status !== 501) throw fulcioError(res);
  const legacy = await v1(url, idToken, spki, proof);
  if (legacy.status !== 201) throw fulcioError(legacy);
  return chainFromPems([legacy.text]);
}

function fulcioError(res: HttpResponse): GitsignError {
  const e = serviceError(SERVICE, res);
  return new GitsignError(res.status >= 500 ? 'NETWORK' : 'SERVICE', `getting a certificate: ${e.message}`);
}
