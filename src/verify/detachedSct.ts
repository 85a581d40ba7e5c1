import { GitsignError } from '../errors';
import { isObject } from '../json';
import { checkSctTimestamp, readDigitallySigned, type Sct, TlsReader } from './sct';

/**
 * A detached SCT as cosign reads `--sct FILE`: the JSON of an RFC 6962 (4.1) add-chain response, which
 * Fulcio returns as signedCertificateDetachedSct.signedCertificateTimestamp (its v1 API: the SCT
 * header, base64):
 *   {"sct_version":0,"id":"<base64 log ID>","timestamp":<ms>,"extensions":"<base64>","signature":"<base64 DigitallySigned>"}
 * Read strictly: exactly these members, each of its type, base64 as Go writes it, nothing left over.
 */
export const MAX_DETACHED_SCT_BYTES = 64 * 1024;

const MEMBERS = ['sct_version', 'id', 'timestamp', 'extensions', 'signature'] as const;
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function malformed(why: string): GitsignError {
  return new GitsignError('MALFORMED_SCT', `the --sct file is not an RFC 6962 add-chain response: ${why}`);
}

function base64Member(json: Record<string, unknown>, name: string): Buffer {
  const v = json[name];
  if (typeof v !== 'string') throw malformed(`"${name}" is not a base64 string`);
  if (!CANONICAL_BASE64.test(v)) throw malformed(`"${name}" is not standard padded base64`);
  return Buffer.from(v, 'base64');
}

/** The --sct file's bytes as text: at most MAX_DETACHED_SCT_BYTES (an SCT is a few hundred), UTF-8. */
export function detachedSctText(bytes: Buffer): string {
  if (bytes.length > MAX_DETACHED_SCT_BYTES) throw malformed(`it is larger than ${MAX_DETACHED_SCT_BYTES} bytes`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed('it is not UTF-8 text');
  }
}

function jsonObject(text: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('it is not JSON');
  }
  if (!isObject(json)) throw malformed('it is not a JSON object');
  return json;
}

export function parseDetachedSct(text: string): Sct {
  const json = jsonObject(text);
  const unknown = Object.keys(json).find((k) => !(MEMBERS as readonly string[]).includes(k));
  if (unknown !== undefined) throw malformed(`it has a member ${JSON.stringify(unknown.slice(0, 40))} that an add-chain response does not`);
  const missing = MEMBERS.find((k) => !Object.hasOwn(json, k));
  if (missing) throw malformed(`it has no "${missing}"`);
  if (json.sct_version !== 0) throw malformed('"sct_version" is not 0 (version 1)');
  const timestamp = json.timestamp;
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) throw malformed('"timestamp" is not a whole number of milliseconds');
  const logId = base64Member(json, 'id');
  if (logId.length !== 32) throw malformed(`"id" has ${logId.length} bytes, not the 32 of a log ID`);
  const extensions = base64Member(json, 'extensions');
  if (extensions.length > 0xffff) throw malformed('"extensions" is longer than an SCT can carry');
  const r = new TlsReader(base64Member(json, 'signature'), (why) => malformed(`"signature" is not a TLS DigitallySigned: ${why}`));
  const signed = readDigitallySigned(r);
  r.end('it');
  const sct: Sct = { logId, timestamp: BigInt(timestamp), extensions, ...signed };
  checkSctTimestamp(sct.timestamp, (why) => malformed(`"timestamp": ${why}`));
  return sct;
}
