import { randomBytes } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { int, seq } from '../asn1/writer';
import type { Config } from '../config/config';
import { toGitsignError } from '../errors';
import { type AnswerLimit, FULCIO_CHAIN, OIDC_DISCOVERY, REKOR_ENTRY, REKOR_SEARCH } from '../net/answerLimits';
import { type HttpResponse, httpCall } from '../net/http';
import { isLoopbackHost } from '../net/transport';
import { timestampSignature } from '../tsa/client';
import { parseTimestampResponse, verifyTimestamp } from '../verify/time/tsa';
import type { Clock } from './clock';
import { type CheckResult, duration } from './report';

/**
 * The network half of `gitsign doctor`: each Sigstore service is asked one cheap question that only
 * the right API answers the right way, through src/net (answer caps, a deadline, http only to
 * loopback), once (no retry: a diagnosis reports what a first try meets). Each answer also gives a
 * reading of the server's clock for the skew check.
 */
export const PROBE_DEADLINE_MS = 10_000;

/** A server's time against ours: skew = local - server, give or take `uncertaintyMs`. */
export interface ClockSample {
  server: string;
  how: string;
  skewMs: number;
  uncertaintyMs: number;
}

interface Probe {
  ms: number;
  res?: HttpResponse;
  error?: string;
  /** From the HTTP Date header: whole seconds, so the server's time is somewhere in [date, date + 1 s). */
  sample?: ClockSample;
}

async function probe(url: string, service: string, method: 'GET' | 'POST', limit: AnswerLimit, clock: Clock, body?: string): Promise<Probe> {
  const sent = clock.now();
  const t0 = performance.now();
  try {
    const res = await httpCall(url, { service, method, limit, body, attempts: 1, deadlineMs: PROBE_DEADLINE_MS, headers: body ? { 'Content-Type': 'application/json' } : {} });
    const ms = Math.round(performance.now() - t0);
    const date = Date.parse(res.headers.get('date') ?? '');
    const sample = Number.isNaN(date)
      ? undefined
      : { server: service, how: 'HTTP Date header', skewMs: Math.round(sent + ms / 2 - (date + 500)), uncertaintyMs: Math.round(ms / 2 + 500) };
    return { ms, res, sample };
  } catch (err) {
    return { ms: Math.round(performance.now() - t0), error: toGitsignError(err).message };
  }
}

