import { createHash } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import type { RawObject } from '../git/catFile';
import { commonGitDir } from '../git/gitDir';
import { cacheDir } from '../trust/tufMirror';
import { certificateBytes } from '../trust/rootMaterial';
import type { VerifySettings } from '../verify/settings';
import { decodeFacts, decodeResult, encodeFacts, factsOf } from './cacheEntry';
import { CacheStore, macKey } from './cacheStore';
import type { AuditRecords, ObjectVerifier, VerifierFactory } from './engine';
import type { SignatureFacts } from './types';

/**
 * The audit's result cache (issue 14): a wrapper around a signature verifier that answers objects it
 * has checked before, so a re-run after one new commit checks only that commit.
 *
 * What is kept: per object, the facts its signature check gave (signer SANs and issuer, certificate
 * fingerprint, attested time and its source, log index, what was not checked; or unsigned; or the
 * object's own failure). Failures of the check itself are not kept, and neither are the judgments:
 * those depend on the policy and the rest of the history, and judging is cheap; the signature checks
 * (ECDSA, chains, SETs) are what costs.
 *
 * The key: the object ID within a context, the context being a hash of everything else a result
 * depends on: the cache format, the gitsign-ts version, which verifier (gitsign's; the SSH and OpenPGP
 * ones sit beside this wrapper, not behind it), the trust material actually loaded (every CA chain,
 * log and timestamp authority key with its validity, so a new TUF target or --trusted-root is a new
 * context), and the verify options (--offline, --insecure-ignore-tlog, --insecure-ignore-sct, the
 * Rekor URL an online-mode signature is searched at, a detached SCT).
 *
 * Where: under the repository's common git directory (cacheStore.ts: 0700, segments written whole and
 * renamed, each line MACed with a per-user key from outside the repository, bounded in entries and
 * contexts). A line that is missing, corrupt or forged is a miss: the object is checked again.
 */
const FORMAT = 1;
/** Objects from which the cache's lines are decoded ahead of the questions. */
const DECODE_AHEAD_FROM = 64;

function hashTrust(h: ReturnType<typeof createHash>, material: TrustMaterial): void {
  const when = (v: { start: Date; end: Date }): string => `${v.start.getTime()}-${v.end.getTime()}`;
  for (const [name, cas] of [
    ['ca', material.certificateAuthorities],
    ['tsa', material.timestampAuthorities],
  ] as const) {
    for (const ca of cas) {
      h.update(`${name} ${when(ca.validFor)}\n`);
      for (const der of certificateBytes(ca) ?? ca.certChain.map((c) => c.root.toDER())) h.update(`${createHash('sha256').update(der).digest('hex')}\n`);
    }
  }
  for (const [name, logs] of [
    ['tlog', material.tlogs],
    ['ctlog', material.ctlogs],
  ] as const) {
    for (const log of logs) {
      const spki = log.publicKey.export({ type: 'spki', format: 'der' });
      h.update(`${name} ${log.logID.toString('hex')} ${JSON.stringify(log.baseURL)} ${when(log.validFor)} ${createHash('sha256').update(spki).digest('hex')}\n`);
    }
  }
}

/** The context of gitsign verify's results under these settings, for this gitsign-ts version (32 hex digits). */
export function cacheContext(settings: VerifySettings, version: string): string {
  const h = createHash('sha256');
  h.update(
    `${JSON.stringify({
      format: FORMAT,
      version,
      verifier: 'gitsign',
      offline: settings.offline,
      ignoreTlog: settings.ignoreTlog,
      ignoreSct: settings.ignoreSct,
      rekorUrl: settings.rekorUrl,
      detachedSct: settings.detachedSct === undefined ? null : createHash('sha256').update(JSON.stringify(settings.detachedSct)).digest('hex'),
    })}\n`,
  );
  hashTrust(h, settings.trust.material);
  return h.digest('hex').slice(0, 32);
}

/**
 * The verifier factory with the cache in front: the inner verifier is made only at the first miss,
 * for as many objects as the cache holds no line for (none at all for a run that misses nothing).
 */
export function cachedVerifier(inner: VerifierFactory, store: CacheStore): VerifierFactory & { readAhead(): void } {
  let decoded: { get(object: string): ReturnType<typeof decodeResult> | undefined } | undefined;
  const factory = (count: number, names?: readonly string[]): ObjectVerifier => {
    // Read when there are objects to answer (an audit resumed from its record may have none), and
    // decoded ahead only for many: for the few commits added since a record, each when asked for.
    const ahead = (decoded ??= store.decoded(decodeResult, count >= DECODE_AHEAD_FROM));
    const misses = names ? names.length - store.holds(names) : count;
    let made: ObjectVerifier | null = null;
    const verifier = (): ObjectVerifier => (made ??= inner(Math.max(misses, 1)));
    return {
      answer: (name: string, object: () => RawObject | null): SignatureFacts | null => {
        const fields = ahead.get(name);
        return fields ? factsOf(fields, object) : null;
      },
      verify: async (obj: RawObject): Promise<SignatureFacts> => {
        const json = store.get(obj.sha);
        const known = json === undefined ? null : decodeFacts(json, () => obj);
        if (known) return known;
        const facts = await verifier().verify(obj);
        const line = encodeFacts(facts);
        if (line !== null) store.put(obj.sha, line);
        return facts;
      },
      close: async () => {
        try {
          await made?.close();
        } finally {
          store.flush();
        }
      },
    };
  };
  // An audit that will ask about every commit has the results read and decoded while git lists them.
  return Object.assign(factory, { readAhead: () => void (decoded ??= store.decoded(decodeResult, true)) });
}

/**
 * The factory with the cache of this repository in front, and the records of audits kept in the same
 * context (record.ts). Without a git directory of ours or a place for the MAC key, the audit runs uncached.
 */
export async function withResultCache(factory: VerifierFactory, settings: VerifySettings, version: string, cwd?: string): Promise<{ factory: VerifierFactory; records?: AuditRecords; readAhead?: () => void }> {
  const gitDir = await commonGitDir(cwd);
  const store = gitDir === null ? null : CacheStore.open(gitDir, cacheContext(settings, version), macKey(cacheDir()));
  if (!store) return { factory };
  const cached = cachedVerifier(factory, store);
  return { factory: cached, records: { read: (name) => store.readRecord(name), write: (name, body) => store.writeRecord(name, body) }, readAhead: cached.readAhead };
}

