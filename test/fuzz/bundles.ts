import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustMaterial } from '@sigstore/verify';
import type { Artifact } from '../../src/bundle/artifact';
import { parseBundle } from '../../src/bundle/parse';
import { readPublicKey } from '../../src/bundle/signer';
import { type BundlePolicy, verifyBundle } from '../../src/bundle/verifyBundle';
import { loadTrust } from '../../src/trust/trustMaterial';
import { CONFORMANCE } from '../helpers/paths';
import { compare, flattenJson, type Sem } from './judge';
import { byteMutation, type Json, jsonMutation, textMutation } from './mutate';
import { type CaseReport, outcomeOf, type Outcome } from './outcome';
import type { Rng } from './prng';

/**
 * The bundle family: Sigstore's conformance cases (../shared/conformance/bundle-verify) with one JSON
 * field changed (removed, retyped, edited; base64 fields edited as bytes, DER inside them as DER), the
 * artifact changed, or the text itself; verified in-process with parseBundle and verifyBundle as
 * `gitsign verify-bundle` does. Cases that must verify are judged on acceptance; cases built to fail
 * are used for the no-crash invariants (an accepted mutant of one is reported for a look).
 */
const DEFAULT_IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

export interface BundleSubject {
  name: string;
  text: string;
  artifact: Buffer;
  policy: BundlePolicy;
  trust: TrustMaterial;
  mustFail: boolean;
  sem: Sem;
}

const BYTES_PATHS = [
  'messageSignature.signature',
  'messageSignature.messageDigest.digest',
  'dsseEnvelope.payload',
  'dsseEnvelope.signatures[].sig',
  'verificationMaterial.certificate.rawBytes',
  'verificationMaterial.x509CertificateChain.certificates[].rawBytes',
  'verificationMaterial.tlogEntries[].logId.keyId',
  'verificationMaterial.tlogEntries[].canonicalizedBody',
  'verificationMaterial.tlogEntries[].inclusionPromise.signedEntryTimestamp',
  'verificationMaterial.tlogEntries[].inclusionProof.rootHash',
  'verificationMaterial.tlogEntries[].inclusionProof.hashes[]',
  'verificationMaterial.timestampVerificationData.rfc3161Timestamps[].signedTimestamp',
  'verificationMaterial.publicKey.rawBytes',
];

const MEDIA_VERSION: Record<string, string> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  'application/vnd.dev.sigstore.bundle.v0.3+json': '0.3',
};

export function bundleSemantics(text: string, artifact: Buffer): Sem {
  const sem: Sem = new Map();
  sem.set('artifact', artifact.toString('hex'));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    sem.set('json', 'unparsable');
    return sem;
  }
  const leaf = (path: string, v: unknown): string | undefined => {
    const generic = path.replace(/\[\d+\]/g, '[]');
    if (BYTES_PATHS.includes(generic)) return typeof v === 'string' ? Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('hex') : JSON.stringify(v);
    // Timestamps and log entries are evidence sets: each element by its own meaning, in sorted order.
    if (EVIDENCE.includes(path) && Array.isArray(v)) {
      return JSON.stringify(
        v
          .map((el) => {
            const m: Sem = new Map();
            flattenJson(el, `${path}[]`, m, leaf);
            const known = [...m].filter(([k]) => !k.includes('fuzzUnknownMember'));
            if (known.length < m.size) sem.set(`${path}.fuzzUnknownMember`, 'present');
            return JSON.stringify(known.sort());
          })
          .sort(),
      );
    }
    // protobuf reads an absent or UNSPECIFIED hash algorithm as the default, SHA-256.
    if (path === 'messageSignature.messageDigest.algorithm' && (v === 'HASH_ALGORITHM_UNSPECIFIED' || v === 0)) return '"SHA2_256"';
    if (path === 'mediaType' && typeof v === 'string') {
      sem.set('mediaType.spelling', v);
      return MEDIA_VERSION[v] ?? `unknown ${v}`;
    }
    return undefined;
  };
  flattenJson(doc, '', sem, leaf);
  if (sem.has('messageSignature.messageDigest.digest') && !sem.has('messageSignature.messageDigest.algorithm')) sem.set('messageSignature.messageDigest.algorithm', '"SHA2_256"');
  return sem;
}

const BUNDLE_RULES: [RegExp, string][] = [
  [/fuzzUnknownMember/, 'json-unknown-member'],
  [/^mediaType\.spelling$/, 'bundle-media-type-spelling'],
];

const EVIDENCE = ['verificationMaterial.timestampVerificationData.rfc3161Timestamps', 'verificationMaterial.tlogEntries'];

