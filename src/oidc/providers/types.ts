/**
 * A source of an ID token that needs no person: cosign's providers (pkg/providers), which gitsign
 * uses under the same names. Enabled() and Provide() as cosign has them, one file per provider.
 */
export interface ProviderContext {
  env: NodeJS.ProcessEnv;
  /** The token's audience: gitsign.clientID ("sigstore"), as gitsign passes it. */
  audience: string;
}

export interface TokenProvider {
  /** gitsign.tokenProvider's value for it. */
  readonly name: string;
  /** What enables it in the default order, in words: "SIGSTORE_ID_TOKEN is set". */
  readonly enabledWhen: string;
  /**
   * cosign's Enabled() as far as this machine can tell without asking the network. For every
   * provider but google-workload-identity that is all of it; `gitsign doctor` asks only this.
   */
  enabledHere(env: NodeJS.ProcessEnv): boolean;
  /** cosign's Enabled() in full, when it must ask the network (google-workload-identity). */
  enabled?(ctx: ProviderContext): Promise<boolean>;
  /** cosign's Provide(): the raw token, or a GitsignError saying why not. */
  provide(ctx: ProviderContext): Promise<string>;
}
