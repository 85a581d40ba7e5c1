import { createHash } from 'node:crypto';
import type { Material } from './state/material';
import { spkiOf } from './x509/build';
import { CA_ORGANIZATION } from './fulcio/ca';

/**
 * The sandbox as a Sigstore trusted root (media type trustedroot v0.1): its Fulcio chain, Rekor v1 key
 * (listed first), Rekor v2 key, CT log key and TSA chain, each valid from the sandbox's creation, no end.
 */
export function trustedRootJson(m: Material, baseUrl: string, rekorV2LogId: Buffer): Record<string, unknown> {
  const validFor = { start: m.createdAt.toISOString() };
  const log = (pub: Material['rekor']['pub'], url: string, logId?: Buffer) => {
    const spki = spkiOf(pub);
    return {
      baseUrl: url,
      hashAlgorithm: 'SHA2_256',
      publicKey: { rawBytes: spki.toString('base64'), keyDetails: pub.asymmetricKeyType === 'ed25519' ? 'PKIX_ED25519' : 'PKIX_ECDSA_P256_SHA_256', validFor },
      logId: { keyId: (logId ?? createHash('sha256').update(spki).digest()).toString('base64') },
    };
  };
  return {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [log(m.rekor.pub, baseUrl), log(m.rekorV2.pub, baseUrl, rekorV2LogId)],
    certificateAuthorities: [
      {
        subject: { organization: CA_ORGANIZATION, commonName: 'sigstore' },
        uri: baseUrl,
        certChain: { certificates: [{ rawBytes: m.fulcioIntermediate.cert.toString('base64') }, { rawBytes: m.fulcioRoot.cert.toString('base64') }] },
        validFor,
      },
    ],
    ctlogs: [log(m.ctlog.pub, baseUrl)],
    timestampAuthorities: [
      {
        subject: { organization: CA_ORGANIZATION, commonName: 'sandbox-tsa' },
        uri: `${baseUrl}/api/v1/timestamp`,
        certChain: { certificates: [{ rawBytes: m.tsaLeaf.cert.toString('base64') }, { rawBytes: m.tsaRoot.cert.toString('base64') }] },
        validFor,
      },
    ],
  };
}
