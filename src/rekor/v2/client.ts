import { TransparencyLogEntry } from '@sigstore/protobuf-specs';
import { GitsignError } from '../../errors';
import { REKOR_ENTRY } from '../../net/answerLimits';
import { httpCall, parseJson, serviceError } from '../../net/http';
import type { LoggedSigner } from '../loggedSignature';
import { shapeProblem, TLOG_ENTRY_SHAPE } from '../protoJson';
import type { LogEntry } from '../tlogEntry';

/**
 * Rekor v2 (rekor-tiles) client: POST /api/v2/log/entries with a hashedrekord 0.0.2 request, answered
 * with a TransparencyLogEntry in protobuf JSON. Only the shape is checked here; the entry is verified
 * (body, proof, checkpoint, log key at the timestamp's time) by the caller before it is used.
 */
const SERVICE = 'Rekor v2';

export function hashedRekordV2Request(digest: Buffer, signature: Buffer, signer: LoggedSigner, keyDetails: string): unknown {
  const verifier = 'certificate' in signer ? { x509Certificate: { rawBytes: signer.certificate.toString('base64') } } : { publicKey: { rawBytes: signer.publicKey.toString('base64') } };
  return { hashedRekordRequestV002: { digest: digest.toString('base64'), signature: { content: signature.toString('base64'), verifier: { ...verifier, keyDetails } } } };
}

export async function createEntryV2(baseUrl: string, request: unknown): Promise<LogEntry> {
  const what = 'uploading to Rekor v2';
  const fail = (e: GitsignError): GitsignError => new GitsignError(e.code === 'SERVICE' ? 'TLOG' : e.code, `${what}: ${e.message}`);
  let res;
  try {
    res = await httpCall(`${baseUrl}/api/v2/log/entries`, {
      service: SERVICE,
      method: 'POST',
      limit: REKOR_ENTRY,
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(request),
    });
  } catch (err) {
    throw fail(err as GitsignError);
  }
  if (res.status !== 200 && res.status !== 201) throw fail(serviceError(SERVICE, res));
  const json = parseJson<unknown>(SERVICE, res);
  const problem = shapeProblem(json, TLOG_ENTRY_SHAPE, 'the answer');
  if (problem) throw new GitsignError('TLOG', `${what}: ${problem}`);
  const entry = TransparencyLogEntry.fromJSON(json);
  if (!entry.logId || !entry.kindVersion || !entry.inclusionProof) {
    throw new GitsignError('TLOG', `${what}: the answer is not a transparency log entry with an inclusion proof`);
  }
  return entry as LogEntry;
}
