import { readFileSync } from 'node:fs';
import { type Artifact, readArtifact } from '../bundle/artifact';
import { type ParsedBundle, parseBundle } from '../bundle/parse';
import { readPublicKey } from '../bundle/signer';
import { type BundlePolicy, type VerifiedBundle, verifyBundle } from '../bundle/verifyBundle';
import { cannotRead, GitsignError, toGitsignError, userMessage } from '../errors';
import { type LoadedTrust, loadTrust } from '../trust/trustMaterial';
import { type IdentityArgs, identityFromArgs } from './identityArgs';
import { errorLine, printErr, printOut } from './io';
import { identityCheckRan, jsonReport, type Reported } from './verifyReport';

/**
 * `gitsign verify-bundle`: the Sigstore client conformance protocol, `[--staging] --bundle FILE
 * (--certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL | --key PEM)
 * [--trusted-root FILE] [--json] FILE_OR_DIGEST`. Exit 0 only when verified; otherwise one line naming
 * the reason (--json: the report says it), exit 1.
 */
export interface VerifyBundleArgs extends Pick<IdentityArgs, 'certificate-identity' | 'certificate-identity-regexp' | 'certificate-oidc-issuer' | 'certificate-oidc-issuer-regexp'> {
  artifact: string;
  bundle: string;
  key?: string;
  'trusted-root'?: string;
  staging?: boolean;
  json?: boolean;
}

function policyFrom(args: VerifyBundleArgs): BundlePolicy {
  const identity = identityFromArgs(args);
  if (args.key !== undefined) {
    if (identity.kind !== 'committer-pending' || identity.issuer !== undefined || identity.issuerRegexp !== undefined) {
      throw new GitsignError('USAGE', '--key cannot be combined with the --certificate-identity or --certificate-oidc-issuer flags');
    }
    return { key: readPublicKey(args.key) };
  }
  if (identity.kind !== 'policy') {
    throw new GitsignError(
      'USAGE',
      'give --certificate-identity (or -regexp) and --certificate-oidc-issuer (or -regexp) for a Fulcio certificate, or --key for a managed key',
    );
  }
  return { identity };
}

function readBundleFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw cannotRead('USAGE', 'the bundle', path, err);
  }
}

async function trustFor(args: VerifyBundleArgs): Promise<LoadedTrust> {
  if (args['trusted-root']) return loadTrust({ trustedRootPath: args['trusted-root'], offline: true });
  // No staging TUF root ships with gitsign-ts, so staging trust cannot be bootstrapped offline.
  if (args.staging) throw new GitsignError('TRUST_ROOT', 'no staging trusted root is bundled: give it with --trusted-root');
  return loadTrust({ offline: true });
}

function summary(artifact: string, v: VerifiedBundle): string {
  const who = v.signer.certificate ? `${v.signer.certificate.subjectAlternativeNames.join(', ')} (${v.signer.certificate.oidcIssuer ?? 'no issuer'})` : 'the given key';
  const logs = v.entries.map((e) => e.log.baseURL).join(', ');
  const times = v.times.map((t) => `${t.time.toISOString()} (${t.source})`).join(', ');
  return `Verified OK: ${artifact} signed by ${who}; logged in ${logs}; at ${times}`;
}

/** The verified bundle in the fields of `gitsign verify --json`: its first log entry, its first attested time. */
function reported({ tlogEntries }: ParsedBundle, v: VerifiedBundle): Reported {
  const [entry] = tlogEntries;
  const setTime = v.entries[0]?.integratedTime;
  return {
    certificate: v.signer.certificate,
    tlog: {
      source: 'embedded',
      kind: `${entry.kindVersion.kind}/${entry.kindVersion.version}`,
      logIndex: entry.logIndex,
      ...(setTime ? { integratedTime: setTime.getTime() / 1000 } : {}),
    },
    signingTime: v.times[0].time,
    timeSource: v.times[0].source,
    // verifyBundle checks the SCT of every certificate (there is no --insecure-ignore-sct here).
    sctChecked: Boolean(v.signer.certificate),
  };
}

export async function verifyBundleCommand(args: VerifyBundleArgs): Promise<number> {
  let policy: BundlePolicy | undefined;
  try {
    policy = policyFrom(args);
    const parsed = parseBundle(readBundleFile(args.bundle));
    const artifact: Artifact = readArtifact(args.artifact);
    const { material, info } = await trustFor(args);
    const verified = verifyBundle(parsed, artifact, policy, material);
    if (args.json) printOut(JSON.stringify({ ...jsonReport(args.artifact, 'bundle', 'identity' in policy ? policy.identity : null, { ok: reported(parsed, verified) }, info), bundle: args.bundle }));
    else printOut(summary(args.artifact, verified));
    return 0;
  } catch (err) {
    const e = toGitsignError(err);
    if (args.json && policy) {
      const identity = 'identity' in policy && identityCheckRan({ error: e }) ? policy.identity : null;
      printOut(JSON.stringify({ ...jsonReport(args.artifact, 'bundle', identity, { error: e }), bundle: args.bundle }));
    } else {
      printErr(errorLine('gitsign: ', userMessage(e)));
    }
    return 1;
  }
}