function json(res: HttpResponse): Record<string, unknown> | null {
  try {
    const v = JSON.parse(res.text) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** What to do about a service that cannot be reached: the setting that names it, and a hint for a local one. */
function unreachableFix(url: string, setting: string): string[] {
  let local = false;
  try {
    local = isLoopbackHost(new URL(url).hostname);
  } catch {
    /* an unparsable URL: the setting is the fix */
  }
  return [
    ...(local ? ['start the local service it names (for the sandbox: gitsign sandbox up --dir DIR)'] : []),
    `git config --global ${setting} URL   (if ${url} is not the right one)`,
  ];
}

function failed(id: string, title: string, url: string, p: Probe, setting: string, severity: 'fail' | 'warn' = 'fail'): CheckResult {
  return { id, title, status: severity, summary: p.error ?? 'no answer', fix: unreachableFix(url, setting), details: { url, latencyMs: p.ms } };
}

const base = (url: string): string => url.replace(/\/+$/, '');

export async function checkFulcio(cfg: Config, issuer: string, clock: Clock): Promise<{ check: CheckResult; sample?: ClockSample }> {
  const id = 'service.fulcio';
  const title = 'Fulcio';
  const url = base(cfg.fulcio);
  const p = await probe(`${url}/api/v2/configuration`, 'Fulcio', 'GET', FULCIO_CHAIN, clock);
  if (!p.res) return { check: failed(id, title, url, p, 'gitsign.fulcio') };
  const body = json(p.res);
  const issuers = Array.isArray(body?.issuers) ? (body.issuers as { issuerUrl?: unknown }[]) : null;
  const details = { url, latencyMs: p.ms, status: p.res.status };
  if (p.res.status !== 200 || !issuers) {
    return { check: { id, title, status: 'fail', summary: `${url} is not Fulcio: GET /api/v2/configuration answered ${p.res.status}${issuers ? '' : ' without a list of issuers'}`, fix: unreachableFix(url, 'gitsign.fulcio'), details } };
  }
  // Fulcio also accepts meta-issuers (URL patterns with *): only an exact list that lacks ours is a problem.
  const urls = issuers.map((i) => (typeof i.issuerUrl === 'string' ? i.issuerUrl : ''));
  const known = urls.some((u) => u === issuer || u.includes('*'));
  return {
    check: known
      ? { id, title, status: 'ok', summary: `${url} answers as Fulcio (${p.ms} ms)`, details }
      : { id, title, status: 'fail', summary: `${url} answers as Fulcio but does not accept tokens from ${issuer} (it accepts ${urls.slice(0, 5).join(', ')})`, fix: ['git config --global gitsign.issuer URL   (an issuer this Fulcio accepts)'], details: { ...details, issuers: urls } },
    sample: p.sample,
  };
}

export async function checkRekorV1(cfg: Config, clock: Clock): Promise<{ check: CheckResult; sample?: ClockSample }> {
  const id = 'service.rekor';
  const title = 'Rekor v1';
  const url = base(cfg.rekor);
  if (cfg.rekorVersion !== 1) return { check: { id, title, status: 'skip', summary: 'not used (gitsign.rekorVersion is 2)' } };
  const p = await probe(`${url}/api/v1/log`, 'Rekor', 'GET', REKOR_SEARCH, clock);
  if (!p.res) return { check: failed(id, title, url, p, 'gitsign.rekor') };
  const body = json(p.res);
  const details = { url, latencyMs: p.ms, status: p.res.status, treeSize: body?.treeSize };
  if (p.res.status !== 200 || typeof body?.treeSize !== 'number' || typeof body.rootHash !== 'string') {
    return { check: { id, title, status: 'fail', summary: `${url} is not a Rekor v1 log: GET /api/v1/log answered ${p.res.status} without a tree size and root hash`, fix: unreachableFix(url, 'gitsign.rekor'), details } };
  }
  return { check: { id, title, status: 'ok', summary: `${url} answers as Rekor v1, ${body.treeSize} entries (${p.ms} ms)`, details }, sample: p.sample };
}

export async function checkRekorV2(cfg: Config, clock: Clock): Promise<{ check: CheckResult; sample?: ClockSample }> {
  const id = 'service.rekor.v2';
  const title = 'Rekor v2';
  const url = base(cfg.rekor);
  if (cfg.rekorVersion !== 2) return { check: { id, title, status: 'skip', summary: 'not used (gitsign.rekorVersion is 1)' } };
  if (!cfg.timestampURL) {
    return { check: { id, title, status: 'fail', summary: 'Rekor v2 entries carry no time: signing needs a timestamp authority, and none is set', fix: ['git config --global gitsign.timestampServerURL URL'] } };
  }
  // Rekor v2 has no read API on the write host: an empty request must be refused as a bad request (400),
  // which tells its write endpoint is there; 404 or 405 say it is not.
  const p = await probe(`${url}/api/v2/log/entries`, 'Rekor v2', 'POST', REKOR_ENTRY, clock, '{}');
  if (!p.res) return { check: failed(id, title, url, p, 'gitsign.rekor') };
  const details = { url, latencyMs: p.ms, status: p.res.status };
  if (p.res.status === 400) return { check: { id, title, status: 'ok', summary: `${url} answers as Rekor v2 (an empty entry is refused with 400; ${p.ms} ms)`, details }, sample: p.sample };
  return { check: { id, title, status: 'fail', summary: `${url} is not a Rekor v2 log: POST /api/v2/log/entries with an empty entry answered ${p.res.status}, not 400`, fix: unreachableFix(url, 'gitsign.rekor'), details } };
}

/** The OIDC issuer's discovery document; `needed` is false when the token comes from elsewhere (then problems only warn). */
export async function checkIssuer(cfg: Config, flow: string, needed: boolean, clock: Clock): Promise<CheckResult> {
  const id = 'service.oidc';
  const title = 'OIDC issuer';
  const issuer = cfg.issuer;
  if (!needed) return { id, title, status: 'skip', summary: `not used: the ID token comes from the ${flow} provider` };
  const p = await probe(`${base(issuer)}/.well-known/openid-configuration`, 'the OIDC issuer', 'GET', OIDC_DISCOVERY, clock);
  if (!p.res) return failed(id, title, issuer, p, 'gitsign.issuer');
  const body = json(p.res);
  const wanted = ['authorization_endpoint', 'token_endpoint', 'jwks_uri', ...(flow === 'device' ? ['device_authorization_endpoint'] : [])];
  const missing = wanted.filter((k) => typeof body?.[k] !== 'string');
  const details = { url: issuer, latencyMs: p.ms, status: p.res.status };
  if (p.res.status !== 200 || !body) {
    return { id, title, status: 'fail', summary: `${issuer} is not an OIDC issuer: its discovery document answered ${p.res.status}${body ? '' : ' without JSON'}`, fix: unreachableFix(issuer, 'gitsign.issuer'), details };
  }
  // OpenID Connect Discovery: the document's issuer must be exactly the configured one.
  if (body.issuer !== issuer) {
    return { id, title, status: 'fail', summary: `the discovery document names another issuer (${String(body.issuer)}) than ${issuer}`, fix: unreachableFix(issuer, 'gitsign.issuer'), details };
  }
  if (missing.length) return { id, title, status: 'fail', summary: `${issuer} lacks ${missing.join(', ')} for a ${flow} login`, details };
  return { id, title, status: 'ok', summary: `${issuer} answers discovery for a ${flow} login (${p.ms} ms)`, details };
}

/** A real timestamp over random bytes: the TSA answers, its token verifies with the trust root, and its genTime reads its clock. */
export async function checkTsa(cfg: Config, trust: TrustMaterial | undefined, clock: Clock): Promise<{ check: CheckResult; sample?: ClockSample }> {
  const id = 'service.tsa';
  const title = 'timestamp authority';
  const url = cfg.timestampURL;
  if (!url) return { check: { id, title, status: 'skip', summary: "not configured (signatures are dated by Rekor's signed entry timestamp)" } };
  const signature = randomBytes(64);
  const sent = clock.now();
  const t0 = performance.now();
  let token: Buffer;
  try {
    token = await timestampSignature(url, signature);
  } catch (err) {
    const ms = Math.round(performance.now() - t0);
    return { check: failed(id, title, url, { ms, error: toGitsignError(err).message }, 'gitsign.timestampServerURL') };
  }
  const ms = Math.round(performance.now() - t0);
  const details: Record<string, unknown> = { url, latencyMs: ms };
  let genTime: Date;
  try {
    // The token as a whole TimeStampResp (status granted), the form the verifier reads.
    const parsed = parseTimestampResponse(seq(seq(int(0n)), token));
    genTime = parsed.ts.signingTime;
    if (trust) verifyTimestamp(parsed, signature, trust);
  } catch (err) {
    return {
      check: { id, title, status: 'fail', summary: `${url} answers, but its timestamps do not verify with the trust root: ${toGitsignError(err).message}`, fix: ['git config --global gitsign.timestampCertChain FILE   (the PEM chain of this TSA, from its /certchain)'], details },
    };
  }
  details.genTime = genTime.toISOString();
  // genTime is the TSA's signed clock reading, taken while we waited for the answer.
  // A genTime in whole seconds (most TSAs) stands for a time up to a second later, as the Date header does.
  const half = genTime.getMilliseconds() === 0 ? 500 : 0;
  const sample = { server: 'the timestamp authority', how: 'signed genTime of a fresh timestamp', skewMs: Math.round(sent + ms / 2 - (genTime.getTime() + half)), uncertaintyMs: Math.round(ms / 2 + half + 1) };
  return { check: { id, title, status: 'ok', summary: `${url} timestamps, and its tokens verify with the trust root (${ms} ms)`, details }, sample };
}

/** More than this behind: Fulcio's fresh certificate (valid from its issuance) looks not yet valid here. */
const BEHIND_LIMIT_MS = 5_000;
/** More than this ahead: a 10-minute certificate looks expired as soon as it is issued. */
const AHEAD_LIMIT_MS = 9 * 60_000;

export function clockSkew(samples: ClockSample[], clock: Clock): CheckResult {
  const id = 'clock.skew';
  const title = 'clock';
  if (samples.length === 0) return { id, title, status: 'skip', summary: "no server's time could be read (Rekor and the TSA did not answer)" };
  // The TSA's signed genTime when there is one (callers put it first); Rekor v1's log info has no time, only its HTTP Date header.
  const best = samples[0];
  const details = { samples, faked: clock.fakedFrom ?? null };
  const against = `${best.server}'s ${best.how}, within ${duration(best.uncertaintyMs)}`;
  const fix = ['sudo timedatectl set-ntp true   (Linux; macOS: sudo sntp -sS time.apple.com)'];
  const off = best.skewMs;
  if (off < -(BEHIND_LIMIT_MS + best.uncertaintyMs)) {
    return { id, title, status: 'fail', summary: `this clock is ${duration(off)} behind ${against}: a fresh certificate would look not yet valid and signing fails`, fix, details };
  }
  if (off > AHEAD_LIMIT_MS + best.uncertaintyMs) {
    return { id, title, status: 'fail', summary: `this clock is ${duration(off)} ahead of ${against}: a fresh 10-minute certificate would look expired and signing fails`, fix, details };
  }
  if (off > BEHIND_LIMIT_MS + best.uncertaintyMs) {
    return { id, title, status: 'warn', summary: `this clock is ${duration(off)} ahead of ${against}: certificates look shorter-lived than they are`, fix, details };
  }
  return { id, title, status: 'ok', summary: `off by ${duration(off)} from ${against}`, details };
}
