import { GitsignError, toGitsignError } from '../errors';
import type { RawObject } from '../git/catFile';
import type { IdentityRequest, ObjectOutcome } from '../verify/gitObject';
import { GOOD_SIGNATURE, identityCheckRan, identityNote, jsonReport, summaryLines } from './verifyReport';
import { clip } from '../text/terminal';
import { describeTrustRoot, type TrustRootInfo } from '../trust/rootInfo';

/**
 * What `gitsign verify` prints for one object: lines for stdout and for stderr (escaped when
 * printed), and whether it verified. Plain data, so a worker can send it to the main thread.
 */
export interface RenderedOutcome {
  ok: boolean;
  out: string[];
  err: string[];
  /** The line of `out` that names the signer (green on a terminal); a failure's `err` lines are red. */
  goodLine?: number;
}

export interface RenderOptions {
  json: boolean;
  heading: boolean;
  /** The trusted root verified against, said in every report. */
  trustRoot?: TrustRootInfo;
}

function render(obj: RawObject, outcome: ObjectOutcome, opts: RenderOptions): RenderedOutcome {
  const ok = 'ok' in outcome;
  if (opts.json) {
    const identity = identityCheckRan(outcome) ? outcome.identity : null;
    return { ok, out: [JSON.stringify(jsonReport(obj.sha, obj.type, identity, outcome, opts.trustRoot ?? null))], err: [] };
  }
  if ('ok' in outcome) {
    const summary = summaryLines(outcome.ok, { validated: true, note: identityNote(outcome.identity) });
    const out = [...(opts.heading ? [`${obj.type} ${obj.sha}`] : []), ...summary, ...(opts.trustRoot ? [`gitsign: ${describeTrustRoot(opts.trustRoot)}`] : [])];
    return { ok, out, err: [], goodLine: out.findIndex((l) => l.startsWith(GOOD_SIGNATURE)) };
  }
  return { ok, out: [], err: [`gitsign: ${obj.type} ${obj.sha}: ${clip(outcome.error.message, 1000)}`] };
}

/**
 * The outcome as text, whatever the outcome holds: when its certificate cannot be described (a field
 * that does not parse), the object is reported without the certificate's details, and never as verified.
 */
export function renderOutcome(obj: RawObject, outcome: ObjectOutcome, opts: RenderOptions): RenderedOutcome {
  try {
    return render(obj, outcome, opts);
  } catch {
    const error = 'error' in outcome ? outcome.error : new GitsignError('VERIFIER_FAILED', 'the signature verified, but its certificate could not be described; not reported as verified');
    return render(obj, { error, identity: outcome.identity }, opts);
  }
}

/** An object the verifier could not finish (an exception, a dead worker): reported with VERIFIER_FAILED, never runtime text. */
export function renderFailure(obj: RawObject, err: unknown, request: IdentityRequest, opts: RenderOptions): RenderedOutcome {
  const known = toGitsignError(err);
  const error = known.code === 'INTERNAL' ? new GitsignError('VERIFIER_FAILED', 'the verifier failed on this object (an internal error); it is not verified') : known;
  const identity = request.kind === 'committer-pending' ? { kind: 'committer' as const, email: null, role: obj.type === 'tag' ? ('tagger' as const) : ('committer' as const) } : request;
  return render(obj, { error, identity }, opts);
}
