import { encodePem } from '../cms/pem';
import { GitsignError } from '../errors';
import { getEntry, leafHashOf, searchByCertificate, sha256Hex, toLogEntry } from '../rekor/client';
import type { Certificate } from '../x509/certificate';
import type { OnlineEntry } from './signature';

/** Most entries one certificate can have: a 10-minute certificate signs a handful of objects. */
const MAX_CANDIDATES = 64;

/**
 * Rekor lookups at once in this process, however many objects are verified at once (`verify --stdin`
 * keeps 64 in flight): a public log limits each client's rate, and two workers used to ask at most
 * two at a time.
 */
export const MAX_LOOKUPS = 4;
let lookups = 0;
const queued: (() => void)[] = [];

async function oneOfFewLookups<T>(lookup: () => Promise<T>): Promise<T> {
  while (lookups >= MAX_LOOKUPS) await new Promise<void>((resolve) => queued.push(resolve));
  lookups++;
  try {
    return await lookup();
  } finally {
    lookups--;
    queued.shift()?.();
  }
}

/**
 * Finds the Rekor entry of an online-mode signature as gitsign does: search by certificate, then keep
 * the hashedrekord whose hash is sha256 of the object SHA string and whose certificate is ours.
 */
export function onlineEntryFinder(rekorUrl: string, objectSha: string): (cert: Certificate) => Promise<OnlineEntry> {
  return (cert) => oneOfFewLookups(() => findEntry(rekorUrl, objectSha, cert));
}

async function findEntry(rekorUrl: string, objectSha: string, cert: Certificate): Promise<OnlineEntry> {
  const certPem = encodePem('CERTIFICATE', cert.der);
  const uuids = await searchByCertificate(rekorUrl, certPem);
  const wantHash = sha256Hex(objectSha);
  for (const uuid of uuids.slice(0, MAX_CANDIDATES)) {
    const { uuid: key, entry } = await getEntry(rekorUrl, uuid);
    if (leafHashOf(key) !== leafHashOf(uuid)) throw new GitsignError('TLOG', `Rekor answered entry ${key} for ${uuid}`);
    const logEntry = toLogEntry(key, entry);
    const body = JSON.parse(logEntry.canonicalizedBody.toString('utf8')) as {
      kind?: string;
      spec?: { data?: { hash?: { value?: unknown } }; signature?: { publicKey?: { content?: unknown } } };
    };
    if (body.kind !== 'hashedrekord' || body.spec?.data?.hash?.value !== wantHash) continue;
    const content = body.spec?.signature?.publicKey?.content;
    if (typeof content !== 'string' || Buffer.from(content, 'base64').toString('utf8') !== certPem) continue;
    return { entry: logEntry, message: Buffer.from(objectSha) };
  }
  throw new GitsignError('TLOG_MISSING', `no Rekor entry at ${rekorUrl} for object ${objectSha} signed by certificate ${cert.fingerprint}`);
}