function bundleRule(key: string, orig: string | undefined, mut: string | undefined, mutant: Sem): string | undefined {
  // The message digest gone (removed, emptied, or a value protobuf reads as unset): the artifact itself is what is verified.
  if (/^messageSignature\.messageDigest(\.|$)/.test(key) && !mutant.has('messageSignature.messageDigest.digest')) return 'bundle-message-digest-absent';
  if (EVIDENCE.includes(key) && orig !== undefined && mut !== undefined) {
    const before = new Set(JSON.parse(orig) as string[]);
    const after = JSON.parse(mut) as string[];
    if (new Set(after).size === before.size && after.every((x) => before.has(x))) return 'duplicate-evidence';
    if (key === EVIDENCE[0] && after.every((x) => before.has(x))) return 'timestamp-removed';
  }
  return BUNDLE_RULES.find(([re]) => re.test(key))?.[1];
}

export async function loadBundleSubjects(): Promise<BundleSubject[]> {
  if (!existsSync(CONFORMANCE)) return [];
  const out: BundleSubject[] = [];
  const publicGood = (await loadTrust({ offline: true })).material;
  for (const name of readdirSync(CONFORMANCE).sort()) {
    const dir = join(CONFORMANCE, name);
    if (!statSync(dir).isDirectory()) continue;
    const file = (n: string): string | undefined => (existsSync(join(dir, n)) ? join(dir, n) : undefined);
    const text = readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8');
    const artifact = readFileSync(file('artifact') ?? join(CONFORMANCE, 'a.txt'));
    let policy: BundlePolicy;
    let trust: TrustMaterial;
    try {
      const key = file('key.pub');
      const read = (n: string, d: string): string => (file(n) ? readFileSync(file(n)!, 'utf8').trim() : d);
      policy = key ? { key: readPublicKey(key) } : { identity: { kind: 'policy', policy: { identity: read('identity', DEFAULT_IDENTITY), issuer: read('issuer', DEFAULT_ISSUER) } } };
      const root = file('trusted_root.json');
      trust = root ? (await loadTrust({ trustedRootPath: root, offline: true })).material : publicGood;
    } catch {
      continue; // a case whose key or root is itself the broken part (verified by the conformance test)
    }
    out.push({ name, text, artifact, policy, trust, mustFail: name.endsWith('_fail'), sem: bundleSemantics(text, artifact) });
  }
  return out;
}

export function verifyBundleText(s: BundleSubject, text: string, artifact: Buffer): Promise<Outcome> {
  return outcomeOf(() => verifyBundle(parseBundle(text), artifact as Artifact, s.policy, s.trust));
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export async function bundleCase(rng: Rng, subjects: BundleSubject[]): Promise<CaseReport> {
  const pool = rng.chance(0.25) ? subjects.filter((s) => s.mustFail) : subjects.filter((s) => !s.mustFail);
  const s = rng.pick(pool.length ? pool : subjects);
  let text = s.text;
  let artifact = s.artifact;
  let target: string;
  let op: string;
  const r = rng.int(100);
  if (r < 8) {
    const m = byteMutation(rng, artifact);
    artifact = m.value;
    target = 'artifact';
    op = m.op;
  } else if (r < 15 || !isJson(text)) {
    const m = rng.chance(0.5) ? byteMutation(rng, Buffer.from(text)) : { value: Buffer.from(textMutation(rng, text).value), op: 'text edit' };
    text = m.value.toString('utf8');
    target = 'text';
    op = m.op;
  } else {
    const doc = JSON.parse(text) as Json;
    const m = jsonMutation(rng, doc);
    text = JSON.stringify(m.value, null, rng.chance(0.5) ? 2 : undefined);
    // The class is the field's generic path (array indices dropped), e.g. json:verificationMaterial.tlogEntries.inclusionProof.
    target = `json:${m.path.filter((p) => typeof p === 'string' && p !== 'fuzzUnknownMember').slice(0, 4).join('.') || '(root)'}`;
    op = m.op;
  }
  const outcome = await verifyBundleText(s, text, artifact);
  const report: CaseReport = {
    family: 'bundle',
    cls: `bundle${s.mustFail ? '-fail' : ''}/${target}`,
    subject: s.name,
    op,
    outcome,
    artifact: { ext: target === 'artifact' ? 'artifact' : 'sigstore.json', bytes: target === 'artifact' ? artifact : Buffer.from(text) },
  };
  if (outcome.kind === 'accepted') {
    report.verdict = s.mustFail
      ? { critical: ['a mutant of a case built to fail verified (review: did the mutation undo its flaw?)'], allowed: [] }
      : compare(s.sem, bundleSemantics(text, artifact), bundleRule);
  }
  return report;
}
