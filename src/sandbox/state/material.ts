import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { GitsignError } from '../../errors';
import { createIntermediateCertificate, createRootCertificate } from '../fulcio/ca';
import { keyId } from '../oidc/jwt';
import { createTsaLeaf, createTsaRoot } from '../tsa/certs';
import { readOwnFile, writeFileAtomic } from './fsutil';

/**
 * Everything a sandbox must keep across restarts: its keys, its CA and TSA certificates and the log's
 * tree ID, in one keys.json (mode 0600) written once, atomically. A second `up` reuses it, so earlier
 * certificates, SETs and checkpoints keep verifying.
 */
export interface KeyPair {
  key: KeyObject;
  pub: KeyObject;
}

export interface Material {
  createdAt: Date;
  treeId: string;
  oidc: KeyPair & { kid: string };
  fulcioRoot: KeyPair & { cert: Buffer };
  fulcioIntermediate: KeyPair & { cert: Buffer };
  ctlog: KeyPair;
  rekor: KeyPair;
  /** The Rekor v2 log's Ed25519 key (added to older key files on start). */
  rekorV2: KeyPair;
  tsaRoot: KeyPair & { cert: Buffer };
  tsaLeaf: KeyPair & { cert: Buffer };
}

interface StoredKey {
  key: string;
  cert?: string;
}

interface MaterialFile {
  version: 1;
  createdAt: string;
  treeId: string;
  keys: Record<'oidc' | 'fulcioRoot' | 'fulcioIntermediate' | 'ctlog' | 'rekor' | 'tsaRoot' | 'tsaLeaf', StoredKey> & { rekorV2?: StoredKey };
}

/** Certificates start this long before creation, so small clock differences never reject them. */
const BACKDATE_MS = 60_000;

function generateEd25519(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { key: privateKey, pub: publicKey };
}

function generate(curve: 'P-256' | 'P-384'): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  return { key: privateKey, pub: publicKey };
}

function create(now: Date): Material {
  const start = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
  const oidc = generate('P-256');
  const fulcioRoot = generate('P-384');
  const fulcioIntermediate = generate('P-384');
  const tsaRoot = generate('P-384');
  const tsaLeaf = generate('P-256');
  return {
    createdAt: start,
    treeId: (BigInt('0x' + randomBytes(8).toString('hex')) >> 1n).toString(),
    oidc: { ...oidc, kid: keyId(oidc.pub) },
    fulcioRoot: { ...fulcioRoot, cert: createRootCertificate(fulcioRoot.key, fulcioRoot.pub, start) },
    fulcioIntermediate: { ...fulcioIntermediate, cert: createIntermediateCertificate(fulcioRoot.key, fulcioRoot.pub, fulcioIntermediate.pub, start) },
    ctlog: generate('P-256'),
    rekor: generate('P-256'),
    rekorV2: generateEd25519(),
    tsaRoot: { ...tsaRoot, cert: createTsaRoot(tsaRoot.key, tsaRoot.pub, start) },
    tsaLeaf: { ...tsaLeaf, cert: createTsaLeaf(tsaRoot.key, tsaRoot.pub, tsaLeaf.pub, start) },
  };
}

function serialize(m: Material): MaterialFile {
  const k = (p: KeyPair & { cert?: Buffer }): StoredKey => ({
    key: p.key.export({ type: 'pkcs8', format: 'pem' }) as string,
    ...(p.cert ? { cert: p.cert.toString('base64') } : {}),
  });
  return {
    version: 1,
    createdAt: m.createdAt.toISOString(),
    treeId: m.treeId,
    keys: {
      oidc: k(m.oidc),
      fulcioRoot: k(m.fulcioRoot),
      fulcioIntermediate: k(m.fulcioIntermediate),
      ctlog: k(m.ctlog),
      rekor: k(m.rekor),
      rekorV2: k(m.rekorV2),
      tsaRoot: k(m.tsaRoot),
      tsaLeaf: k(m.tsaLeaf),
    },
  };
}

function deserialize(f: MaterialFile, path: string): Material {
  const bad = (what: string): GitsignError => new GitsignError('CONFIG', `sandbox key file ${path} is invalid (${what}); move it away to start a new sandbox`);
  if (f?.version !== 1 || !f.keys || typeof f.treeId !== 'string' || !/^\d+$/.test(f.treeId)) throw bad('unknown format');
  const pair = (name: keyof MaterialFile['keys']): KeyPair => {
    try {
      const key = createPrivateKey((f.keys[name] as StoredKey).key);
      return { key, pub: createPublicKey(key) };
    } catch {
      throw bad(`key ${name}`);
    }
  };
  const withCert = (name: keyof MaterialFile['keys']): KeyPair & { cert: Buffer } => {
    const cert = f.keys[name]?.cert;
    if (typeof cert !== 'string') throw bad(`certificate ${name}`);
    return { ...pair(name), cert: Buffer.from(cert, 'base64') };
  };
  const oidc = pair('oidc');
  return {
    createdAt: new Date(f.createdAt),
    treeId: f.treeId,
    oidc: { ...oidc, kid: keyId(oidc.pub) },
    fulcioRoot: withCert('fulcioRoot'),
    fulcioIntermediate: withCert('fulcioIntermediate'),
    ctlog: pair('ctlog'),
    rekor: pair('rekor'),
    rekorV2: f.keys.rekorV2 ? pair('rekorV2') : generateEd25519(),
    tsaRoot: withCert('tsaRoot'),
    tsaLeaf: withCert('tsaLeaf'),
  };
}

function readMaterialFile(path: string): MaterialFile | undefined {
  const text = readOwnFile(path);
  if (!text) return undefined;
  try {
    return JSON.parse(text.toString('utf8')) as MaterialFile;
  } catch {
    throw new GitsignError('CONFIG', `sandbox key file ${path} is not valid JSON; move it away to start a new sandbox`);
  }
}

export function readMaterial(path: string): Material | undefined {
  const parsed = readMaterialFile(path);
  return parsed && deserialize(parsed, path);
}

export function loadOrCreateMaterial(path: string, now = new Date()): { material: Material; created: boolean } {
  const parsed = readMaterialFile(path);
  if (parsed) {
    const existing = deserialize(parsed, path);
    // A key file from before the Rekor v2 log got its key above: keep it, so its checkpoints keep verifying.
    if (!parsed.keys.rekorV2) writeFileAtomic(path, JSON.stringify(serialize(existing), null, 2) + '\n');
    return { material: existing, created: false };
  }
  const material = create(now);
  writeFileAtomic(path, JSON.stringify(serialize(material), null, 2) + '\n');
  return { material, created: true };
}
