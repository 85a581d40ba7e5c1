import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cannotRead, GitsignError } from '../errors';

/**
 * What was signed, as the conformance protocol names it: "sha256:<hex>" is a digest (the artifact
 * itself is not at hand), anything else a file to read.
 */
export type Artifact = Buffer | { sha256: Buffer };

export function readArtifact(arg: string): Artifact {
  if (arg.startsWith('sha256:')) {
    const hex = arg.slice('sha256:'.length);
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new GitsignError('USAGE', `${arg} is not a SHA-256 digest (sha256: and 64 hex digits)`);
    return { sha256: Buffer.from(hex, 'hex') };
  }
  try {
    return readFileSync(arg);
  } catch (err) {
    throw cannotRead('USAGE', 'the artifact', arg, err);
  }
}

/** The artifact's digest by node:crypto name; undefined when only another digest is known. */
export function artifactDigest(artifact: Artifact, algorithm: string): Buffer | undefined {
  if (Buffer.isBuffer(artifact)) return createHash(algorithm).update(artifact).digest();
  return algorithm === 'sha256' ? artifact.sha256 : undefined;
}
