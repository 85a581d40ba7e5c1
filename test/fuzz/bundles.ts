import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { TrustMaterial } from '@sigstore/verify';
import type { Artifact } from '../../src/bundle/artifact';
import { parseBundle } from '../../src/bundle/parse';
import { readPublicKey } from '../../src/bundle/signer';
import { type BundlePolicy, verifyBundle } from '../../src/bundle/verifyBundle';
import { loadTrust } from '../../src/trust/trustMaterial';
import { CONFORMANCE } from '../helpers/paths';
import { checkpointSemantics, compare, flattenJson, type Sem, timestampReplySemantics, unknownMember, type Verdict } from './judge';
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

const b64 = (v: string): Buffer => Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');

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
    // A timestamp by what its reply says (its embedded certificates are judged apart, as in signatures).
    if (generic === `${EVIDENCE[0]}[].signedTimestamp` && typeof v === 'string') {
      timestampReplySemantics(b64(v), sem, `${path}.tsa.`);
      return 'timestamp';
    }
    if (generic === 'verificationMaterial.tlogEntries[].inclusionProof.checkpoint.envelope' && typeof v === 'string') {
      checkpointSemantics(v, sem, `${path}.`);
      return 'checkpoint';
    }
    if (BYTES_PATHS.includes(generic)) {
      if (typeof v !== 'string') return JSON.stringify(v);
      return b64(v).toString('hex');
    }
    if (path === 'mediaType' && typeof v === 'string') {
      sem.set('mediaType.spelling', v);
      return MEDIA_VERSION[v] ?? `unknown ${v}`;
    }
    // protobuf reads an absent, null or UNSPECIFIED hash algorithm as the default, SHA-256.
    if (path === 'messageSignature.messageDigest.algorithm' && (v === 'HASH_ALGORITHM_UNSPECIFIED' || v === 0 || v === null)) return '"SHA2_256"';
    return undefined;
  };
  flattenJson(doc, '', sem, leaf);
  // An empty or null digest is no digest (the artifact is then the only thing checked).
  if (['', 'null'].includes(sem.get('messageSignature.messageDigest.digest') ?? 'x')) sem.delete('messageSignature.messageDigest.digest');
  if (sem.has('messageSignature.messageDigest.digest') && !sem.has('messageSignature.messageDigest.algorithm')) sem.set('messageSignature.messageDigest.algorithm', '"SHA2_256"');
  // Timestamps and log entries also as sets (each element by its JSON with bytes decoded), to tell a repeat or a removal.
  for (const e of EVIDENCE) {
    let list: unknown = doc;
    for (const k of e.split('.')) list = (list as Record<string, unknown> | undefined)?.[k];
    const elements = Array.isArray(list) ? list.map((el) => JSON.stringify(el)) : [];
    sem.set(`${e}.set`, JSON.stringify([...new Set(elements)].sort()));
    sem.set(`${e}.count`, String(elements.length));
  }
  return sem;
}

const BUNDLE_RULES: [RegExp, string][] = [
  [/fuzzUnknownMember/, 'json-unknown-member'],
  [/^mediaType\.spelling$/, 'bundle-media-type-spelling'],
  // With a managed key given to the verifier, the bundle's publicKey member only carries a hint.
  [/^verificationMaterial\.publicKey(\.hint)?$|^dsseEnvelope\.signatures\[\d+\]\.keyid$/, 'key-hint'],
  [/^verificationMaterial\.x509CertificateChain\.certificates(\.length|\[[1-9]\d*\]\.rawBytes)$/, 'bundle-chain-tail'],
];

const EVIDENCE = ['verificationMaterial.timestampVerificationData.rfc3161Timestamps', 'verificationMaterial.tlogEntries'];

function bundleRule(key: string): string | undefined {
  return BUNDLE_RULES.find(([re]) => re.test(key))?.[1] ?? (unknownMember(key) ? 'json-unknown-member' : undefined);
}

