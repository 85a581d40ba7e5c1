import { identityCheckFrom, type IdentityPolicy } from '../verify/identity';

/** The cosign certificate flags as yargs parses them, shared by every verifying command. */
export interface IdentityArgs {
  'certificate-identity'?: string;
  'certificate-identity-regexp'?: string;
  'certificate-oidc-issuer'?: string;
  'certificate-oidc-issuer-regexp'?: string;
  'certificate-github-workflow-trigger'?: string;
  'certificate-github-workflow-sha'?: string;
  'certificate-github-workflow-name'?: string;
  'certificate-github-workflow-repository'?: string;
  'certificate-github-workflow-ref'?: string;
}

export function identityFromArgs(args: IdentityArgs): ReturnType<typeof identityCheckFrom> {
  const policy: IdentityPolicy = {
    identity: args['certificate-identity'],
    identityRegexp: args['certificate-identity-regexp'],
    issuer: args['certificate-oidc-issuer'],
    issuerRegexp: args['certificate-oidc-issuer-regexp'],
    githubWorkflowTrigger: args['certificate-github-workflow-trigger'],
    githubWorkflowSha: args['certificate-github-workflow-sha'],
    githubWorkflowName: args['certificate-github-workflow-name'],
    githubWorkflowRepository: args['certificate-github-workflow-repository'],
    githubWorkflowRef: args['certificate-github-workflow-ref'],
  };
  return identityCheckFrom(policy);
}
