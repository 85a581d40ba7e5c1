import { GitsignError } from '../../errors';
import { CI_TOKEN } from '../../net/answerLimits';
import { type Field, readFields, writeFields } from '../../rekor/protobuf';
import { grpcUnary } from './grpcUnary';
import { statable } from './smallFile';
import type { TokenProvider } from './types';

/**
 * A JWT-SVID from the SPIFFE Workload API (a SPIRE agent) on a unix socket. As cosign, the socket is
 * SPIFFE_ENDPOINT_SOCKET read as a path (not the unix:// URI the SPIFFE spec describes), else SPIRE's
 * default path; the provider is enabled when something exists there.
 */
const DEFAULT_SPIFFE_SOCKET = '/tmp/spire-agent/public/api.sock';

const SERVICE = 'SPIFFE Workload API';

function spiffeSocket(env: NodeJS.ProcessEnv): string {
  return env.SPIFFE_ENDPOINT_SOCKET || DEFAULT_SPIFFE_SOCKET;
}

/** The fields of one message, or a sentence saying the agent's answer is not a JWTSVIDResponse. */
function fieldsOf(message: Buffer): Field[] {
  try {
    return readFields(message);
  } catch {
    throw new GitsignError('TOKEN', `${SERVICE} answered with a malformed JWTSVIDResponse`);
  }
}

/** The first string of field `num` (wire type 2), if any. */
function firstBytes(fields: Field[], num: number): Buffer | undefined {
  const f = fields.find((x) => x.num === num);
  if (f && f.wire !== 2) throw new GitsignError('TOKEN', `${SERVICE} answered with a malformed JWTSVIDResponse`);
  return f?.value as Buffer | undefined;
}

export const spiffe: TokenProvider = {
  name: 'spiffe',
  enabledWhen: `the SPIFFE Workload API socket exists (SPIFFE_ENDPOINT_SOCKET, else ${DEFAULT_SPIFFE_SOCKET})`,
  enabledHere: (env) => statable(spiffeSocket(env)),
  provide: async ({ env, audience }) => {
    // JWTSVIDRequest { repeated string audience = 1; string spiffe_id = 2 (empty: the workload's default) }
    const request = writeFields([{ num: 1, wire: 2, value: Buffer.from(audience, 'utf8') }]);
    const answer = await grpcUnary({
      service: SERVICE,
      socketPath: spiffeSocket(env),
      method: '/SpiffeWorkloadAPI/FetchJWTSVID',
      // Every Workload API call carries it: the agent refuses calls without (a guard against SSRF).
      metadata: { 'workload.spiffe.io': 'true' },
      message: request,
      limit: CI_TOKEN,
    });
    // JWTSVIDResponse { repeated JWTSVID svids = 1 }; JWTSVID { spiffe_id = 1; svid = 2; hint = 3 }: the first one, as go-spiffe.
    const first = firstBytes(fieldsOf(answer), 1);
    if (!first) throw new GitsignError('TOKEN', `${SERVICE} answered with no JWT-SVID`);
    const svid = firstBytes(fieldsOf(first), 2);
    if (!svid?.length) throw new GitsignError('TOKEN', `${SERVICE} answered with an empty JWT-SVID`);
    return svid.toString('utf8');
  },
};