/**
 * Bundle meanings compared: timestamps and log entries first as sets (a repeated element, or
 * timestamps removed, is judged as such and their positions are not compared), then field by field.
 */
export function compareBundles(orig: Sem, mut: Sem): Verdict {
  const o = new Map(orig);
  const m = new Map(mut);
  const extra: string[] = [];
  for (const e of EVIDENCE) {
    if (o.get(`${e}.set`) === m.get(`${e}.set`) && o.get(`${e}.count`) === m.get(`${e}.count`)) continue;
    const before = new Set(JSON.parse(o.get(`${e}.set`) ?? '[]') as string[]);
    const after = JSON.parse(m.get(`${e}.set`) ?? '[]') as string[];
    const subset = after.every((x) => before.has(x));
    const cls = subset && after.length === before.size ? 'duplicate-evidence' : subset && e === EVIDENCE[0] ? 'timestamp-removed' : undefined;
    if (!cls) continue; // elements changed: compared field by field below
    extra.push(cls);
    for (const k of [...o.keys(), ...m.keys()]) if (k.startsWith(e) || (e === EVIDENCE[0] && k === 'verificationMaterial.timestampVerificationData')) (o.delete(k), m.delete(k));
  }
  // The message digest removed, emptied or unreadable as a digest: allowed as such.
  const digestKeys = [...new Set([...o.keys(), ...m.keys()])].filter((k) => /^messageSignature\.messageDigest(\.|$)/.test(k));
  if (!m.has('messageSignature.messageDigest.digest') && digestKeys.some((k) => o.get(k) !== m.get(k))) {
    extra.push('bundle-message-digest-absent');
    for (const k of digestKeys) (o.delete(k), m.delete(k));
  }
  // Per log entry: the SET or the proof removed while the rest still proves presence and time.
  const timestamps = Number(m.get(`${EVIDENCE[0]}.count`) ?? '0');
  for (let i = 0; o.has(`${EVIDENCE[1]}[${i}].logIndex`) || o.has(`${EVIDENCE[1]}[${i}].logId.keyId`); i++) {
    const at = `${EVIDENCE[1]}[${i}]`;
    const under = (prefix: string): string[] => [...new Set([...o.keys(), ...m.keys()])].filter((k) => k === prefix || k.startsWith(`${prefix}.`));
    const same = (keys: string[]): boolean => keys.every((k) => o.get(k) === m.get(k));
    const gone = (keys: string[]): boolean => keys.every((k) => !m.has(k) || ['null', '{}'].includes(m.get(k)!));
    const set = under(`${at}.inclusionPromise`);
    const proof = under(`${at}.inclusionProof`);
    const hasSet = o.has(`${at}.inclusionPromise.signedEntryTimestamp`);
    const hasProof = o.has(`${at}.inclusionProof.rootHash`);
    if (hasSet && hasProof && gone(proof) && same(set)) {
      extra.push('rekor-proof-removed-set-kept');
      for (const k of proof) (o.delete(k), m.delete(k));
    } else if (hasSet && hasProof && gone(set) && same(proof) && timestamps > 0) {
      extra.push('set-removed-tsa-dates');
      for (const k of set) (o.delete(k), m.delete(k));
    }
  }
  for (const k of [...o.keys(), ...m.keys()]) if (k.endsWith('.set') || k.endsWith('.count')) (o.delete(k), m.delete(k));
  const v = compare(o, m, bundleRule);
  const allowed = new Set([...v.allowed.filter((a) => a !== 'encoding-only' || extra.length === 0), ...extra]);
  return { critical: v.critical, allowed: [...allowed].sort() };
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
    // A case built to fail that verifies once mutated: fine only if the mutation is an allowed one (e.g. its bad timestamp removed).
    report.verdict = compareBundles(s.sem, bundleSemantics(text, artifact));
    if (s.mustFail) report.verdict.critical = report.verdict.critical.map((k) => `${k} (in a case built to fail)`);
  }
  return report;
}
