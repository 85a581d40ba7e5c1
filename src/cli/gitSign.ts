import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/config';
import { cannotRead, GitsignError, toGitsignError } from '../errors';
import { type StatusWriter, sigCreatedLine } from '../git/status';
import { setNetworkWarningSink } from '../net/transport';
import { obtainCredential } from '../sign/credential';
import { REKOR_V2_NEEDS_TSA } from '../sign/rekorV2';
import { signPayload } from '../sign/signature';
import { loadTrust, trustOptionsFromConfig } from '../trust/trustMaterial';
import type { Certificate } from '../x509/certificate';
import { exitStatusOf } from './exitStatus';
import { checkStdoutKeeps, errorLine, printErr, readStdin, teeStderrTo, writeSignature } from './io';
import { ask, say, sayError, sayToPerson } from './tty';

/**
 * git's sign call: `gitsign --status-fd=2 -bsau KEY` with the object on stdin. The identity is
 * obtained before any status line or input, as gitsign; the signature reaches stdout only once it
 * is complete and verified, so a failure leaves git nothing to store and the commit is not made.
 * A stdout that cannot take the signature (closed, /dev/null, a reader gone) fails the call.
 */
export interface SignFlags {
  detached: boolean;
  armor: boolean;
  /** git's --status-fd (-1: none): the identity line never goes there. */
  statusFd: number;
}

/** GITSIGN_TRACE=1 prints where the time of one signature goes (for `npm run bench`). */
function tracer(): (phase: string) => void {
  if (!process.env.GITSIGN_TRACE) return () => undefined;
  let last = performance.now();
  return (phase) => {
    const now = performance.now();
    printErr(`gitsign trace: ${phase} ${(now - last).toFixed(1)} ms (at ${now.toFixed(1)} ms)`);
    last = now;
  };
}

export async function gitSign(status: StatusWriter, flags: SignFlags, positionals: string[]): Promise<number> {
  const trace = tracer();
  try {
    trace('start-up');
    const cfg = loadConfig();
    teeStderrTo(cfg.logPath);
    checkStdoutKeeps('the signature');
    // git shows a signer's stderr only when it fails: a cleartext warning goes to the terminal too.
    setNetworkWarningSink(sayError);
    const rekorVersion = rekorVersionOf(cfg);
    trace('config');
    const trust = await loadTrust(trustOptionsFromConfig(cfg, { offline: false }));
    trace('trust root');
    const credential = await obtainCredential(cfg, trust.material, { say, ask });
    trace('token, key and certificate');
    status.emit('BEGIN_SIGNING');
    const payload = positionals.length === 1 ? readMessageFile(positionals[0]) : await readStdin();
    const result = await signPayload(payload, credential, {
      rekorUrl: cfg.rekor.replace(/\/+$/, ''),
      rekorMode: cfg.rekorMode === 'offline' ? 'offline' : 'online',
      rekorVersion,
      timestampUrl: cfg.timestampURL || undefined,
      trust: trust.material,
      detached: flags.detached,
      say,
    });
    trace('signature, timestamp and log entry');
    if (result.logIndex !== undefined) say(`tlog entry created with index: ${result.logIndex}`);
    // The signature first: SIG_CREATED only once all of it reached git (it reads both pipes to the end).
    writeSignature(flags.armor ? result.armored : result.der);
    status.emit(sigCreatedLine(flags.detached, credential.certificate));
    for (const line of [signedWithLine(credential.certificate), ...identityNotes(credential.certificate, cfg)]) sayToPerson(line, flags.statusFd);
    return 0;
  } catch (err) {
    const e = toGitsignError(err);
    sayError(errorLine('gitsign: error signing: ', e.message));
    return exitStatusOf(e);
  }
}

/**
 * What to pass to `gitsign verify` (gitsign #693, as its #821 words it): the certificate's SANs and
 * OIDC issuer, quoted (JSON's quoting is Go's %q for printable text; controls are escaped).
 */
export function signedWithLine(cert: Certificate): string {
  return `gitsign: signed with identity ${JSON.stringify(cert.subjectAlternativeNames.join(', '))} (issuer ${JSON.stringify(cert.oidcIssuer ?? '')})`;
}

/**
 * Until when this login signs (the cache reuses it), and a warning when the certificate is not for
 * user.email: plain `gitsign verify` checks the committer's email, so it would refuse this commit.
 * gitsign.matchCommitter refuses before signing instead.
 */
export function identityNotes(cert: Certificate, cfg: { committerEmail: string; committerName: string; matchCommitter: boolean }): string[] {
  const until = `${cert.notAfter.toISOString().slice(11, 19)} UTC`;
  const notes = [`gitsign: the certificate signs until ${until}`];
  const ownEmail = cfg.committerEmail && cert.emails.includes(cfg.committerEmail);
  const ownUri = cfg.committerName && cert.subjectAlternativeNames.includes(cfg.committerName);
  if (!cfg.matchCommitter && cfg.committerEmail && !ownEmail && !ownUri) {
    notes.push(
      `gitsign: warning: the certificate is for ${JSON.stringify(cert.subjectAlternativeNames.join(', '))}, not your user.email ${JSON.stringify(cfg.committerEmail)}: ` +
        '`gitsign verify` without --certificate-identity will refuse this signature (sign in as your user.email, or set gitsign.matchCommitter=true to refuse such signatures)',
    );
  }
  return notes;
}

/** Rekor v2 goes through the sigstore-go path in gitsign, and needs a timestamp; both are checked before any login. */
function rekorVersionOf(cfg: { rekorVersion: number; enableSigstoreGo: boolean; timestampURL: string }): 1 | 2 {
  if (cfg.rekorVersion !== 2) return 1;
  if (!cfg.enableSigstoreGo) throw new GitsignError('CONFIG', 'rekorVersion=2 requires enableSigstoreGo=true');
  if (!cfg.timestampURL) throw new GitsignError('CONFIG', REKOR_V2_NEEDS_TSA);
  return 2;
}

function readMessageFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw cannotRead('USAGE', '', path, err);
  }
}
