import type { SandboxPaths } from './state/paths';

/**
 * The client settings for a running sandbox, as POSIX shell exports (DIR/env, also printed by `up`).
 * ID tokens expire, so none is exported; `gitsign sandbox token` mints one on demand.
 */
export interface EnvValues {
  baseUrl: string;
  issuer: string;
  clientId: string;
  /** The sandbox's TUF repository (mirror URL for `gitsign initialize --mirror`). */
  tufUrl: string;
  paths: SandboxPaths;
}

/** A POSIX shell word for any string. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function envVariables(v: EnvValues): [string, string][] {
  return [
    ['GITSIGN_FULCIO_URL', v.baseUrl],
    ['GITSIGN_REKOR_URL', v.baseUrl],
    ['GITSIGN_OIDC_ISSUER', v.issuer],
    ['GITSIGN_OIDC_CLIENT_ID', v.clientId],
    ['GITSIGN_TRUSTED_ROOT', v.paths.trustedRoot],
    ['GITSIGN_TIMESTAMP_SERVER_URL', `${v.baseUrl}/api/v1/timestamp`],
    ['GITSIGN_TIMESTAMP_CERT_CHAIN', v.paths.tsaChain],
    ['GITSIGN_FULCIO_ROOT', v.paths.fulcioChain],
    ['SIGSTORE_REKOR_PUBLIC_KEY', v.paths.rekorPub],
    ['SIGSTORE_CT_LOG_PUBLIC_KEY_FILE', v.paths.ctfePub],
    ['GITSIGN_SANDBOX_DIR', v.paths.dir],
    ['GITSIGN_SANDBOX_TUF_URL', v.tufUrl],
    ['GITSIGN_SANDBOX_TUF_ROOT', v.paths.tufRoot],
  ];
}

export function envFile(v: EnvValues): string {
  const dirArg = shellQuote(v.paths.dir);
  return [
    `# gitsign sandbox at ${v.baseUrl} (state in ${v.paths.dir}); load with: . ${shellQuote(v.paths.env)}`,
    ...envVariables(v).map(([k, val]) => `export ${k}=${shellQuote(val)}`),
    '# Or trust the sandbox through its TUF repository, as a private deployment: unset GITSIGN_TRUSTED_ROOT,',
    '# GITSIGN_FULCIO_ROOT, GITSIGN_TIMESTAMP_CERT_CHAIN, SIGSTORE_REKOR_PUBLIC_KEY and SIGSTORE_CT_LOG_PUBLIC_KEY_FILE, then once:',
    '#   gitsign initialize --mirror "$GITSIGN_SANDBOX_TUF_URL" --root "$GITSIGN_SANDBOX_TUF_ROOT"',
    '# ID tokens expire; for non-interactive signing mint one when needed:',
    `#   export SIGSTORE_ID_TOKEN="$(gitsign sandbox token --dir ${dirArg})"`,
    '# or let the device flow sign in the sandbox identity at once: export GITSIGN_TOKEN_PROVIDER=device',
    `# Is it running: gitsign sandbox status --dir ${dirArg}; stop it: gitsign sandbox down --dir ${dirArg}`,
    '',
  ].join('\n');
}
