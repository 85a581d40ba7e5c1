import { readFileSync } from 'node:fs';
import { type Artifact, readArtifact } from '../bundle/artifact';
import { parseBundle } from '../bundle/parse';
import { readPublicKey } from '../bundle/signer';
import { type BundlePolicy, type VerifiedBundle, verifyBundle } from '../bundle/verifyBundle';
import { GitsignError, toGitsignError } from '../errors';
import { type LoadedTrust, loadTrust } from '../trust/trustMaterial';
import { errorLine, printErr, printOut } from './io';

/**
 * `gitsign verify-bundle`: the Sigstore client conformance protocol, `[--staging] --bundle FILE
 * (--certificate-identity ID --certificate-oidc-issuer URL | --key PEM) [--trusted-root FILE]
 * FILE_OR_DIGEST`. Exit 0 only when verified; otherwise one line naming the reason, exit 1.
 */
export interface VerifyBundleArgs {
  artifact: string;
  bundle: string;
  key?: string;
  'certificate-identity'?: string;
  'certificate-oidc-issuer'?: string;
  'trusted-root'?: string;
  staging?: boolean;
}

function policyFrom(args: VerifyBundleArgs): BundlePolicy {
  const identity = args['certificate-identity'];
  const issuer = args['certificate-oidc-issuer'];
  if (args.key !== undefined) {
    if (identity !== undefined || issuer !== undefined) throw new GitsignError('USAGE', '--key cannot be combined with --certificate-identity or --certificate-oidc-issuer');
    return { key: readPublicKey(args.key) };
  }
  if (identity === undefined || issuer === undefined) {
    throw new GitsignError('USAGE', 'give --certificate-identity and --certificate-oidc-issuer (a Fulcio certificate), or --key (a managed key)');
  }
  return { identity: { kind: 'policy', policy: { identity, issuer } } };
}

function readBundleFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new GitsignError('USAGE', `cannot read the bundle ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
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

export async function verifyBundleCommand(args: VerifyBundleArgs): Promise<number> {
  try {
    const policy = policyFrom(args);
    const parsed = parseBundle(readBundleFile(args.bundle));
    const artifact: Artifact = readArtifact(args.artifact);
    const { material } = await trustFor(args);
    printOut(summary(args.artifact, verifyBundle(parsed, artifact, policy, material)));
    return 0;
  } catch (err) {
    const e = toGitsignError(err);
    printErr(errorLine(`gitsign: ${e.code === 'INTERNAL' ? 'internal error: ' : ''}`, e.message));
    return 1;
  }
}
