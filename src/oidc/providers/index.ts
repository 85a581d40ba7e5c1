import { buildkiteAgent } from './buildkite';
import { envvar } from './envvar';
import { filesystem } from './filesystem';
import { githubActions } from './githubActions';
import { googleImpersonate } from './googleImpersonate';
import { googleWorkloadIdentity } from './googleWorkloadIdentity';
import { spiffe } from './spiffe';
import type { TokenProvider } from './types';

/**
 * cosign's providers in the order the Go gitsign tries them. Each registers itself from its package's
 * init(), so the order is Go's package initialization order, which since Go 1.21 (gitsign builds with
 * 1.26) is not the import order in cosign's providers/all but: repeatedly, the first package by import
 * path whose imports are all initialized. envvar and filesystem need only fmt and os, so they come
 * before anything that needs net/http; github-actions needs net/http alone; spiffe waits for gRPC,
 * google's two (one package, registered in this order) for Google's API client on top of gRPC, and
 * buildkite-agent for net/http/httputil, which sorts after all of those. `GODEBUG=inittrace=1 gitsign
 * version` on a Go gitsign prints that order.
 */
export const PROVIDERS: readonly TokenProvider[] = [envvar, filesystem, githubActions, spiffe, googleWorkloadIdentity, googleImpersonate, buildkiteAgent];

export type { ProviderContext, TokenProvider } from './types';
export { FILESYSTEM_TOKEN_PATH } from './filesystem';
