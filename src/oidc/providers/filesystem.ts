import { CI_TOKEN } from '../../net/answerLimits';
import { readSmallFile, statable } from './smallFile';
import type { TokenProvider } from './types';

/** The path cosign reads (a Kubernetes projected service account token is mounted there). */
export const FILESYSTEM_TOKEN_PATH = '/var/run/sigstore/cosign/oidc-token';

/** Enabled when anything can be stat()ed at the path, as cosign; reading it is then a clear error or the token. */
export const filesystem: TokenProvider = {
  name: 'filesystem',
  enabledWhen: `${FILESYSTEM_TOKEN_PATH} exists`,
  enabledHere: () => statable(FILESYSTEM_TOKEN_PATH),
  provide: async () => readSmallFile(FILESYSTEM_TOKEN_PATH, CI_TOKEN, 'the token file'),
};
