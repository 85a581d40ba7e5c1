import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TrustMaterial } from '@sigstore/verify';
import { X509Certificate } from '@sigstore/core';
import { decodePemAll } from '../cms/pem';
import { cannotRead, GitsignError } from '../errors';
import { describeTrustRoot, fileRootInfo, type TrustRootInfo } from './rootInfo';
import { trustMaterialOf } from './rootMaterial';
import { validateTrustedRoot } from './validateRoot';

/**
 * Where trust comes from, in order: an explicit trusted_root.json; else the public-good root (TUF or
 * its seeded copy), with the legacy per-service overrides (Fulcio PEM roots, Rekor and CT log keys)
 * replacing the matching parts, as gitsign does.
 */
export interface TrustOptions {
  trustedRootPath?: string;
  fulcioRootPath?: string;
  rekorPublicKeyPath?: string;
  /** The configured Rekor: a key given alone is that log's (checkpoints name their log by URL). */
  rekorUrl?: string;
  ctLogPublicKeyPath?: string;
  /** gitsign.timestampCertChain: PEM chain of the timestamp authority, leaf first. */
  timestampCertChainPath?: string;
  offline: boolean;
}

export interface LoadedTrust {
  material: TrustMaterial;
  /** Where it came from, for messages. */
  source: string;
  /** Where it came from and how old it is, for reports. */
  info: TrustRootInfo;
}

type TrustedRootJson = Record<string, unknown> & {
  certificateAuthorities?: unknown[];
  tlogs?: unknown[];
  ctlogs?: unknown[];
  timestampAuthorities?: unknown[];
};

function readJsonFile(path: string, what: string): TrustedRootJson {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw cannotRead('TRUST_ROOT', what, path, err);
  }
  try {
    return JSON.parse(text) as TrustedRootJson;
  } catch {
    throw new GitsignError('TRUST_ROOT', `${what} ${path} is not valid JSON`);
  }
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw cannotRead('TRUST_ROOT', what, path, err);
  }
}

export function materialFromJson(json: TrustedRootJson, source: string, info: TrustRootInfo = fileRootInfo(source)): LoadedTrust {
  validateTrustedRoot(json, source);
  try {
    return { material: trustMaterialOf(json), source, info };
  } catch (err) {
    throw new GitsignError('TRUST_ROOT', `invalid trusted root (${source}): ${(err as Error).message}`);
  }
}

/** A transparency or CT log entry of a trusted root, from a PEM public key file. */
function logFromKeyFile(path: string, what: string, baseUrl: string): unknown {
  const key = createPublicKey(readText(path, what));
  const der = key.export({ type: 'spki', format: 'der' });
  return {
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: {
      rawBytes: der.toString('base64'),
      keyDetails: key.asymmetricKeyType === 'ec' ? 'PKIX_ECDSA_P256_SHA_256' : key.asymmetricKeyType === 'ed25519' ? 'PKIX_ED25519' : 'PKIX_RSA_PKCS1V15_2048_SHA256',
      validFor: { start: '1970-01-01T00:00:00Z' },
    },
    logId: { keyId: createHash('sha256').update(der).digest('base64') },
  };
}

/** Fulcio CAs from a PEM bundle: each self-signed certificate is a root, the rest intermediates below it. */
function authoritiesFromPem(path: string): unknown[] {
  const certs = decodePemAll(readText(path, 'Fulcio root file'), 'CERTIFICATE').map((der) => ({ der, cert: X509Certificate.parse(der as Buffer<ArrayBuffer>) }));
  if (certs.length === 0) throw new GitsignError('TRUST_ROOT', `no certificate in Fulcio root file ${path}`);
  const roots = certs.filter((c) => c.cert.subject.equals(c.cert.issuer));
  const intermediates = certs.filter((c) => !roots.includes(c));
  return roots.map((root) => {
    const chain = [...intermediates.filter((i) => i.cert.issuer.equals(root.cert.subject)), root];
    return {
      subject: {},
      uri: '',
      certChain: { certificates: chain.map((c) => ({ rawBytes: c.der.toString('base64') })) },
      validFor: { start: '1970-01-01T00:00:00Z' },
    };
  });
}

/** Trust options from gitsign's configuration and environment; a --trusted-root flag wins. */
export function trustOptionsFromConfig(
  cfg: { trustedRoot: string; fulcioRoot: string; timestampCert: string; rekor: string },
  flags: { offline: boolean; trustedRoot?: string },
  env: NodeJS.ProcessEnv = process.env,
): TrustOptions {
  return {
    trustedRootPath: flags.trustedRoot || cfg.trustedRoot || undefined,
    fulcioRootPath: cfg.fulcioRoot || undefined,
    rekorPublicKeyPath: env.SIGSTORE_REKOR_PUBLIC_KEY || undefined,
    rekorUrl: cfg.rekor,
    ctLogPublicKeyPath: env.SIGSTORE_CT_LOG_PUBLIC_KEY_FILE || undefined,
    timestampCertChainPath: cfg.timestampCert || undefined,
    offline: flags.offline,
  };
}

export async function loadTrust(opts: TrustOptions): Promise<LoadedTrust> {
  if (opts.trustedRootPath) {
    return materialFromJson(readJsonFile(opts.trustedRootPath, 'trusted root'), opts.trustedRootPath);
  }
  const { root, info } = await (await import('./publicGood')).publicGoodTrustedRoot(opts.offline);
  const json: TrustedRootJson = { ...root };
  const overrides: string[] = [];
  if (opts.fulcioRootPath) {
    json.certificateAuthorities = authoritiesFromPem(opts.fulcioRootPath);
    overrides.push(`Fulcio roots from ${opts.fulcioRootPath}`);
  }
  if (opts.rekorPublicKeyPath) {
    json.tlogs = [logFromKeyFile(opts.rekorPublicKeyPath, 'Rekor public key', opts.rekorUrl || 'https://rekor.sigstore.dev')];
    overrides.push(`Rekor key from ${opts.rekorPublicKeyPath}`);
  }
  if (opts.ctLogPublicKeyPath) {
    json.ctlogs = [logFromKeyFile(opts.ctLogPublicKeyPath, 'CT log public key', 'ctfe')];
    overrides.push(`CT log key from ${opts.ctLogPublicKeyPath}`);
  }
  if (opts.timestampCertChainPath) {
    const chain = decodePemAll(readText(opts.timestampCertChainPath, 'timestamp certificate chain'), 'CERTIFICATE');
    if (chain.length === 0) throw new GitsignError('TRUST_ROOT', `no certificate in timestamp chain ${opts.timestampCertChainPath}`);
    json.timestampAuthorities = [
      { subject: {}, uri: '', certChain: { certificates: chain.map((der) => ({ rawBytes: der.toString('base64') })) }, validFor: { start: '1970-01-01T00:00:00Z' } },
    ];
    overrides.push(`timestamp authority from ${opts.timestampCertChainPath}`);
  }
  const withOverrides = { ...info, overrides };
  return materialFromJson(json, describeTrustRoot(withOverrides), withOverrides);
}
