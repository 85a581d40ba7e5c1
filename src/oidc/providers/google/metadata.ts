import { readFileSync } from 'node:fs';
import { GitsignError, quoted } from '../../../errors';
import { type AnswerLimit, METADATA_PROBE } from '../../../net/answerLimits';
import { type HttpResponse, httpCallChecked } from '../../../net/http';
import { checkedUrl, isLoopbackHost } from '../../../net/transport';

/**
 * The GCE metadata server, as Google's Go library (cloud.google.com/go/compute/metadata) reaches it:
 * http://169.254.169.254/computeMetadata/v1/..., or the host[:port] in GCE_METADATA_HOST.
 *
 * It speaks plain http by nature, on a link-local address no router forwards: the one place our
 * https-or-loopback rule (src/net/transport.ts) does not fit. The exception is exactly that address
 * (and its documented name, metadata.google.internal) on port 80; any other GCE_METADATA_HOST goes
 * through the ordinary rule (loopback, or gitsign.insecureAllowHTTP with a warning).
 */
const METADATA_IP = '169.254.169.254';
const METADATA_NAMES = new Set([METADATA_IP, 'metadata.google.internal', 'metadata.google.internal.']);
const SERVICE = 'GCE metadata server';

function metadataHost(env: NodeJS.ProcessEnv): string {
  const host = env.GCE_METADATA_HOST || METADATA_IP;
  // host[:port] only: a path, user or query smuggled in would change where the request goes.
  if (!/^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) throw new GitsignError('CONFIG', `GCE_METADATA_HOST ${quoted(host)} is not a host[:port]`);
  return host;
}

/** The URL of a metadata path ("" for the root), allowed by the rule above or refused with a CONFIG sentence. */
function metadataUrl(env: NodeJS.ProcessEnv, path: string): URL {
  const url = new URL(`http://${metadataHost(env)}${path}`);
  if ((METADATA_NAMES.has(url.hostname) && url.port === '') || isLoopbackHost(url.hostname)) return url;
  return checkedUrl(url.toString(), 'GCE_METADATA_HOST', 'CONFIG');
}

/** GET computeMetadata/v1/<suffix>; the answer when 200, else a sentence naming the status. */
export async function metadataGet(env: NodeJS.ProcessEnv, suffix: string, limit: AnswerLimit): Promise<HttpResponse> {
  const res = await httpCallChecked(metadataUrl(env, `/computeMetadata/v1/${suffix}`), { service: SERVICE, method: 'GET', limit, headers: { 'Metadata-Flavor': 'Google' } });
  if (res.status === 404) throw new GitsignError('TOKEN', `${SERVICE}: ${suffix.split('?')[0]} is not defined here (404)`);
  if (res.status !== 200) throw new GitsignError(res.status >= 500 ? 'NETWORK' : 'TOKEN', `${SERVICE} answered ${res.status} for ${suffix.split('?')[0]}`);
  return res;
}

/** Google's firmware names itself so on GCE machines (Linux only, as Go's check). */
function firmwareSaysGoogle(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const name = readFileSync('/sys/class/dmi/id/product_name', 'utf8').trim();
    return name === 'Google' || name === 'Google Compute Engine';
  } catch {
    return false;
  }
}

/** Whether to suspect GCE without a network question (`gitsign doctor`). */
export function gceHint(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.GCE_METADATA_HOST) || firmwareSaysGoogle();
}

/** The metadata server's root answers with Metadata-Flavor: Google. */
async function httpProbe(env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<boolean> {
  try {
    const res = await httpCallChecked(metadataUrl(env, ''), { service: SERVICE, method: 'GET', limit: METADATA_PROBE, deadlineMs: 5_000, attempts: 1, signal });
    return res.headers.get('metadata-flavor') === 'Google';
  } catch {
    return false;
  }
}

/** metadata.google.internal resolves to the metadata address (DNS only: the lookup can be cancelled). */
async function dnsProbe(signal: AbortSignal): Promise<boolean> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Resolver } = require('node:dns').promises as typeof import('node:dns').promises;
  const resolver = new Resolver({ timeout: 2_000, tries: 1 });
  const cancel = (): void => resolver.cancel();
  signal.addEventListener('abort', cancel);
  try {
    return (await resolver.resolve4('metadata.google.internal.')).includes(METADATA_IP);
  } catch {
    return false;
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

let probed: Promise<boolean> | undefined;

/**
 * Whether this is a Google Compute Engine machine, as Go's metadata.OnGCE decides it: yes when
 * GCE_METADATA_HOST is set; else an HTTP probe of the metadata server races a DNS lookup of its name.
 * When the firmware says Google, a "no" waits (up to 5 s) for the other probe to say yes; otherwise
 * the first answer decides, so a machine elsewhere is not held up. Asked once per process.
 */
export async function isOnGCE(env: NodeJS.ProcessEnv): Promise<boolean> {
  if (env.GCE_METADATA_HOST) return true;
  probed ??= (async () => {
    const stop = new AbortController();
    const answers: Promise<boolean>[] = [httpProbe(env, stop.signal), dnsProbe(stop.signal)];
    const first = await Promise.race(answers);
    let result = first;
    if (!first && firmwareSaysGoogle()) {
      const late = new Promise<boolean>((resolve) => setTimeout(resolve, 5_000, false).unref());
      result = await Promise.race([Promise.all(answers).then((all) => all.some(Boolean)), late]);
    }
    stop.abort();
    return result;
  })();
  return probed;
}
