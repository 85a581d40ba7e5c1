import { realpathSync } from 'node:fs';
import { type Config, loadConfig } from '../config/config';
import { toGitsignError } from '../errors';
import { printOut } from '../cli/io';
import { VERSION } from '../cli/version';
import { checkCache } from './cache';
import { proxyCheck } from './proxy';
import { type Clock, doctorClock } from './clock';
import { binaryOnPath, gitVersion, gpgFormat, type LocalContext, signByDefault, userEmail, x509Program } from './gitChecks';
import { checkProvider } from './provider';
import { type CheckResult, duration, humanLines, jsonReportLines, reportOf } from './report';
import { checkFulcio, checkIssuer, checkRekorV1, checkRekorV2, checkTsa, type ClockSample, clockSkew } from './services';
import { inspectTrustRoot, type TrustRootInfo, tryRefresh, validNow } from './trust';

/**
 * `gitsign doctor [--json] [--offline]`: every check a signature and its verification depend on, each
 * problem with the command that fixes it. Exit 0 only when none failed (warnings and skipped checks do
 * not count), 1 otherwise.
 */
export interface DoctorArgs {
  json: boolean;
  offline: boolean;
}

/** The trust root's TUF refresh gets longer than a service probe: it is several downloads. */
const REFRESH_DEADLINE_MS = 20_000;

function trustRootCheck(info: TrustRootInfo, cfg: Config, clock: Clock): CheckResult {
  const id = 'trust.root';
  const title = 'trust root';
  const now = clock.now();
  const details: Record<string, unknown> = {
    kind: info.kind,
    source: info.source,
    path: info.path ?? null,
    writtenAt: info.writtenAt?.toISOString() ?? null,
    tufMirror: info.tufMirror ?? null,
    tufTimestampExpires: info.tufTimestampExpires?.toISOString() ?? null,
    tufRootExpires: info.tufRootExpires?.toISOString() ?? null,
  };
  if (!info.material) {
    const fix = info.kind === 'file' ? ['git config --global --unset gitsign.trustedRoot   (or point it, or GITSIGN_TRUSTED_ROOT, at a valid trusted_root.json)'] : undefined;
    return { id, title, status: 'fail', summary: info.error ?? 'no trust root', fix, details };
  }
  const valid = validNow(info.material, new Date(now));
  details.validNow = valid;
  const missing = [
    ...(valid.fulcio ? [] : ['Fulcio CA']),
    ...(valid.rekor ? [] : ['Rekor key']),
    ...(valid.ctlog ? [] : ['CT log key']),
    ...(cfg.timestampURL && !valid.tsa ? ['timestamp authority'] : []),
  ];
  const written = info.writtenAt ? `, written ${duration(now - info.writtenAt.getTime())} ago` : '';
  const expires = info.tufTimestampExpires ? `; TUF metadata valid until ${info.tufTimestampExpires.toISOString()}` : '';
  const summary = `${info.source}${written}${expires}`;
  if (missing.length) {
    return { id, title, status: 'fail', summary: `${summary}: no ${missing.join(', ')} valid now, so new signatures cannot be verified`, details };
  }
  if (info.tufTimestampExpires && info.tufTimestampExpires.getTime() < now) {
    // The root it delivered still verifies; a refresh (see trust.refresh) renews the metadata.
    return { id, title, status: 'warn', summary: `${summary}: the TUF metadata has expired, so the root is not known to be current (a refresh renews it)`, details };
  }
  return { id, title, status: 'ok', summary, details };
}

