import { createHash, randomBytes } from 'node:crypto';
import { RFC3161Timestamp } from '@sigstore/core';
import { Der } from '../asn1/reader';
import { algorithm, bool, int, octets, seq } from '../asn1/writer';
import { OID } from '../cms/oids';
import { GitsignError } from '../errors';
import { TSA_REPLY } from '../net/answerLimits';
import { httpCall, serviceError } from '../net/http';
import { timestampLayout } from './token';

/**
 * RFC 3161 timestamp of a signature, as gitsign requests it: imprint sha256(signature value), a
 * 16-byte nonce, certReq true. The answer must carry our imprint and nonce.
 */
const SERVICE = 'the timestamp authority';

export async function timestampSignature(url: string, signature: Buffer): Promise<Buffer> {
  const imprint = createHash('sha256').update(signature).digest();
  const nonce = randomBytes(16);
  nonce[0] &= 0x7f; // a positive INTEGER
  const request = seq(int(1n), seq(algorithm(OID.sha256), octets(imprint)), int(nonce), bool(true));
  const res = await httpCall(url, {
    service: SERVICE,
    method: 'POST',
    limit: TSA_REPLY,
    headers: { 'Content-Type': 'application/timestamp-query', Accept: 'application/timestamp-reply' },
    body: request,
  });
  if (res.status !== 200) throw serviceError(SERVICE, res);
  if (!(res.headers.get('content-type') ?? '').startsWith('application/timestamp-reply')) {
    throw new GitsignError('SERVICE', `${SERVICE} answered with ${res.headers.get('content-type') ?? 'no content type'}, not a timestamp reply`);
  }
  // A refusal (PKIStatus above grantedWithMods) has no token: read the status first.
  let resp: Der;
  let status: Der | undefined;
  try {
    resp = Der.parse(res.body, 'timestamp reply');
    status = resp.children[0]?.children[0];
  } catch (err) {
    throw new GitsignError('SERVICE', `${SERVICE} answered with a malformed reply: ${(err as Error).message}`);
  }
  const code = status?.isUniversal(2) && status.content.length >= 1 && status.content.length <= 4 ? status.content.readUIntBE(0, status.content.length) : undefined;
  if (code !== undefined && code > 1) throw new GitsignError('SERVICE', `${SERVICE} refused the request (status ${code})`);
  const layout = timestampLayout(res.body);
  if (typeof layout === 'string') throw new GitsignError('SERVICE', `${SERVICE} answered with a malformed reply: ${layout}`);
  let replyImprint: Buffer;
  let tstInfo: Buffer;
  try {
    const parsed = RFC3161Timestamp.parse(res.body as Buffer<ArrayBuffer>);
    replyImprint = parsed.tstInfo.messageImprintHashedMessage;
    tstInfo = parsed.tstInfo.raw;
  } catch {
    throw new GitsignError('SERVICE', `${SERVICE} answered with a malformed reply: its TSTInfo cannot be read`);
  }
  if (!replyImprint.equals(imprint)) throw new GitsignError('SERVICE', `${SERVICE} timestamped another imprint`);
  // TSTInfo: version, policy, messageImprint, serialNumber, genTime, [accuracy], [ordering], [nonce] ...
  const replyNonce = Der.parse(tstInfo, 'TSTInfo').children.find((c, i) => i > 4 && c.isUniversal(2));
  if (!replyNonce || !replyNonce.content.equals(int(nonce).subarray(2))) throw new GitsignError('SERVICE', `${SERVICE} answered with another nonce`);
  // The token is the reply's second element (the ContentInfo), stored as the attribute value.
  return resp.child(1, 'timeStampToken').raw;
}
