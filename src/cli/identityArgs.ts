import { identityCheckFrom, type IdentityPolicy } from '../verify/identity';

/** The cosign certificate flags as yargs parses them, shared by every verifying command (a repeated flag is an array). */
export interface IdentityArgs {
  'certificate-identity'?: string | string[];
  'certificate-identity-regexp'?: string | string[];
  'certificate-oidc-issuer'?: string | string[];
  'certificate-oidc-issuer-regexp'?: string | string[];
  'certificate-github-workflow-trigger'?: string | string[];
  'certificate-github-workflow-sha'?: string | string[];
  'certificate-github-workflow-name'?: string | string[];
  'certificate-github-workflow-repository'?: string | string[];
  'certificate-github-workflow-ref'?: string | string[];
}

/**
 * A flag's value as gitsign's flag parser (pflag) leaves it: the last of a repeated flag wins, and
 * an empty value is no value (cosign checks each of these flags with `!= ""`), so
 * `--certificate-identity "$UNSET"` means the flag was not given.
 */
function flagValue(value: string | string[] | undefined): string | undefined {
  const last = Array.isArray(value) ? value[value.length - 1] : value;
  return last === '' ? undefined : last;
}

export function identityFromArgs(args: IdentityArgs): ReturnType<typeof identityCheckFrom> {
  const policy: IdentityPolicy = {
    identity: flagValue(args['certificate-identity']),
    identityRegexp: flagValue(args['certificate-identity-regexp']),
    issuer: flagValue(args['certificate-oidc-issuer']),
    issuerRegexp: flagValue(args['certificate-oidc-issuer-regexp']),
    githubWorkflowTrigger: flagValue(args['certificate-github-workflow-trigger']),
    githubWorkflowSha: flagValue(args['certificate-github-workflow-sha']),
    githubWorkflowName: flagValue(args['certificate-github-workflow-name']),
    githubWorkflowRepository: flagValue(args['certificate-github-workflow-repository']),
    githubWorkflowRef: flagValue(args['certificate-github-workflow-ref']),
  };
  return identityCheckFrom(policy);
}
