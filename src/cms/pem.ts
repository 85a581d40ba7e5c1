import { GitsignError } from '../errors';

export interface PemBlock {
  label: string;
  der: Buffer;
}

const PEM_RE = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/;

/** The first PEM block of the text; raw DER (starting with a SEQUENCE tag) is accepted as is. */
export function decodePem(input: Buffer): PemBlock {
  if (input.length > 0 && input[0] === 0x30) return { label: '', der: input };
  const text = input.toString('latin1');
  const m = PEM_RE.exec(text);
  if (!m) throw new GitsignError('MALFORMED_SIGNATURE', 'malformed signature: no PEM block found');
  const body = m[2].replace(/[\s]/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length === 0) {
    throw new GitsignError('MALFORMED_SIGNATURE', `malformed signature: invalid base64 in ${m[1]} block`);
  }
  return { label: m[1], der: Buffer.from(body, 'base64') };
}

/**
 * The label of the first PEM block without decoding it ('' for raw DER, null when there is none), so a
 * PGP or SSH block (armor headers, CRC line) is reported as the wrong type, not as broken base64.
 */
export function pemLabel(input: Buffer): string | null {
  if (input.length > 0 && input[0] === 0x30) return '';
  const m = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(input.toString('latin1'));
  return m ? m[1] : null;
}

/** Every PEM block of a given label (certificate bundles). */
export function decodePemAll(text: string, label: string): Buffer[] {
  const re = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
  return [...text.matchAll(re)].map((m) => Buffer.from(m[1].replace(/\s/g, ''), 'base64'));
}

/** PEM in Go's encoding: 64-column base64 lines, trailing newline, no headers. */
export function encodePem(label: string, der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
