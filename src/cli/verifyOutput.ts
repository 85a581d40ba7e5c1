import { GitsignError, toGitsignError } from '../errors';
import type { RawObject } from '../git/catFile';
import { describeIdentityCheck, type IdentityRequest, type ObjectOutcome } from '../verify/gitObject';
import { jsonReport, summaryLines } from '../verify/report';
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
}

export interface RenderOptions {
  json: boolean;
  heading: boolean;
  /** The trusted root verified against, said in every report. */
  trustRoot?: TrustRootInfo;
}

function render(obj: RawObject, outcome: ObjectOutcome, opts: RenderOptions): RenderedOutcome {
  const check = describeIdentityCheck(outcome.identity);
  const ok = 'ok' in outcome;
  if (opts.json) return { ok, out: [JSON.stringify(jsonReport(obj.sha, obj.type, check, outcome, opts.trustRoot ?? null))], err: [] };
  if ('ok' in outcome) {
    const note = outcome.identity.kind === 'committer' ? `identity checked: ${check} (no --certificate-identity given)` : undefined;
    return { ok, out: [...(opts.heading ? [`${obj.type} ${obj.sha}`] : []), ...summaryLines(outcome.ok, { validated: true, note }), ...(opts.trustRoot ? [`gitsign: ${describeTrustRoot(opts.trustRoot)}`] : [])], err: [] };
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
  const identity = request.kind === 'committer-pending' ? { kind: 'committer' as const, email: null } : request;
  return render(obj, { error, identity }, opts);
}
