import { FULCIO_OID } from '../x509/certificate';

/**
 * Fulcio certificate claims a policy identity may pin, by the names of Fulcio's own fields (its
 * certificate.Extensions, first letter lowercased): docs/oid-info.md in sigstore/fulcio. The old
 * GitHub ones (1.2 to 1.6) hold raw bytes; 1.9 and later hold a DER UTF8String. A GitHub workflow is
 * pinned by `sourceRepositoryIdentifier` (the repository's numeric ID), which a rename does not change.
 */
const ARC = '1.3.6.1.4.1.57264.1.';

export const CLAIMS: Record<string, { oid: string; der: boolean }> = {
  githubWorkflowTrigger: { oid: FULCIO_OID.githubWorkflowTrigger, der: false },
  githubWorkflowSHA: { oid: FULCIO_OID.githubWorkflowSha, der: false },
  githubWorkflowName: { oid: FULCIO_OID.githubWorkflowName, der: false },
  githubWorkflowRepository: { oid: FULCIO_OID.githubWorkflowRepository, der: false },
  githubWorkflowRef: { oid: FULCIO_OID.githubWorkflowRef, der: false },
  buildSignerURI: { oid: `${ARC}9`, der: true },
  buildSignerDigest: { oid: `${ARC}10`, der: true },
  runnerEnvironment: { oid: `${ARC}11`, der: true },
  sourceRepositoryURI: { oid: `${ARC}12`, der: true },
  sourceRepositoryDigest: { oid: `${ARC}13`, der: true },
  sourceRepositoryRef: { oid: `${ARC}14`, der: true },
  sourceRepositoryIdentifier: { oid: `${ARC}15`, der: true },
  sourceRepositoryOwnerURI: { oid: `${ARC}16`, der: true },
  sourceRepositoryOwnerIdentifier: { oid: `${ARC}17`, der: true },
  buildConfigURI: { oid: `${ARC}18`, der: true },
  buildConfigDigest: { oid: `${ARC}19`, der: true },
  buildTrigger: { oid: `${ARC}20`, der: true },
  runInvocationURI: { oid: `${ARC}21`, der: true },
  sourceRepositoryVisibilityAtSigning: { oid: `${ARC}22`, der: true },
  deploymentEnvironment: { oid: `${ARC}23`, der: true },
  tokenSubject: { oid: `${ARC}24`, der: true },
};

export const CLAIM_NAMES = Object.keys(CLAIMS);
