import { isUsableSubject } from '../oidc/token';
import { readOwnFile } from './fsutil';

/**
 * DIR/sandbox.json: the last run's URL, pid, identity and faults. Written by `up` once it serves, kept
 * after it stops (the next `up` comes back on its port with its identity). Read back as untrusted: a
 * damaged or edited file counts as no record, never as a URL to call elsewhere than 127.0.0.1.
 */
export interface RuntimeInfo {
  url: string;
  issuer: string;
  pid: number;
  subject: string;
  /** SERVICE:KIND of each fault it runs with (none: a faithful sandbox). */
  faults?: string[];
}

/** Where a running sandbox says who it is (its pid and state directory), so commands act only on their DIR's sandbox. */
export const STATUS_PATH = '/sandbox/status';

const SANDBOX_URL = /^http:\/\/127\.0\.0\.1:([1-9]\d{0,4})$/;

function valid(v: unknown): v is RuntimeInfo {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  const port = typeof r.url === 'string' ? SANDBOX_URL.exec(r.url) : null;
  return (
    port !== null &&
    Number(port[1]) <= 65535 &&
    r.issuer === `${r.url as string}/auth` &&
    Number.isSafeInteger(r.pid) &&
    (r.pid as number) > 0 &&
    typeof r.subject === 'string' &&
    isUsableSubject(r.subject) &&
    (r.faults === undefined || (Array.isArray(r.faults) && r.faults.every((f) => typeof f === 'string')))
  );
}

export function readRuntime(path: string): RuntimeInfo | undefined {
  try {
    const parsed: unknown = JSON.parse(readOwnFile(path)?.toString('utf8') ?? 'null');
    return valid(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The port of the last run, for a restart on the same URLs. */
export function runtimePort(runtime: RuntimeInfo | undefined): number | undefined {
  return runtime ? Number(new URL(runtime.url).port) : undefined;
}
