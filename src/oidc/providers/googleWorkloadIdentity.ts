import { GitsignError, quoted } from '../../errors';
import { CI_TOKEN } from '../../net/answerLimits';
import { findCredentials, serviceAccountGrant } from './google/credentials';
import { gceHint, isOnGCE, metadataGet } from './google/metadata';
import type { ProviderContext, TokenProvider } from './types';

/**
 * A Google ID token for the ambient identity, as google.golang.org/api/idtoken makes one: from a
 * service account key when the Application Default Credentials are one, else from the GCE metadata
 * server's identity endpoint (the VM's or the GKE workload's service account).
 */
async function idToken({ env, audience }: ProviderContext): Promise<string> {
  const creds = await findCredentials(env);
  if (creds.kind === 'metadata') {
    const res = await metadataGet(env, `instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`, CI_TOKEN);
    if (!res.text) throw new GitsignError('TOKEN', 'GCE metadata server answered with an empty identity token');
    return res.text;
  }
  const type = creds.json.type;
  if (type === 'service_account') return serviceAccountGrant(creds, { target_audience: audience });
  if (type === 'impersonated_service_account' || type === 'external_account') {
    throw new GitsignError('CONFIG', `the Google credentials file ${quoted(creds.path, 200)} is of type ${quoted(type)}, which gitsign-ts does not use for ID tokens (only a service account key, or the metadata server)`);
  }
  throw new GitsignError('TOKEN', `Google ID tokens cannot be made from ${quoted(type)} credentials (${quoted(creds.path, 200)}): only from a service account key or the metadata server`);
}

export const googleWorkloadIdentity: TokenProvider = {
  name: 'google-workload-identity',
  enabledWhen: 'this is a Google Compute Engine machine (GCE_METADATA_HOST, or the metadata server answers) that can issue an ID token',
  // `gitsign doctor` asks no network question: the firmware or GCE_METADATA_HOST is its hint.
  enabledHere: gceHint,
  // As cosign: on GCE, and a token for a throw-away audience can be had.
  enabled: async (ctx) => {
    if (!(await isOnGCE(ctx.env))) return false;
    try {
      await idToken({ ...ctx, audience: 'garbage' });
      return true;
    } catch {
      return false;
    }
  },
  provide: idToken,
};
