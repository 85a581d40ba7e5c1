import { GitsignError } from '../errors';

/**
 * Splits a raw commit or tag object into the signed payload and the signature, on the object's own
 * bytes: nothing is decoded or re-encoded, so what is verified is exactly what git stores.
 */
export type ObjectType = 'commit' | 'tag';

export interface SplitObject {
  payload: Buffer;
  /** The signature text as git hands it to the program (continuation spaces removed, ends in \n). */
  signature: Buffer | null;
}

const SIG_HEADERS = ['gpgsig', 'gpgsig-sha256'];

/**
 * Headers an object has at most once. A second copy is malformed: readers disagree on which one
 * counts (our committer-email check read the first `committer`, `git log` shows the last).
 * `parent` and `mergetag` legitimately repeat.
 */
const SINGLETON_HEADERS: Record<ObjectType, ReadonlySet<string>> = {
  commit: new Set(['tree', 'author', 'committer', 'encoding', ...SIG_HEADERS]),
  tag: new Set(['object', 'type', 'tag', 'tagger', ...SIG_HEADERS]),
};

/** The header whose email names the signer git shows: the committer (commit) or tagger (tag). */
const SIGNER_HEADER: Record<ObjectType, string> = { commit: 'committer', tag: 'tagger' };

const NL = 0x0a;
const SP = 0x20;

interface HeaderLine {
  start: number;
  end: number; // index after the line's \n (or end of header block)
}

/** Lines of the header block (up to the first empty line), each with its byte range. */
function headerLines(raw: Buffer): { lines: HeaderLine[]; bodyStart: number } {
  const lines: HeaderLine[] = [];
  let pos = 0;
  while (pos < raw.length) {
    if (raw[pos] === NL) return { lines, bodyStart: pos };
    const nl = raw.indexOf(NL, pos);
    const end = nl === -1 ? raw.length : nl + 1;
    lines.push({ start: pos, end });
    pos = end;
  }
  return { lines, bodyStart: raw.length };
}

function headerName(raw: Buffer, line: HeaderLine): string | null {
  if (raw[line.start] === SP) return null; // continuation
  const sp = raw.indexOf(SP, line.start);
  if (sp === -1 || sp >= line.end) return null;
  return raw.toString('latin1', line.start, sp);
}

interface ScannedHeaders {
  /** The object without its gpgsig / gpgsig-sha256 headers (the raw bytes when it has none). */
  payload: Buffer;
  signature: Buffer | null;
  bodyStart: number;
  /** The committer (commit) or tagger (tag) line, without its name. */
  signerLine: Buffer | null;
}

/**
 * One pass over the header block: refuses a singleton header present twice (the gpgsig case is
 * GHSA-7rmh-48mx-2vwc), removes every gpgsig / gpgsig-sha256 header with its continuation lines and
 * returns the value of the preferred one.
 */
function scanHeaders(type: ObjectType, raw: Buffer): ScannedHeaders {
  const { lines, bodyStart } = headerLines(raw);
  const singletons = SINGLETON_HEADERS[type];
  const seen = new Set<string>();
  const kept: Buffer[] = [];
  const found = new Map<string, Buffer[]>();
  let signerLine: Buffer | null = null;
  let current: Buffer[] | null = null;
  for (const line of lines) {
    const name = headerName(raw, line);
    if (name === null && raw[line.start] === SP) {
      if (current) {
        // Continuation of a signature header: drop the one leading space, keep the rest.
        current.push(raw.subarray(line.start + 1, line.end));
        continue;
      }
      kept.push(raw.subarray(line.start, line.end));
      continue;
    }
    current = null;
    if (name !== null && singletons.has(name)) {
      if (seen.has(name)) throw new GitsignError('MALFORMED_OBJECT', `malformed git object: duplicate ${name} header`);
      seen.add(name);
    }
    if (name === SIGNER_HEADER[type]) signerLine = raw.subarray(line.start + name.length + 1, line.end);
    if (name !== null && SIG_HEADERS.includes(name)) {
      current = [raw.subarray(line.start + name.length + 1, line.end)];
      found.set(name, current);
      continue;
    }
    kept.push(raw.subarray(line.start, line.end));
  }
  kept.push(raw.subarray(bodyStart));
  const chosen = found.get('gpgsig') ?? found.get('gpgsig-sha256') ?? null;
  let signature: Buffer | null = null;
  if (chosen) {
    signature = Buffer.concat(chosen);
    if (signature[signature.length - 1] !== NL) signature = Buffer.concat([signature, Buffer.from('\n')]);
  }
  return { payload: found.size ? Buffer.concat(kept) : raw, signature, bodyStart, signerLine };
}

export function splitCommit(raw: Buffer): SplitObject {
  const { payload, signature } = scanHeaders('commit', raw);
  return { payload, signature };
}

/** The armor lines git recognizes as a signature's start (gpg-interface.c: OpenPGP, x509, SSH); no other "-----BEGIN " line is one. */
const SIGNATURE_MARKERS = ['-----BEGIN PGP SIGNATURE-----', '-----BEGIN PGP MESSAGE-----', '-----BEGIN SIGNED MESSAGE-----', '-----BEGIN SSH SIGNATURE-----'].map((m) => Buffer.from(m));

/**
 * Where git's parse_signed_buffer puts a tag's (or push certificate's) signature: the last line, from
 * the object's first byte on, that starts with one of the markers (whatever follows the marker on that
 * line, a CR included); -1 when there is none, and git calls the object unsigned.
 */
export function signatureStart(buf: Buffer): number {
  let match = -1;
  for (let pos = 0; pos < buf.length; ) {
    if (SIGNATURE_MARKERS.some((m) => buf.length - pos >= m.length && buf.compare(m, 0, m.length, pos, pos + m.length) === 0)) match = pos;
    const nl = buf.indexOf(NL, pos);
    pos = nl === -1 ? buf.length : nl + 1;
  }
  return match;
}

/** Tag: git's split (signatureStart), then the payload without its gpgsig headers, as git's parse_signature does. */
export function splitTag(raw: Buffer): SplitObject {
  const whole = scanHeaders('tag', raw); // refuses a duplicated singleton anywhere in the object
  const at = signatureStart(raw);
  if (at === -1) return { payload: whole.payload, signature: null };
  return { payload: scanHeaders('tag', raw.subarray(0, at)).payload, signature: raw.subarray(at) };
}

export function splitObject(type: ObjectType, raw: Buffer): SplitObject {
  return type === 'commit' ? splitCommit(raw) : splitTag(raw);
}

/**
 * Refuses a payload git handed us for verification whose headers are malformed (a singleton twice):
 * git's --verify call gets the payload without the object, so this is where its headers are seen.
 */
export function checkPayloadHeaders(type: ObjectType, payload: Buffer): void {
  scanHeaders(type, payload);
}

/** The email of the committer (commit) or tagger (tag), from the object's or payload's headers. */
export function signerEmail(type: ObjectType, payload: Buffer): string | null {
  const { signerLine } = scanHeaders(type, payload);
  if (!signerLine) return null;
  const m = /<([^>]*)>/.exec(signerLine.toString('utf8'));
  return m ? m[1] : null;
}
