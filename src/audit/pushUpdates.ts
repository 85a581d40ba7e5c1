import { GitsignError, quoted } from '../errors';

/**
 * Ref updates as receive-pack gives them to pre-receive on stdin (and as a push certificate lists
 * them): `<old> <new> <ref>` per line; an all-zero ID is "no such ref" (old: a new ref, new: a deletion).
 */
export interface RefUpdate {
  old: string;
  new: string;
  ref: string;
}

/** More updates than this in one push are refused rather than audited one by one. */
export const MAX_UPDATES = 10_000;
const LINE = /^([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) (refs\/[^\u0000-\u0020\u007f~^:?*[\\]+)$/;

export const isZero = (oid: string): boolean => /^0+$/.test(oid);

export function parseRefUpdates(text: string): RefUpdate[] {
  const lines = text.split('\n').filter((l) => l !== '');
  if (lines.length > MAX_UPDATES) throw new GitsignError('USAGE', `more than ${MAX_UPDATES} ref updates in one push`);
  return lines.map((line) => {
    const m = LINE.exec(line);
    if (!m) throw new GitsignError('USAGE', `not a ref update (<old> <new> <ref>): ${quoted(line)}`);
    return { old: m[1], new: m[2], ref: m[3] };
  });
}
