import { generateKeyPairSync, sign } from 'node:crypto';
import type { TrustMaterial } from '@sigstore/verify';
import { DEFAULTS, type Config } from '../../src/config/config';
import { requestCertificate } from '../../src/fulcio/client';
import { joinSignature } from '../../src/git/objectHash';
import type { Credential } from '../../src/sign/credential';
import { signPayload, type SignOptions } from '../../src/sign/signature';
import { DEFAULT_SUBJECT } from '../../src/sandbox/oidc/token';
import { loadTrust } from '../../src/trust/trustMaterial';
import { verifySettings, type VerifySettings } from '../../src/verify/settings';
import { Certificate } from '../../src/x509/certificate';
import { parseDer } from './der';
import type { ObjectSubject } from './objects';
import type { Peer } from './peer';

/**
 * Objects the sandbox signs for the fuzzer, one of each shape the product writes: Rekor v1 entry
 * embedded (with and without an RFC 3161 timestamp), Rekor v2 entry with timestamp, and online mode
 * (entry only in the log, found by search through the front).
 */
export interface SandboxWorld {
  peer: Peer;
  trust: TrustMaterial;
  cfg: Config;
  credential: Credential;
  credentialAt: number;
  subjects: ObjectSubject[];
  signOptions: (extra: Partial<SignOptions>) => SignOptions;
}

export const SANDBOX_EMAIL = DEFAULT_SUBJECT;

export function commitPayload(message: string): Buffer {
  const who = `Sandbox User <${SANDBOX_EMAIL}> 1700000000 +0000`;
  return Buffer.from(`tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor ${who}\ncommitter ${who}\n\n${message}\n`);
}

export function tagPayload(name: string): Buffer {
  return Buffer.from(`object 4b825dc642cb6eb9a060e54bf8d69288fbee4904\ntype commit\ntag ${name}\ntagger Sandbox User <${SANDBOX_EMAIL}> 1700000000 +0000\n\nrelease ${name}\n`);
}

export async function freshCredential(peer: Peer, key = peer.ephemeralKey()): Promise<Credential> {
  const { privateKey, publicKey } = key;
  const { chain } = await requestCertificate(peer.frontUrl, peer.fulcioToken(), SANDBOX_EMAIL, privateKey, publicKey);
  return { privateKey, certificate: new Certificate(chain[0]), chain: chain.slice(1) };
}

/** A credential at most 5 minutes old (Fulcio certificates live 10). */
export async function currentCredential(w: SandboxWorld): Promise<Credential> {
  if (Date.now() - w.credentialAt > 5 * 60_000) {
    w.credential = await freshCredential(w.peer);
    w.credentialAt = Date.now();
  }
  return w.credential;
}

export async function sandboxWorld(peer: Peer): Promise<SandboxWorld> {
  const trust = (await loadTrust({ trustedRootPath: peer.trustedRootPath, offline: true })).material;
  const cfg: Config = { ...DEFAULTS, trustedRoot: peer.trustedRootPath, rekor: peer.frontUrl, fulcio: peer.frontUrl, issuer: peer.issuerUrl };
  const credential = await freshCredential(peer);
  const signOptions = (extra: Partial<SignOptions>): SignOptions => ({ rekorUrl: peer.frontUrl, rekorMode: 'offline', trust, detached: true, say: () => undefined, ...extra });
  const world: SandboxWorld = { peer, trust, cfg, credential, credentialAt: Date.now(), subjects: [], signOptions };

  const settings = (flags: { offline: boolean; ignoreTlog: boolean; ignoreSct: boolean }): Promise<VerifySettings> => verifySettings(cfg, flags, {});
  const strict = await settings({ offline: true, ignoreTlog: false, ignoreSct: false });
  const online = await settings({ offline: false, ignoreTlog: false, ignoreSct: false });
  const lax = await settings({ offline: true, ignoreTlog: true, ignoreSct: true });
  const identity = { kind: 'committer-pending' as const };
  const tsaUrl = `${peer.frontUrl}/api/v1/timestamp`;

  // The CA's own signature algorithm, to re-sign mutated certificate bodies.
  const leaf = parseDer(credential.certificate.der);
  const algorithm = credential.certificate.der.subarray(leaf.children![1].start, leaf.children![1].end);
  const resign = {
    sign: (tbs: Buffer) => ({ algorithm, signature: sign('sha384', tbs, peer.material.fulcioIntermediate.key) }),
    settings: lax,
    committerEmail: SANDBOX_EMAIL,
  };

  const shapes: { kind: string; opts: Partial<SignOptions>; settings: VerifySettings; resign?: typeof resign }[] = [
    { kind: 'sandbox-v1', opts: {}, settings: strict },
    { kind: 'sandbox-v1-tsa', opts: { timestampUrl: tsaUrl }, settings: strict },
    { kind: 'sandbox-v2-tsa', opts: { rekorVersion: 2, timestampUrl: tsaUrl }, settings: strict },
    { kind: 'sandbox-online', opts: { rekorMode: 'online' }, settings: online, resign },
    { kind: 'sandbox-online-tsa', opts: { rekorMode: 'online', timestampUrl: tsaUrl }, settings: online, resign },
  ];
  // The subjects' own key, so a search by their certificate finds only their entries.
  const subjectCredential = await freshCredential(peer, generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  for (const shape of shapes) {
    for (const type of ['commit', 'tag'] as const) {
      const payload = type === 'commit' ? commitPayload(`fuzz subject ${shape.kind}`) : tagPayload(`v-${shape.kind}`);
      const signed = await signPayload(payload, subjectCredential, signOptions(shape.opts));
      const raw = joinSignature(type, payload, Buffer.from(signed.armored));
      world.subjects.push({ kind: shape.kind, name: `${shape.kind}.${type}`, type, raw, settings: shape.settings, identity, resign: shape.resign });
    }
  }
  return world;
}
