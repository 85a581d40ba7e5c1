import { GitsignError } from '../../errors';
import { CI_TOKEN } from '../../net/answerLimits';
import { httpCall, parseJson, serviceError } from '../../net/http';
import { headerValue } from './headerValue';
import type { TokenProvider } from './types';

/**
 * A Buildkite job's OIDC token, asked of the agent API with the job's agent token: the request
 * `buildkite-agent oidc request-token --audience A` makes, made directly as cosign makes it (so it
 * works where the agent binary is not on PATH, in a container step).
 */
const DEFAULT_BUILDKITE_ENDPOINT = 'https://agent.buildkite.com/v3';

/** Rails refuses dots in a path segment: escaped like every byte but letters, digits, '-', '_' and '~'. */
function pathSegment(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*.]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** BUILDKITE_REQUEST_HEADER_X_Y=v is sent as X-Y: v when that is a Buildkite-* header, as the agent's client does. */
function requestHeaders(env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('BUILDKITE_REQUEST_HEADER_') || value === undefined) continue;
    const name = variable.slice('BUILDKITE_REQUEST_HEADER_'.length).replace(/_/g, '-');
    if (!/^buildkite-[a-z0-9-]+$/i.test(name)) continue;
    headers[name] = headerValue(value, variable);
  }
  return headers;
}

export const buildkiteAgent: TokenProvider = {
  name: 'buildkite-agent',
  enabledWhen: 'BUILDKITE_AGENT_ACCESS_TOKEN is set (a Buildkite job)',
  enabledHere: (env) => Boolean(env.BUILDKITE_AGENT_ACCESS_TOKEN),
  provide: async ({ env, audience }) => {
    const endpoint = env.BUILDKITE_AGENT_ENDPOINT || DEFAULT_BUILDKITE_ENDPOINT;
    const url = `${endpoint.replace(/\/+$/, '')}/jobs/${pathSegment(env.BUILDKITE_JOB_ID ?? '')}/oidc/tokens`;
    const res = await httpCall(url, {
      service: 'Buildkite agent API',
      method: 'POST',
      limit: CI_TOKEN,
      headers: {
        ...requestHeaders(env),
        Authorization: `Token ${headerValue(env.BUILDKITE_AGENT_ACCESS_TOKEN ?? '', 'BUILDKITE_AGENT_ACCESS_TOKEN')}`,
        'Content-Type': 'application/json',
      },
      body: `${JSON.stringify({ audience })}\n`,
    });
    if (res.status !== 200) throw serviceError('Buildkite agent API', res);
    const token = parseJson<{ token?: unknown } | null>('Buildkite agent API', res)?.token;
    if (typeof token !== 'string') throw new GitsignError('TOKEN', 'Buildkite agent API answered without a token');
    return token;
  },
};
