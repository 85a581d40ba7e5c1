import { GitsignError } from '../errors';
import type { AnswerLimit } from '../net/answerLimits';
import { httpCall } from '../net/http';
import { parseFaults } from './faults/kinds';
import type { Service } from './faults/kinds';
import { STATUS_PATH } from './state/runtime';

/**
 * Questions to a sandbox over HTTP, each small and bounded: who answers on its port (its pid and
 * state directory), and whether each of its services answers. The answers are read as untrusted:
 * another program may hold the port.
 */
const PROBE_LIMIT: AnswerLimit = { bytes: 64 * 1024, what: 'a sandbox status answer' };
const PROBE_DEADLINE_MS = 5_000;

const get = (url: string, service: string) => httpCall(url, { service, method: 'GET', limit: PROBE_LIMIT, deadlineMs: PROBE_DEADLINE_MS, attempts: 1 });

/** The pid and state directory of the sandbox answering at url, or undefined when none does. */
export async function whoAnswers(url: string): Promise<{ pid: number; dir: string } | undefined> {
  try {
    const res = await get(url + STATUS_PATH, 'the sandbox');
    const v = JSON.parse(res.text) as { pid?: unknown; dir?: unknown };
    if (res.status !== 200 || !Number.isSafeInteger(v?.pid) || typeof v.dir !== 'string') return undefined;
    return { pid: v.pid as number, dir: v.dir };
  } catch {
    return undefined;
  }
}

/** One of the services, as `status` lists them: its base URL for clients and a cheap GET that must answer 200. */
const SERVICES: { name: Service | 'tuf'; base: string; probe: string }[] = [
  { name: 'oidc', base: '/auth', probe: '/auth/.well-known/openid-configuration' },
  { name: 'fulcio', base: '', probe: '/api/v2/configuration' },
  { name: 'rekor', base: '', probe: '/api/v1/log' },
  { name: 'tsa', base: '/api/v1/timestamp', probe: '/api/v1/timestamp/certchain' },
  { name: 'tuf', base: '/tuf', probe: '/tuf/timestamp.json' },
];

export interface ServiceCheck {
  service: string;
  url: string;
  /** null: not asked (hostile mode replaces its answers on purpose). */
  answers: boolean | null;
  /** "200", why it does not answer, or which fault it runs. */
  detail: string;
}

/** The transport fault each service runs with (hostile mode), from the faults a sandbox recorded. */
function transportFaults(faults: readonly string[]): (name: string) => string | undefined {
  try {
    const plan = parseFaults(faults.length ? [...faults] : undefined);
    return (name) => (name === 'tuf' ? undefined : plan.transport(name as Service));
  } catch {
    return () => undefined;
  }
}

/** Asks every service at once; a service whose answers a transport fault replaces is not asked. */
export async function checkServices(url: string, faults: readonly string[] = []): Promise<ServiceCheck[]> {
  const transport = transportFaults(faults);
  return Promise.all(
    SERVICES.map(async ({ name, base, probe }): Promise<ServiceCheck> => {
      const check = { service: name, url: url + base };
      const fault = transport(name);
      if (fault) return { ...check, answers: null, detail: `hostile mode (${fault}): not asked` };
      try {
        const res = await get(url + probe, name);
        return { ...check, answers: res.status === 200, detail: res.status === 200 ? '200' : `answered ${res.status}` };
      } catch (err) {
        return { ...check, answers: false, detail: err instanceof GitsignError ? err.message : 'no answer' };
      }
    }),
  );
}