async function refreshCheck(info: TrustRootInfo, offline: boolean): Promise<CheckResult> {
  const id = 'trust.refresh';
  const title = 'trust root refresh';
  if (info.kind === 'file') return { id, title, status: 'skip', summary: 'a fixed trusted_root.json (gitsign.trustedRoot) is not refreshed' };
  if (offline) return { id, title, status: 'skip', summary: 'offline' };
  const t0 = performance.now();
  const why = await tryRefresh(process.env, REFRESH_DEADLINE_MS);
  const latencyMs = Math.round(performance.now() - t0);
  const details = { mirror: info.tufMirror ?? null, latencyMs };
  // The cached or seeded root still verifies: a failing refresh is a warning, not a failure.
  return why
    ? { id, title, status: 'warn', summary: `${why}; the root at hand is used meanwhile`, fix: ['check the network path to the TUF mirror, or work offline: git config --global gitsign.offline true'], details }
    : { id, title, status: 'ok', summary: `the TUF repository ${info.tufMirror ?? ''} answers and verifies (${latencyMs} ms)`, details };
}

async function networkChecks(cfg: Config, info: TrustRootInfo, provider: string | undefined, tokenIssuer: string | undefined, clock: Clock): Promise<{ checks: CheckResult[]; samples: ClockSample[] }> {
  const loginNeeded = provider === 'interactive' || provider === 'device';
  const [fulcio, rekor, rekorV2, oidc, tsa] = await Promise.all([
    checkFulcio(cfg, tokenIssuer || cfg.issuer, clock),
    checkRekorV1(cfg, clock),
    checkRekorV2(cfg, clock),
    checkIssuer(cfg, provider ?? 'interactive', loginNeeded, clock),
    checkTsa(cfg, info.material, clock),
  ]);
  // The TSA's and Rekor's clocks (the TSA first: its reading is signed, and wins a tie); Fulcio's Date header only when they gave none.
  const samples = [tsa.sample, rekor.sample, rekorV2.sample].filter((s): s is ClockSample => s !== undefined);
  if (samples.length === 0 && fulcio.sample) samples.push(fulcio.sample);
  return { checks: [fulcio.check, rekor.check, rekorV2.check, oidc, tsa.check], samples };
}

export async function doctorCommand(args: DoctorArgs): Promise<number> {
  const env = process.env;
  const clock = doctorClock(env);
  const ctx: LocalContext = { cwd: process.cwd(), env, self: realpathSync(process.argv[1]), selfVersion: VERSION };
  const checks: CheckResult[] = [gitVersion(ctx), gpgFormat(ctx), x509Program(ctx), signByDefault(ctx), userEmail(ctx), binaryOnPath(ctx)];
  let cfg: Config | undefined;
  try {
    cfg = loadConfig(env);
  } catch (err) {
    checks.push({ id: 'config.gitsign', title: 'gitsign settings', status: 'fail', summary: toGitsignError(err).message });
  }
  const offline = args.offline || Boolean(cfg?.offline);
  if (cfg) {
    const info = await inspectTrustRoot(cfg, env);
    checks.push(trustRootCheck(info, cfg, clock));
    const provider = checkProvider(cfg, env, clock);
    const [refresh, network] = await Promise.all([
      refreshCheck(info, offline),
      offline ? null : networkChecks(cfg, info, provider.choice?.name, provider.check.details?.issuer as string | undefined, clock),
    ]);
    checks.push(refresh);
    if (network) checks.push(...network.checks, clockSkew(network.samples, clock));
    else checks.push({ id: 'services', title: 'Sigstore services', status: 'skip', summary: `offline: Fulcio, Rekor, the OIDC issuer${cfg.timestampURL ? ' and the TSA' : ''} and the clock were not checked` });
    checks.push(provider.check, proxyCheck(cfg, env));
  }
  checks.push(await checkCache(env));
  const report = reportOf(VERSION, offline, checks);
  if (clock.fakedFrom) report.checks.push({ id: 'clock.faked', title: 'GITSIGN_DOCTOR_NOW', status: 'warn', summary: `the local clock was replaced for a test (started at ${clock.fakedFrom}); unset it`, fix: ['unset GITSIGN_DOCTOR_NOW'] });
  printOut(...(args.json ? jsonReportLines(report) : humanLines(report)));
  return report.ok ? 0 : 1;
}

