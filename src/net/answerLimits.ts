/**
 * The largest answer we accept from each kind of server call. A peer that sends more is cut off at the
 * limit, never buffered whole: each limit is many times the largest real answer, so a working server
 * never meets it, and a hostile one costs us at most this much memory.
 */
export interface AnswerLimit {
  bytes: number;
  /** What the answer is, for the error sentence ("more than 256 KiB, too much for <what>"). */
  what: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Fulcio's certificate chain: a leaf and two or three CA certificates of 1-2 KiB each, as PEM (in JSON for v2). */
export const FULCIO_CHAIN: AnswerLimit = { bytes: 256 * KiB, what: 'a certificate chain' };

/**
 * One Rekor entry (v1, or the entry v2 answers with): body, SET, an inclusion proof of at most 64
 * hashes and a checkpoint, a few KiB; an intoto entry may also carry its attestation (public Rekor
 * stores at most 100 KiB of it).
 */
export const REKOR_ENTRY: AnswerLimit = { bytes: 4 * MiB, what: 'a transparency log entry' };

/** A Rekor index search: entry UUIDs of ~80 bytes each; 1 MiB holds about 12,000 of them. */
export const REKOR_SEARCH: AnswerLimit = { bytes: 1 * MiB, what: 'a list of log entries' };

/** An RFC 3161 timestamp reply: the signed token and the TSA's certificates, a few KiB. */
export const TSA_REPLY: AnswerLimit = { bytes: 256 * KiB, what: 'a timestamp reply' };

/** OIDC discovery metadata: 1-3 KiB at public issuers. */
export const OIDC_DISCOVERY: AnswerLimit = { bytes: 256 * KiB, what: 'issuer metadata' };

/** The issuer's signing keys (JWKS): a handful of keys, 1-10 KiB at public issuers. */
export const OIDC_JWKS: AnswerLimit = { bytes: 512 * KiB, what: 'a key set' };

/** A token endpoint answer: an ID token, an access token and their lifetimes, a few KiB. */
export const OIDC_TOKEN: AnswerLimit = { bytes: 256 * KiB, what: 'a token answer' };

/** A device authorization answer (RFC 8628): two codes, a URL and two numbers. */
export const OIDC_DEVICE: AnswerLimit = { bytes: 64 * KiB, what: 'a device authorization' };

/** GitHub Actions' token service: one ID token in JSON. */
export const CI_TOKEN: AnswerLimit = { bytes: 256 * KiB, what: 'an ID token' };

/** What the GCE metadata server's root answers to the probe that tells a Google machine: a short listing. */
export const METADATA_PROBE: AnswerLimit = { bytes: 64 * KiB, what: 'a metadata server listing' };

/** "256 KiB", "4 MiB". */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}
