import type { RawObject } from '../git/catFile';
import { describeIdentityCheck, type ObjectOutcome } from '../verify/gitObject';
import { jsonReport, summaryLines } from '../verify/report';

/** What `gitsign verify` prints for one object: stdout text, stderr text, and whether it verified. */
export interface RenderedOutcome {
  ok: boolean;
  out: string;
  err: string;
}

export function renderOutcome(obj: RawObject, outcome: ObjectOutcome, opts: { json: boolean; heading: boolean }): RenderedOutcome {
  const check = describeIdentityCheck(outcome.identity);
  const ok = 'ok' in outcome;
  if (opts.json) return { ok, out: `${JSON.stringify(jsonReport(obj.sha, obj.type, check, outcome))}\n`, err: '' };
  if ('ok' in outcome) {
    const note = outcome.identity.kind === 'committer' ? `identity checked: ${check} (no --certificate-identity given)` : undefined;
    const heading = opts.heading ? `${obj.type} ${obj.sha}\n` : '';
    return { ok, out: `${heading}${summaryLines(outcome.ok, { validated: true, note }).join('\n')}\n`, err: '' };
  }
  return { ok, out: '', err: `Error: ${obj.type} ${obj.sha}: ${outcome.error.message}\n` };
}
