import { clip, terminalLine } from './text/terminal';

/**
 * One error type for the whole program: a stable code for tests and --json, and a one-line message
 * for people. Anything else that escapes is a bug and is reported as INTERNAL.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG'
  | 'GIT'
  | 'MALFORMED_OBJECT'
  | 'NOT_SIGNED'
  | 'UNSUPPORTED_SIGNATURE'
  | 'MALFORMED_SIGNATURE'
  | 'BUNDLE'
  | 'CONTENT_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'CERTIFICATE'
  /** A certificate's bytes do not parse as X.509, or hold values no CA may issue. */
  | 'MALFORMED_CERTIFICATE'
  | 'SCT'
  | 'TLOG'
  | 'TLOG_MISSING'
  /** No verified SET or RFC 3161 timestamp dates the signature, so its certificate cannot be checked. */
  | 'UNATTESTED_TIME'
  | 'TIMESTAMP'
  | 'IDENTITY'
  | 'TRUST_ROOT'
  | 'NETWORK'
  | 'SERVICE'
  | 'TOKEN'
  | 'INTERNAL'
  /** Standard output is closed, is /dev/null when signing, or its reader went away: the output was not delivered. */
  | 'OUTPUT'
  /** The verifier stopped on this object (its worker died, or describing the outcome failed): not verified. */
  | 'VERIFIER_FAILED'
  /** The detached SCT given with --sct is not an RFC 6962 add-chain response (JSON, fields, base64, TLS). */
  | 'MALFORMED_SCT'
  /** A credential-cache peer sent bytes that are not the net/rpc and gob messages of Go gitsign's cache. */
  | 'CACHE_PROTOCOL'
  /** A repository signing policy (.gitsign/policy.yaml) that cannot be read, parsed or used: each problem with its line and column. */
  | 'POLICY'
  /** A signed push's certificate (GIT_PUSH_CERT) that is missing, malformed, or does not match the push. */
  | 'PUSH_CERT'
  /** An SSH signature, public key or allowed_signers line whose bytes are not what OpenSSH's formats allow (or exceed our size caps). */
  | 'SSH_MALFORMED'
  /** An SSH signature that does not verify with its public key over the object (tampered, or made by another key). */
  | 'SSH_BAD_SIGNATURE'
  /** An SSH signature made for another namespace than "git" (a signature of a file, an email, ... is not a signature of a git object). */
  | 'SSH_NAMESPACE'
  /** An SSH signature we refuse to judge: ssh-rsa (SHA-1), certificates, unknown key types or hashes. */
  | 'SSH_UNSUPPORTED'
  /** An OpenPGP certificate (public key) that cannot be read or used: size, armor, packets, a private key, too many parts. */
  | 'OPENPGP_KEY'
  /** An OpenPGP signature block that is not exactly one well-formed armored signature packet we can read. */
  | 'OPENPGP_MALFORMED'
  /** An OpenPGP block with more than one signature (git refuses those too). */
  | 'OPENPGP_MULTIPLE_SIGNATURES'
  /** An OpenPGP signature that is not of a document (binary 0x00 or text 0x01). */
  | 'OPENPGP_SIGNATURE_TYPE'
  /** An OpenPGP signature over a broken digest (SHA-1, MD5, RIPEMD-160). */
  | 'OPENPGP_WEAK_HASH'
  /** An OpenPGP signing key too weak to rely on (RSA under 2047 bits, DSA, ElGamal). */
  | 'OPENPGP_WEAK_KEY'
  /** An OpenPGP signature whose claimed creation time is ahead of our clock (beyond a few minutes' skew). */
  | 'OPENPGP_FUTURE_SIGNATURE'
  /** An OpenPGP signature whose own expiration time has passed. */
  | 'OPENPGP_SIGNATURE_EXPIRED'
  /** An OpenPGP signature that does not match the object under the key it names. */
  | 'OPENPGP_BAD_SIGNATURE'
  /** The OpenPGP key or signing subkey had expired at the signature's claimed time. */
  | 'OPENPGP_KEY_EXPIRED'
  /** The OpenPGP key or signing subkey is revoked (hard: always; superseded/retired: from the revocation's time). */
  | 'OPENPGP_KEY_REVOKED'
  /** The OpenPGP key could not sign at the claimed time: not yet created, no valid binding, not flagged for signing. */
  | 'OPENPGP_KEY_UNUSABLE'
  /** Verifying one OpenPGP signature took longer than its deadline. */
  | 'OPENPGP_TIMEOUT';

export class GitsignError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'GitsignError';
  }
}

/** The signature itself does not match the data (git's BADSIG), as opposed to "cannot be checked". */
export function isBadSignature(err: unknown): boolean {
  return err instanceof GitsignError && (err.code === 'CONTENT_MISMATCH' || err.code === 'SIGNATURE_INVALID');
}

/** The error's sentence for a user: a bug says it is one ("internal error: ..."), once. */
export function userMessage(e: GitsignError): string {
  return e.code === 'INTERNAL' && !e.message.startsWith('internal error') ? `internal error: ${e.message}` : e.message;
}

export function toGitsignError(err: unknown): GitsignError {
  if (err instanceof GitsignError) return err;
  // The same class from another bundle file (subcommands load separately): keep its code.
  if (err instanceof Error && err.name === 'GitsignError' && typeof (err as { code?: unknown }).code === 'string') {
    return new GitsignError((err as GitsignError).code, err.message, { cause: err });
  }
  // A bug: say so, in one line, with the runtime's words clipped (they may quote hostile input).
  const message = err instanceof Error ? err.message : String(err);
  return new GitsignError('INTERNAL', `internal error: ${oneLine(message)}`, { cause: err });
}

/**
 * Someone else's text (a library's message, a server's words) made fit for one of our sentences: one
 * line (line breaks and the blanks around them become a space), no terminal controls, clipped.
 */
export function oneLine(text: string, max = 200): string {
  return clip(terminalLine(text.replace(/\s*[\r\n]+\s*/g, ' ')), max);
}

/** A value from the input quoted in a sentence: JSON string syntax (so every control is escaped), clipped. */
export function quoted(value: unknown, max = 80): string {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return JSON.stringify(text.length <= max ? text : `${text.slice(0, max)}...`);
}

/** What a failed open or read of a file means, in words; the errno code stays for searching. */
const FILE_ERRNO: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  EIO: 'an input/output error',
  ENXIO: 'no such device or nothing writing to it',
  EAGAIN: 'nothing to read without waiting',
};

/** One sentence for a file we could not read: `cannot read WHAT "PATH": no such file (ENOENT)`. */
export function cannotRead(code: ErrorCode, what: string, path: string, err: unknown): GitsignError {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = typeof errno === 'string' ? `${FILE_ERRNO[errno] ?? 'error'} (${errno})` : 'read error';
  return new GitsignError(code, `cannot read ${what ? `${what} ` : ''}${quoted(path, 200)}: ${why}`, { cause: err });
}

/**
 * `what`, followed by a library's own words when `err` is one of its refusals (`kinds`: its error
 * classes, by identity: the bundle minifies class names); anything else it threw names no input.
 */
export function withReason(what: string, err: unknown, ...kinds: (abstract new (...args: never[]) => Error)[]): string {
  return kinds.some((k) => err instanceof k) ? `${what} (${oneLine((err as Error).message, 120)})` : what;
}
