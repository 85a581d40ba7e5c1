import { GitsignError } from '../../errors';
import { CI_TOKEN } from '../../net/answerLimits';
import { httpCall, parseJson } from '../../net/http';
import { checkedUrl } from '../../net/transport';
import { headerValue } from './headerValue';
import type { TokenProvider } from './types';

/** GitHub Actions' token service, in a job with `permissions: id-token: write`. */
export const githubActions: TokenProvider = {
  name: 'github-actions',
  enabledWhen: 'ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN are set (GitHub Actions with id-token: write)',
  enabledHere: (env) => Boolean(env.ACTIONS_ID_TOKEN_REQUEST_URL && env.ACTIONS_ID_TOKEN_REQUEST_TOKEN),
  provide: async ({ env, audience }) => {
    const url = checkedUrl(env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'CONFIG');
    url.searchParams.set('audience', audience);
    const res = await httpCall(url.toString(), { service: 'GitHub Actions token service', method: 'GET', limit: CI_TOKEN, headers: { Authorization: `bearer ${headerValue(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? '', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN')}` } });
    if (res.status !== 200) throw new GitsignError('TOKEN', `GitHub Actions token service answered ${res.status}`);
    const value = parseJson<{ value?: unknown } | null>('GitHub Actions token service', res)?.value; // JSON null is an answer too
    if (typeof value !== 'string') throw new GitsignError('TOKEN', 'GitHub Actions token service answered without a token');
    return value;
  },
};
