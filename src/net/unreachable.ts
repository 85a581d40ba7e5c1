import { proxyFor } from './proxy';
import { isLoopbackHost } from './transport';

/**
 * The likely cause of a connection that failed, and what to do, for "cannot reach SERVICE at URL
 * (CODE)": a local sandbox that is not running, a name that does not resolve, a host NO_PROXY keeps
 * off the proxy, a TLS certificate Node does not trust. '' when the code says nothing more than itself.
 */
const TLS_UNTRUSTED = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED']);
const NO_ROUTE = new Set(['ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']);

export function unreachableCause(target: URL, code: string, env: NodeJS.ProcessEnv = process.env): string {
  if (isLoopbackHost(target.hostname)) {
    if (code !== 'ECONNREFUSED') return '';
    const sandbox = env.GITSIGN_SANDBOX_DIR;
    return sandbox
      ? `nothing listens there: is the sandbox of GITSIGN_SANDBOX_DIR (${sandbox}) running? gitsign sandbox status tells; gitsign sandbox up --detach starts it`
      : 'nothing listens on that port of this machine: if it is a local gitsign sandbox, is `gitsign sandbox up` running? gitsign sandbox status tells';
  }
  const choice = proxyFor(target, env);
  const noProxy = !choice.proxy && choice.bypassed ? ' (NO_PROXY sends this host around the proxy the environment names)' : '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `its host name does not resolve: check the URL and that this machine is online${noProxy}`;
  if (code === 'ECONNREFUSED') return `the host refuses connections on that port: check the URL${noProxy}`;
  if (NO_ROUTE.has(code)) return `check the URL and that this machine is online${noProxy}`;
  if (TLS_UNTRUSTED.has(code)) return 'its TLS certificate is not from a CA Node trusts (a TLS-inspecting proxy?): NODE_EXTRA_CA_CERTS=FILE adds that CA';
  if (code === 'CERT_HAS_EXPIRED') return "its TLS certificate has expired, or this machine's clock is wrong (gitsign doctor checks it)";
  return '';
}
