import type { Config } from '../config/config';
import { proxyFor, proxyName } from '../net/proxy';
import type { CheckResult } from './report';

/**
 * Which way each service's calls go: straight, or through the proxy the environment names (as Go's
 * net/http chooses it, src/net/proxy.ts). A SOCKS proxy is one gitsign-ts cannot use.
 */
export function proxyCheck(cfg: Config, env: NodeJS.ProcessEnv): CheckResult {
  const id = 'network.proxy';
  const title = 'proxy';
  const services: [string, string][] = [['Fulcio', cfg.fulcio], ['Rekor', cfg.rekor], ['OIDC issuer', cfg.issuer], ...(cfg.timestampURL ? ([['TSA', cfg.timestampURL]] as [string, string][]) : [])];
  const routes: Record<string, string> = {};
  let socks = false;
  for (const [name, raw] of services) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue; // the service checks name a URL that is not one
    }
    const choice = proxyFor(url, env);
    if (choice.proxy?.protocol === 'socks5:') socks = true;
    routes[name] = choice.proxy ? `through ${proxyName(choice.proxy)}` : choice.bypassed ? 'direct (NO_PROXY)' : 'direct';
  }
  const through = Object.entries(routes).filter(([, r]) => r.startsWith('through'));
  const summary = Object.entries(routes).map(([n, r]) => `${n} ${r}`).join(', ');
  if (socks) return { id, title, status: 'fail', summary: `${summary}: a SOCKS proxy, which gitsign-ts does not speak`, fix: ['export HTTPS_PROXY=http://HOST:PORT   # an HTTP proxy'], details: routes };
  if (through.length === 0) return { id, title, status: 'ok', summary: `${summary} (no proxy applies)`, details: routes };
  return { id, title, status: 'ok', summary, details: routes };
}
