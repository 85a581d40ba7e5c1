import type * as oauth from 'oauth4webapi';
import { GitsignError } from '../errors';
import type { AnswerLimit } from '../net/answerLimits';
import { httpCall } from '../net/http';

/**
 * oauth4webapi's requests go through our HTTP client (its customFetch hook), so issuer answers get the
 * same size limit, deadline and http/https rule as every other call; oauth4webapi then reads the
 * answer from a Response that is already complete in memory.
 */
export type BoundedFetch = (url: string, options: oauth.CustomFetchOptions<string, unknown>) => Promise<Response>;

/** Statuses whose Response may not have a body (the Fetch standard's "null body status"). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

export function boundedFetch(service: string, limit: AnswerLimit): BoundedFetch {
  return async (url, options) => {
    const method = options.method;
    if (method !== 'GET' && method !== 'POST') throw new GitsignError('INTERNAL', `unexpected ${String(method)} request to ${service}`);
    const res = await httpCall(url, {
      service,
      method,
      headers: options.headers,
      body: options.body === undefined || options.body === null ? undefined : String(options.body),
      limit,
      signal: options.signal,
      // A code or device code is single-use: only reads are retried.
      attempts: method === 'GET' ? 3 : 1,
    });
    if (res.status < 200 || res.status > 599) throw new GitsignError('TOKEN', `${service} answered with HTTP status ${res.status}`);
    const headers = new Headers();
    for (const [name, value] of res.rawHeaders) {
      try {
        headers.append(name, value);
      } catch {
        // A header the Fetch standard refuses is one oauth4webapi never needs.
      }
    }
    return new Response(NULL_BODY.has(res.status) ? null : res.body, { status: res.status, headers });
  };
}
