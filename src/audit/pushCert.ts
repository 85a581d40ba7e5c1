import { GitsignError, quoted } from '../errors';
import { joinSignature, objectSha1 } from '../git/objectHash';
import { signatureStart } from '../git/rawobj';
import { runGit } from '../git/run';
import { type Signer, signerFromCertificate } from '../policy/identity';
import type { VerifySettings } from '../verify/settings';
import { signatureOptions } from '../verify/settings';
import { verifyCmsSignature } from '../verify/signature';
import { parseRefUpdates, type RefUpdate } from './pushUpdates';

/**
 * A signed push certificate (`git push --signed`), as receive-pack stores it in a blob and names it in
 * GIT_PUSH_CERT: headers, a blank line, the ref updates, then the signature. It is verified here by
 * gitsign's own code; receive-pack's GIT_PUSH_CERT_STATUS and GIT_PUSH_CERT_SIGNER are never trusted
 * (they depend on the server's gpg settings, and the signer string is text the certificate chose).
 */
export interface PushCertificate {
  nonce: string | null;
  updates: RefUpdate[];
  payload: Buffer;
  signature: Buffer;
}

export interface PushSigner {
  signer: Signer;
  /** The attested signing time (log or timestamp), for revocations. */
  time: Date | null;
}

/** Push certificates larger than this are refused (receive-pack keeps the whole one in memory too). */
const MAX_CERT_BYTES = 4 * 1024 * 1024;
const OID = /^([0-9a-f]{40}|[0-9a-f]{64})$/;

/** The certificate's parts, split where receive-pack splits it (signatureStart: git's parse_signed_buffer). */
export function parsePushCertificate(blob: Buffer): PushCertificate {
  const at = signatureStart(blob);
  if (at === -1) throw new GitsignError('PUSH_CERT', 'the push certificate has no signature');
  const payload = blob.subarray(0, at);
  const signature = blob.subarray(at);
  const text = payload.toString('utf8');
  const blank = text.indexOf('\n\n');
  if (!text.startsWith('certificate version 0.1\n') || blank === -1) throw new GitsignError('PUSH_CERT', 'the push certificate is not a version 0.1 certificate');
  const nonce = /^nonce ([^\n]*)$/m.exec(text.slice(0, blank))?.[1] ?? null;
  return { nonce, updates: parseRefUpdates(text.slice(blank + 2)), payload, signature };
}

/** The certificate blob receive-pack stored (GIT_PUSH_CERT names it). */
export async function readPushCertificate(oid: string, cwd?: string): Promise<PushCertificate> {
  if (!OID.test(oid)) throw new GitsignError('PUSH_CERT', `GIT_PUSH_CERT ${quoted(oid)} is not an object ID`);
  const size = await runGit(['cat-file', '-s', oid], { cwd });
  if (size.code !== 0) throw new GitsignError('PUSH_CERT', `the push certificate ${oid} is not in the repository`);
  if (Number(size.stdout.toString('latin1').trim()) > MAX_CERT_BYTES) throw new GitsignError('PUSH_CERT', `the push certificate is larger than ${MAX_CERT_BYTES} bytes`);
  const blob = await runGit(['cat-file', 'blob', oid], { cwd });
  if (blob.code !== 0) throw new GitsignError('PUSH_CERT', `the push certificate ${oid} is not a blob`);
  return parsePushCertificate(blob.stdout);
}

/** Verifies the certificate's gitsign signature (gitsign verify's checks, no identity required): who signed it, and when. */
export async function verifyPushCertificate(cert: PushCertificate, settings: VerifySettings): Promise<PushSigner> {
  // An online-mode signature's log entry is found as git's verify call finds it: by the SHA of the payload signed as an object.
  const objectSha = (): string => objectSha1('commit', joinSignature('commit', cert.payload, cert.signature));
  const result = await verifyCmsSignature(cert.payload, cert.signature, signatureOptions(settings, objectSha, { kind: 'none' }, true));
  return { signer: signerFromCertificate(result.certificate), time: result.timeSource === 'unattested' ? null : result.signingTime };
}
