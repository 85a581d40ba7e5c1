import { GitsignError } from '../errors';

/**
 * A C2SP signed note (c2sp.org/signed-note), the envelope of every transparency log checkpoint: a text
 * ending in a newline, a blank line, then one or more lines "— <key name> <base64(key hash || signature)>".
 * Lines from keys the reader does not know (witness cosignatures, a log's other keys) are kept here
 * and skipped by whoever verifies; a line that is not a signature line makes the note malformed.
 */
export interface NoteSignature {
  name: string;
  /** The first 4 bytes: which key signed (for Sigstore logs, the first 4 bytes of the log ID). */
  keyHint: Buffer;
  signature: Buffer;
}

export interface SignedNote {
  /** The signed text, final newline included. */
  text: string;
  signatures: NoteSignature[];
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;

function malformed(why: string): GitsignError {
  return new GitsignError('TLOG', `transparency log entry does not verify: malformed checkpoint: ${why}`);
}

export function parseSignedNote(envelope: string): SignedNote {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(envelope)) throw malformed('control characters in the note');
  if (!envelope.endsWith('\n')) throw malformed('the note does not end with a newline');
  // The text may itself hold blank lines: the signatures start after the last one.
  const split = envelope.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line between the text and the signatures');
  const text = envelope.slice(0, split + 1);
  const lines = envelope.slice(split + 2, -1);
  if (lines === '') throw malformed('the note has no signature');
  const signatures = lines.split('\n').map((line) => {
    const m = SIGNATURE_LINE.exec(line);
    if (!m) throw malformed(`not a signature line: ${JSON.stringify(line.slice(0, 80))}`);
    // Padded standard base64, as Go's note.Open decodes it: anything else makes the note malformed,
    // even on a line of a key nobody checks (Buffer.from would silently read a truncated line).
    if (m[2].length % 4 !== 0) throw malformed(`signature of ${JSON.stringify(m[1].slice(0, 80))} is not valid base64`);
    const bytes = Buffer.from(m[2], 'base64');
    if (bytes.length < 5) throw malformed(`signature of ${m[1]} is too short`);
    return { name: m[1], keyHint: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}
