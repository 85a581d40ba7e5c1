import { sign } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { buildSignedData, signedAttributes, type UnsignedAttribute } from '../cms/build';
import { octets } from '../asn1/writer';
import { OID } from '../cms/oids';
import { encodePem } from '../cms/pem';
import { GitsignError } from '../errors';
import { joinSignature, objectSha1, payloadType } from '../git/objectHash';
import { createEntry, toLogEntry } from '../rekor/client';
import { canonicalBody, hashedRekord } from '../rekor/hashedrekord';
import { encodeLogEntry, type LogEntry } from '../rekor/tlogEntry';
import { timestampSignature } from '../tsa/client';
import { verifyChain } from '../verify/chain';
import { verifyLogEntry } from '../verify/logEntry';
import { attestedTimes, requireAttestedTimes } from '../verify/time/attested';
import { SignedMessage } from '../verify/signedContent';
import { verifyTimestampToken } from '../verify/time/tsa';
import type { Credential, Say } from './credential';
import { logV2AndVerify, REKOR_V2_NEEDS_TSA } from './rekorV2';

/**
 * Signs a git object's payload as gitsign does: a detached CMS over the payload, optionally an
 * RFC 3161 timestamp of the signature, and a Rekor entry. rekorMode=offline logs the signed attributes
 * and embeds the returned entry in the signature; online logs a second signature over the SHA the
 * object will have once signed, and embeds nothing. Rekor v2 has no search API, so a v2 entry is
 * always embedded; it needs a timestamp. Every Rekor answer is verified before use.
 */
export interface SignOptions {
  rekorUrl: string;
  rekorMode: 'offline' | 'online';
  rekorVersion?: 1 | 2;
  timestampUrl?: string;
  trust: TrustMaterial;
  /** Attached signatures carry the payload (git always asks for detached ones). */
  detached: boolean;
  now?: Date;
  say: Say;
}

export interface SignResult {
  der: Buffer;
  armored: string;
  logIndex?: string;
}

/**
 * Logs a signature in Rekor v1 and verifies the answer before anything is handed to git. The
 * certificate must have been valid when the log saw the entry, at the time its SET attests (or the
 * RFC 3161 time): verifiers check the chain then, and an answer nobody dates is refused.
 */
async function logAndVerify(message: Buffer, signature: Buffer, cred: Credential, opts: SignOptions, tsaTime?: Date): Promise<LogEntry> {
  const body = hashedRekord(message, signature, cred.certificate.der);
  const { uuid, entry } = await createEntry(opts.rekorUrl, body, () => opts.say('Signature already exists. Fetching and verifying inclusion proof.'));
  const logEntry = toLogEntry(uuid, entry);
  if (!logEntry.canonicalizedBody.equals(canonicalBody(body))) throw new GitsignError('TLOG', 'Rekor logged another entry than the one sent');
  const tsa = tsaTime ? [tsaTime] : [];
  const verified = verifyLogEntry(logEntry, new SignedMessage(message, signature), opts.trust, tsa);
  if (!logEntry.inclusionProof) throw new GitsignError('TLOG', 'Rekor answered without an inclusion proof');
  for (const { time } of requireAttestedTimes(attestedTimes([verified], tsa))) verifyChain(cred.certificate, time, opts.trust);
  return logEntry;
}

export async function signPayload(payload: Buffer, cred: Credential, opts: SignOptions): Promise<SignResult> {
  const signedAttrs = signedAttributes(payload, opts.now ?? new Date());
  const signature = sign('sha256', signedAttrs, cred.privateKey);
  const v2 = opts.rekorVersion === 2;
  if (v2 && !opts.timestampUrl) throw new GitsignError('CONFIG', REKOR_V2_NEEDS_TSA);
  const unsigned: UnsignedAttribute[] = [];
  let tsaTime: Date | undefined;
  if (opts.timestampUrl) {
    const token = await timestampSignature(opts.timestampUrl, signature);
    tsaTime = verifyTimestampToken(token, signature, opts.trust); // a token no verifier could check is worse than none
    unsigned.push({ oid: OID.timeStampToken, values: [token] });
  }
  let logIndex: string | undefined;
  if (opts.rekorMode === 'offline' || v2) {
    const entry = v2 ? await logV2AndVerify(opts.rekorUrl, signedAttrs, signature, cred, opts.trust, tsaTime as Date) : await logAndVerify(signedAttrs, signature, cred, opts, tsaTime);
    unsigned.push({ oid: OID.rekorTransparencyLogEntry, values: [octets(encodeLogEntry(entry))] });
    logIndex = entry.logIndex;
  }
  const der = buildSignedData({
    certDer: cred.certificate.der,
    signedAttrs,
    signature,
    unsignedAttrs: unsigned,
    content: opts.detached ? undefined : payload,
  });
  const armored = encodePem('SIGNED MESSAGE', der);
  if (opts.rekorMode === 'online' && !v2) {
    const type = payloadType(payload);
    const sha = objectSha1(type, joinSignature(type, payload, Buffer.from(armored)));
    const message = Buffer.from(sha);
    logIndex = (await logAndVerify(message, sign('sha256', message, cred.privateKey), cred, opts)).logIndex;
  }
  return { der, armored, logIndex };
}
