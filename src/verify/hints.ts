import { GitsignError, quoted } from '../errors';
import type { Certificate } from '../x509/certificate';

/**
 * What to do when a signature made against a local `gitsign sandbox` is checked with a trust root
 * that lacks the sandbox (the public-good one, most often): the failure says so and names the fix.
 * Only failures that mean "this trust root does not have it" get the hint, and only when the signing
 * certificate's CA calls itself a sandbox.
 */
const NOT_IN_TRUST_ROOT = [
  /not issued by a trusted timestamp authority/,
  /is not in the trusted root/,
  /no trusted CA valid at .* issued this certificate/,
  /certificate signature does not verify with its issuer's key/,
  /no CT log of the trusted root/,
];

export function withSandboxHint(err: GitsignError, cert: Certificate): GitsignError {
  if (!/sandbox/i.test(cert.issuerString) || !NOT_IN_TRUST_ROOT.some((re) => re.test(err.message))) return err;
  return new GitsignError(
    err.code,
    `${err.message}; it was signed with a gitsign sandbox (CA ${quoted(cert.issuerString)}), which the trust root in use does not include: load the sandbox's settings (. DIR/env) or pass --trusted-root DIR/trusted_root.json (\`gitsign sandbox status\` names DIR)`,
    { cause: err },
  );
}
