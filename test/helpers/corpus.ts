import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodePem, encodePem } from '../../src/cms/pem';
import { splitObject, type ObjectType } from '../../src/git/rawobj';
import { CORPUS } from './paths';
import type { TempRepo } from './gitRepo';

/** One row of a corpus INDEX.tsv / SELECTED.tsv, keyed by the header's column names. */
export type Row = Record<string, string>;

export function readTsv(path: string): Row[] {
  const [header, ...lines] = readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0);
  const cols = header.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    return Object.fromEntries(cols.map((c, i) => [c, cells[i] ?? '']));
  });
}

/** The gitsign-signed objects of the sigstore__<repo> folders (INDEX.tsv also lists one file from other/). */
export function signedRows(): Row[] {
  return readTsv(join(CORPUS, 'INDEX.tsv')).filter((r) => r.file.startsWith('sigstore__'));
}

export function rowType(row: Row): ObjectType {
  if (row.kind !== 'commit' && row.kind !== 'tag') throw new Error(`unexpected kind ${row.kind}`);
  return row.kind;
}

export function corpusFile(row: Row): string {
  return join(CORPUS, row.file);
}

export function readCorpus(file: string): Buffer {
  return readFileSync(join(CORPUS, file));
}

/** Writes many corpus files of one type in a single git process; returns their object IDs in order. */
export function importFiles(repo: TempRepo, files: string[], type: ObjectType): string[] {
  if (files.length === 0) return [];
  const out = execFileSync('git', ['hash-object', '-w', '--literally', '--stdin-paths', '-t', type], {
    cwd: repo.dir,
    env: repo.env,
    input: `${files.join('\n')}\n`,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.trim().split('\n');
}

/** Marks commits as shallow boundaries so git walks (log -1, rev-list A..B) never look for absent parents. */
export function markShallow(repo: TempRepo, shas: string[]): void {
  appendFileSync(join(repo.dir, '.git', 'shallow'), shas.map((s) => `${s}\n`).join(''));
}

export interface JsonLine {
  object: string;
  type: string | null;
  verified: boolean;
  identities?: string[];
  issuer?: string | null;
  certificateFingerprint?: string | null;
  timeSource?: string | null;
  tlog?: { source: string; logIndex: number | null; integratedTime: number | null };
  sctChecked?: boolean;
  identityCheck?: string;
  error?: { code: string; message: string };
}

export function parseJsonLines(stdout: string): JsonLine[] {
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as JsonLine);
}

/** The CMS DER held by a signed object, and what it signs. */
export function signatureDer(type: ObjectType, raw: Buffer): { der: Buffer; payload: Buffer; label: string } {
  const { payload, signature } = splitObject(type, raw);
  if (!signature) throw new Error('object is not signed');
  const pem = decodePem(signature);
  return { der: pem.der, payload, label: pem.label };
}

/**
 * The object with its signature replaced by `der` (PEM "SIGNED MESSAGE", Go's 64-column layout),
 * written where the old one was: in place of the gpgsig header, or at the end of a tag.
 */
export function withSignature(type: ObjectType, raw: Buffer, der: Buffer): Buffer {
  const pem = encodePem('SIGNED MESSAGE', der);
  if (type === 'tag') {
    const { payload } = splitObject('tag', raw);
    return Buffer.concat([payload, Buffer.from(pem, 'latin1')]);
  }
  const start = raw.indexOf('\ngpgsig ') + 1;
  if (start === 0) throw new Error('commit has no gpgsig header');
  let end = raw.indexOf(0x0a, start) + 1;
  while (raw[end] === 0x20) end = raw.indexOf(0x0a, end) + 1;
  const header = `gpgsig ${pem.replace(/\n$/, '').split('\n').join('\n ')}\n`;
  return Buffer.concat([raw.subarray(0, start), Buffer.from(header, 'latin1'), raw.subarray(end)]);
}

/** A copy of `buf` with the byte at `offset` XORed (so it always changes). */
export function flipByte(buf: Buffer, offset: number, mask = 0x01): Buffer {
  if (offset < 0 || offset >= buf.length) throw new Error(`offset ${offset} outside 0..${buf.length - 1}`);
  const copy = Buffer.from(buf);
  copy[offset] ^= mask;
  return copy;
}

/** The one offset of `needle` in `haystack`; fails when absent or ambiguous, so a tamper lands where meant. */
export function uniqueOffset(haystack: Buffer, needle: Buffer | string, what: string): number {
  const at = haystack.indexOf(needle);
  if (at === -1) throw new Error(`${what} not found`);
  if (haystack.indexOf(needle, at + 1) !== -1) throw new Error(`${what} found more than once`);
  return at;
}
