import { GitsignError } from '../../errors';
import { CI_TOKEN } from '../../net/answerLimits';
import { httpCall, parseJson, serviceError } from '../../net/http';
import { accessToken } from './google/credentials';
import type { TokenProvider } from './types';

/**
 * An ID token for the service account named by GOOGLE_SERVICE_ACCOUNT_NAME (an email), made by the
 * IAM Credentials API's generateIdToken with the ambient credentials' access token (they need
 * roles/iam.serviceAccountOpenIdTokenCreator on that account), the email included, as cosign asks.
 * CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS (gcloud's setting) names another root for the API,
 * such as a Private Service Connect endpoint.
 */
const DEFAULT_IAM_CREDENTIALS = 'https://iamcredentials.googleapis.com/';
const SERVICE = 'IAM Credentials API';

export const googleImpersonate: TokenProvider = {
  name: 'google-impersonate',
  enabledWhen: 'GOOGLE_SERVICE_ACCOUNT_NAME is set',
  enabledHere: (env) => Boolean(env.GOOGLE_SERVICE_ACCOUNT_NAME),
  provide: async ({ env, audience }) => {
    const target = env.GOOGLE_SERVICE_ACCOUNT_NAME;
    if (!target) throw new GitsignError('TOKEN', 'GOOGLE_SERVICE_ACCOUNT_NAME is not set: it names the service account to impersonate');
    const bearer = await accessToken(env);
    const root = (env.CLOUDSDK_API_ENDPOINT_OVERRIDES_IAMCREDENTIALS || DEFAULT_IAM_CREDENTIALS).replace(/\/+$/, '');
    const account = encodeURIComponent(target).replace(/%40/g, '@');
    const res = await httpCall(`${root}/v1/projects/-/serviceAccounts/${account}:generateIdToken`, {
      service: SERVICE,
      method: 'POST',
      limit: CI_TOKEN,
      headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ audience, includeEmail: true }),
    });
    if (res.status < 200 || res.status > 299) throw serviceError(SERVICE, res);
    const token = parseJson<{ token?: unknown } | null>(SERVICE, res)?.token;
    if (typeof token !== 'string' || !token) throw new GitsignError('TOKEN', `${SERVICE} answered without a token`);
    return token;
  },
};
