import { type Node, encode, isCtx, isSeq, isSet, oidString, parseDer, toEdit, tryParseDer } from './der';
import { type PField, ProtoError, readProto } from './proto';

/**
 * The judge of accepted mutants. A mutant the product accepts is read again here, with the fuzzer's
 * own parsers, into a flat map of what it means (field -> canonical value); the map is compared with
 * the original's. A difference in a field that is signed or used by verification is a false accept.
 * A difference only in the fields listed in ALLOWED is accepted for the reason given there. No
 * difference at all means the mutation changed only the encoding (length forms, PEM layout).
 */
export const ALLOWED: Record<string, string> = {
  'encoding-only': 'decodes to the same values as the original (BER length forms, field order, JSON spacing): nothing signed or used changed',
  'armor-layout': 'PEM line wrapping, whitespace or text around the block: the base64 decodes to the same DER, and the DER is what is verified',
  'cms-version': 'SignedData/SignerInfo version numbers: covered by no signature, and no check depends on them',
  'cms-digest-algorithms': "SignedData.digestAlgorithms is an unsigned hint for one-pass readers; the signer's own digestAlgorithm is what is checked",
  'cms-extra-certificates': 'certificates other than the signer\'s: chains are built from the trusted root, never from certificates the signature carries',
  'cms-crls': 'revocation lists carried in the signature are not consulted (Fulcio certificates live 10 minutes; gitsign checks no revocation)',
  'cms-extra-element':
    'an element after the last field of a CMS structure (SignedData, SignerInfo, its signer identifier): covered by no signature and read by no check',
  'cms-unknown-unsigned-attribute': 'an unsigned attribute of a type no check reads: covered by no signature and used for nothing',
  'algorithm-parameters':
    "parameters of the signer's hash or ECDSA AlgorithmIdentifier (unsigned): SHA-2 and ECDSA-with-SHA-2 take none (RFC 5754, RFC 5758), so nothing there is read",
  'rekor-body-field': 'the canonicalized body of an embedded entry is ignored and rebuilt from the signature (gitsign leaves it out); the SET and the leaf hash cover the rebuilt body',
  'proto-unknown-field': 'a protobuf field number the entry does not define: proto3 readers skip unknown fields, and no check reads it',
  'rekor-proof-removed-set-kept':
    'the inclusion proof removed while the verified SET stays: a Rekor v1 SET is the log\'s signed promise of inclusion at the time it states, which Sigstore verifiers accept alone (bundle v0.1)',
  'checkpoint-other-signatures':
    "signature lines of keys other than the log's added, changed or removed in a checkpoint: C2SP signed notes let verifiers ignore signatures by keys they do not know, and the log's own signature line is unchanged",
  'json-unknown-member': 'a JSON member the message does not define: ignored by protobuf-JSON and encoding/json readers, and read by no check',
  'bundle-media-type-spelling': 'the two spellings of the v0.3 bundle media type name the same version',
  'bundle-chain-tail':
    "certificates after the first in a v0.1/v0.2 bundle's x509CertificateChain: the leaf is verified against the trusted root's chain, never against certificates the bundle carries",
  'fulcio-chain-tail': "certificates after the leaf in Fulcio's answer: the leaf is verified against the trusted root, and only the leaf is embedded in signatures",
  'server-error-retried': 'a 5xx answer: the client retries (bounded) and the retry got the real answer',
  'duplicate-evidence': 'a timestamp or log entry repeated as it is: the same evidence checked twice proves nothing more and nothing less',
  'timestamp-removed':
    'an RFC 3161 timestamp of a bundle removed, or the timestamp attribute of a signature removed or made unrecognizable while its log entry keeps the same SET: the certificate was still checked at every remaining attested time (with none left it is refused), so the result is one its signer could have published',
  'set-removed-tsa-dates':
    "a log entry's SET removed (in a bundle, embedded in a signature, or in Rekor's answer to the online lookup) while its inclusion proof and an RFC 3161 timestamp of the signature remain: the proof shows the entry is in the log, the verified timestamp dates the signature, and an integrated time without SET is not used",
  'integrated-time-without-set':
    'the integratedTime of a log entry that has no SET (Rekor v2 answers while signing, embedded v2 entries) added or changed: only a verified SET makes it a time (src/verify/time/set.ts is its one reader), so it is never used and --json reports integratedTime null',
  'rekor-conflict-refetch': "a 409 answer: the client fetched the entry at the Location Rekor gave (as gitsign does), and that entry was checked like any other",
  'fulcio-v1-fallback': "Fulcio's v2 API answered 404/405/501: the client asked the v1 API, whose real answer was then checked like any other",
  'http-success-status': '200 and 201 both mean success to the client: the body is what is checked',
  'key-hint':
    'verificationMaterial.publicKey.hint or a DSSE signature keyid: unauthenticated hints (the DSSE spec says keyid must not be used for security decisions); the key given to the verifier is the one used',
  'tsa-embedded-certificates':
    "certificates inside an RFC 3161 token are not used: the authority is found by the signer's issuer and serial in the trusted root, and the token is verified with that root's chain and key",
  'bundle-message-digest-absent':
    "messageSignature.messageDigest only restates the artifact's digest: the signature is verified over the artifact itself and the log entry must name the artifact's digest; when present it must match (message-digest-mismatch_fail), absent it proves nothing more",
  'rekor-search-hint':
    'a changed Rekor search answer: it only names candidates; each is fetched and verified (body hash = UUID, SET, proof, signature over the object SHA) before use, so a changed list can only hide the entry (refused) or add candidates (checked)',
  'rekor-uuid-tree-prefix': 'the tree ID in front of the leaf hash in a Rekor UUID names the shard; the leaf hash is what is checked against the body',
  'tsa-status-text': 'the free text and failure bits next to status "granted" in a timestamp reply: not signed, and the token is verified on its own',
  'cert-resigned-valid':
    'sandbox subjects only: the mutated certificate was re-signed by the trusted CA and breaks no X.509 rule the fuzzer knows (critical extensions, key usage, SAN text, matching algorithms, the committer identity): the CA issued it',
  'oidc-answer-unauthenticated':
    "OIDC answers are not signed: the login still returned the issuer's ID token for our user (signature, issuer, audience re-checked by the fuzzer), so the change reached nothing that matters",
};

/** A mutant's meaning: field -> canonical value. */
export type Sem = Map<string, string>;

export interface Verdict {
  /** Fields that differ and matter: non-empty means the accepted mutant is a false accept. */
  critical: string[];
  /** ALLOWED classes of the fields that differ. */
  allowed: string[];
}

const hex = (b: Buffer): string => b.toString('hex');
const canon = (n: Node): string => hex(encode(toEdit(n)));

export const OIDS = {
  signedData: '1.2.840.113549.1.7.2',
  rekorEntry: '1.3.6.1.4.1.57264.3.1',
  timeStampToken: '1.2.840.113549.1.9.16.2.14',
  subjectKeyId: '2.5.29.14',
};

function algorithm(sem: Sem, key: string, n: Node | undefined): void {
  sem.set(`${key}.oid`, n?.children?.[0] ? oidString(n.children[0].content) : 'missing');
  const params = n?.children?.slice(1) ?? [];
  sem.set(`${key}.params`, params.map(canon).join(','));
}

/** issuer Name and serial of a certificate's TBS, and its subjectKeyIdentifier. */
function certIds(cert: Node): { issuer: string; serial: string; ski?: string } | undefined {
  const tbs = cert.children?.[0];
  const f = tbs?.children;
  if (!f) return undefined;
  const off = isCtx(f[0], 0) ? 1 : 0; // [0] version
  const serial = f[off];
  const issuer = f[off + 2];
  if (!serial || !issuer) return undefined;
  let ski: string | undefined;
  const exts = f.find((x) => isCtx(x, 3))?.children?.[0]?.children ?? [];
  for (const e of exts) {
    if (e.children?.[0] && oidString(e.children[0].content) === OIDS.subjectKeyId) {
      const octets = e.children[e.children.length - 1];
      try {
        ski = hex(parseDer(octets.content).content);
      } catch {
        ski = 'bad';
      }
    }
  }
  return { issuer: canon(issuer), serial: hex(serial.content), ski };
}

/** Values of a SET OF Attribute, by OID, in order. */
function attributes(set: Node | undefined): { oid: string; values: Node[] }[] {
  return (set?.children ?? []).map((a) => ({
    oid: a.children?.[0] ? oidString(a.children[0].content) : 'bad',
    values: a.children?.[1]?.children ?? [],
  }));
}

/** Meaning of a CMS ContentInfo(SignedData), for a gitsign signature or a timestamp token. */
export function cmsSemantics(der: Buffer, sem: Sem = new Map(), prefix = ''): Sem {
  const put = (k: string, v: string): void => void sem.set(prefix + k, v);
  let root: Node;
  try {
    root = parseDer(der);
  } catch (err) {
    put('unparsable', (err as Error).message);
    return sem;
  }
  put('contentType', root.children?.[0] ? oidString(root.children[0].content) : 'missing');
  const explicit = root.children?.[1];
  const sd = explicit?.children?.[0];
  put('explicitTag', explicit ? hex(explicit.id) : 'missing');
  put('extra.root', (root.children?.slice(2) ?? []).map(canon).join(','));
  const f = sd?.children ?? [];
  put('sd.tag', sd ? hex(sd.id) : 'missing');
  put('sd.version', f[0] ? canon(f[0]) : 'missing');
  put('sd.digestAlgorithms', f[1] ? canon(f[1]) : 'missing');
  const eci = f[2];
  put('sd.eContentType', eci?.children?.[0] ? oidString(eci.children[0].content) : 'missing');
  const ec = eci?.children?.[1];
  put('sd.eContent', ec ? (ec.children?.[0] ? hex(ec.children[0].content) : `bad:${canon(ec)}`) : 'absent');
  put('sd.eci.extra', (eci?.children?.slice(2) ?? []).map(canon).join(','));
  let certs: Node[] = [];
  let signerInfos: Node | undefined;
  const extra: string[] = [];
  for (const n of f.slice(3)) {
    if (isCtx(n, 0) && !signerInfos) certs = n.children ?? [];
    else if (isCtx(n, 1) && !signerInfos) put('sd.crls', canon(n));
    else if (isSet(n) && !signerInfos) signerInfos = n;
    else extra.push(canon(n));
  }
  put('sd.extra', extra.join(','));
  const signers = signerInfos?.children ?? [];
  put('sd.signers', String(signers.length));
  const used = new Set<Node>();
  signers.forEach((si, i) => {
    const p = `si${i}.`;
    const s = si.children ?? [];
    put(`${p}tag`, hex(si.id));
    put(`${p}version`, s[0] ? canon(s[0]) : 'missing');
    const sid = s[1];
    // The signer identifier by what it says (issuer, serial as BER reads it), extra elements apart.
    const berValue = (n: Node): string => (n.children ? n.children.map(berValue).join('') : hex(n.content));
    put(`${p}sid`, !sid ? 'missing' : isSeq(sid) && sid.children && sid.children.length >= 2 ? `issuer ${canon(sid.children[0])} serial ${berValue(sid.children[1])}` : `${hex(sid.id)}:${berValue(sid)}`);
    put(`${p}sid.extra`, (isSeq(sid) ? (sid?.children?.slice(2) ?? []) : []).map(canon).join(','));
    algorithm(sem, `${prefix}${p}digestAlgorithm`, s[2]);
    let k = 3;
    if (isCtx(s[k], 0)) {
      const raw = Buffer.from(der.subarray(s[k].start, s[k].end));
      raw[0] = 0x31;
      put(`${p}signedAttrs`, hex(raw));
      k++;
    } else {
      put(`${p}signedAttrs`, 'absent');
    }
    algorithm(sem, `${prefix}${p}signatureAlgorithm`, s[k++]);
    const sig = s[k++];
    put(`${p}signature`, sig ? `${hex(sig.id)}:${hex(sig.content)}` : 'missing');
    const unsigned = isCtx(s[k], 1) ? s[k++] : undefined;
    put(`${p}extra`, s.slice(k).map(canon).join(','));
    const others: string[] = [];
    for (const a of attributes(unsigned)) {
      if (a.oid === OIDS.rekorEntry) {
        put(`${p}rekor.values`, String(a.values.length));
        a.values.forEach((v, j) => (v.id[0] === 0x04 ? rekorSemantics(v.content, sem, `${prefix}${p}rekor${j}.`) : put(`${p}rekor${j}.notOctets`, canon(v))));
      } else if (a.oid === OIDS.timeStampToken) {
        put(`${p}tsa.values`, String(a.values.length));
        a.values.forEach((v, j) => cmsSemantics(encode(toEdit(v)), sem, `${prefix}${p}tsa${j}.`));
      } else {
        others.push(`${a.oid}=${a.values.map(canon).join('+')}`);
      }
    }
    put(`${p}unsigned.other`, others.sort().join(','));
    // The signer's certificate: by issuer and serial, or by subject key ID.
    let signerCert: Node | undefined;
    if (isSeq(sid) && sid?.children && sid.children.length >= 2) {
      const serialOf = (n: Node): string => (n.children ? n.children.map(serialOf).join('') : hex(n.content));
      const want = { issuer: canon(sid.children[0]), serial: serialOf(sid.children[1]) };
      signerCert = certs.find((c) => {
        const ids = certIds(c);
        return ids?.issuer === want.issuer && ids.serial === want.serial;
      });
    } else if (isCtx(sid, 0)) {
      signerCert = certs.find((c) => certIds(c)?.ski === hex(sid!.content));
    }
    put(`${p}signerCert`, signerCert ? canon(signerCert) : 'none');
    if (signerCert) used.add(signerCert);
  });
  put('sd.certs.others', certs.filter((c) => !used.has(c)).map(canon).sort().join(','));
  return sem;
}

function single(fields: PField[], num: number): PField | undefined | 'repeated' {
  const all = fields.filter((f) => f.num === num);
  if (all.length === 0) return undefined;
  const first = JSON.stringify([all[0].wire, String(all[0].int), all[0].bytes?.toString('hex')]);
  const same = all.every((f) => JSON.stringify([f.wire, String(f.int), f.bytes?.toString('hex')]) === first);
  return same ? all[all.length - 1] : 'repeated';
}

/** An int64 field as proto3 reads it (absent = 0). */
function intValue(fields: PField[], num: number): string {
  const f = single(fields, num);
  if (f === undefined) return '0';
  if (f === 'repeated') return 'repeated';
  if (f.wire !== 0) return `wire${f.wire}`;
  return BigInt.asIntN(64, f.int ?? 0n).toString();
}

function bytesValue(fields: PField[], num: number): Buffer | string {
  const f = single(fields, num);
  if (f === undefined) return Buffer.alloc(0);
  if (f === 'repeated') return 'repeated';
  if (f.wire !== 2) return `wire${f.wire}`;
  return f.bytes ?? Buffer.alloc(0);
}

const show = (v: Buffer | string): string => (typeof v === 'string' ? v : hex(v));

function sub(fields: PField[], num: number, known: number[], sem: Sem, key: string, unknown: string[]): PField[] | undefined {
  const v = bytesValue(fields, num);
  if (typeof v === 'string') {
    sem.set(key, v);
    return undefined;
  }
  if (!fields.some((f) => f.num === num)) return undefined;
  try {
    const inner = readProto(v);
    for (const f of inner) if (!known.includes(f.num)) unknown.push(`${key}.${f.num}:${f.wire}:${f.bytes ? hex(f.bytes) : String(f.int)}`);
    return inner;
  } catch (err) {
    sem.set(key, `unparsable:${(err as ProtoError).message}`);
    return undefined;
  }
}

/** Meaning of an embedded Rekor TransparencyLogEntry (protobuf). */
export function rekorSemantics(bytes: Buffer, sem: Sem = new Map(), prefix = 'rekor.'): Sem {
  const put = (k: string, v: string): void => void sem.set(prefix + k, v);
  let f: PField[];
  try {
    f = readProto(bytes);
  } catch (err) {
    put('unparsable', (err as Error).message);
    return sem;
  }
  const unknown: string[] = [];
  for (const x of f) if (x.num < 1 || x.num > 7) unknown.push(`${x.num}:${x.wire}:${x.bytes ? hex(x.bytes) : String(x.int)}`);
  put('logIndex', intValue(f, 1));
  const logId = sub(f, 2, [1], sem, `${prefix}logId`, unknown);
  put('logId.keyId', logId ? show(bytesValue(logId, 1)) : '');
  const kv = sub(f, 3, [1, 2], sem, `${prefix}kindVersion`, unknown);
  put('kind', kv ? show(bytesValue(kv, 1)) : '');
  put('version', kv ? show(bytesValue(kv, 2)) : '');
  put('integratedTime', intValue(f, 4));
  const promise = sub(f, 5, [1], sem, `${prefix}promise`, unknown);
  put('set', promise ? show(bytesValue(promise, 1)) : 'absent');
  const proof = sub(f, 6, [1, 2, 3, 4, 5], sem, `${prefix}proof`, unknown);
  put('proof', proof ? 'present' : 'absent');
  if (proof) {
    put('proof.logIndex', intValue(proof, 1));
    put('proof.rootHash', show(bytesValue(proof, 2)));
    put('proof.treeSize', intValue(proof, 3));
    put('proof.hashes', proof.filter((x) => x.num === 4).map((x) => (x.wire === 2 ? hex(x.bytes!) : `wire${x.wire}`)).join(','));
    const cp = sub(proof, 5, [1], sem, `${prefix}proof.checkpointMsg`, unknown);
    const envelope = cp ? bytesValue(cp, 1) : Buffer.alloc(0);
    checkpointSemantics(typeof envelope === 'string' ? envelope : envelope.toString('latin1'), sem, `${prefix}proof.checkpoint.`);
  }
  put('body', show(bytesValue(f, 7)));
  put('unknown', unknown.sort().join(','));
  return sem;
}

/** Meaning of an RFC 3161 TimeStampResp: status, free text, and the token as a CMS. */
export function timestampReplySemantics(der: Buffer, sem: Sem, prefix: string): Sem {
  const resp = tryParseDer(der);
  if (!resp?.children) return (sem.set(`${prefix}der`, 'unparsable'), sem);
  const status = resp.children[0];
  sem.set(`${prefix}status`, status?.children?.[0]?.content.toString('hex') ?? 'missing');
  sem.set(`${prefix}statusText`, (status?.children?.slice(1) ?? []).map((c) => der.subarray(c.start, c.end).toString('hex')).join(','));
  sem.set(`${prefix}extra`, resp.children.slice(2).map((c) => der.subarray(c.start, c.end).toString('hex')).join(','));
  const token = resp.children[1];
  if (token) cmsSemantics(der.subarray(token.start, token.end), sem, `${prefix}token.`);
  else sem.set(`${prefix}token`, 'absent');
  return sem;
}

/** A checkpoint note: the signed text, and its signature lines as a set. */
export function checkpointSemantics(text: string, sem: Sem, prefix: string): void {
  const blank = text.indexOf('\n\n');
  if (blank === -1) {
    sem.set(`${prefix}body`, `nosep:${text}`);
    sem.set(`${prefix}sigs`, '');
    return;
  }
  const body = text.slice(0, blank + 1);
  sem.set(`${prefix}body`, body);
  const lines = text.slice(blank + 2).split('\n');
  const last = lines.pop();
  // The log's own signature lines (signer name = the origin's, before " - <tree ID>", and, when the
  // entry's log ID is already in `sem`, key hint = its first 4 bytes, as verifiers pick them), and the others.
  const origin = body.split('\n')[0].split(' - ')[0];
  const base = prefix.replace(/(inclusionProof|proof)\.checkpoint\..*$/, '');
  const logId = sem.get(`${base}logId.keyId`) ?? sem.get(`${base.replace(/verification\.$/, '')}logID`);
  const hint = logId && /^[0-9a-f]{8,}$/.test(logId) ? logId.slice(0, 8) : undefined;
  const own = (l: string): boolean => {
    const [, name, sig] = l.split(' ');
    return name === origin && (hint === undefined || Buffer.from(sig ?? '', 'base64').subarray(0, 4).toString('hex') === hint);
  };
  sem.set(`${prefix}sigs`, [...new Set(lines.filter(own))].sort().join('\n'));
  sem.set(`${prefix}otherSigs`, [...new Set(lines.filter((l) => !own(l)))].sort().join('\n'));
  sem.set(`${prefix}tail`, last ?? '');
}

/** int64 fields of the Sigstore messages: absent, "", and 0 are the same value. */
const INT_KEY = /(^|\.)(logIndex|integratedTime|treeSize)$/;
const REPEATED_KEY = /(^|\.)(hashes|certificates|tlogEntries|rfc3161Timestamps|signatures)$/;

/** A JSON document as field -> value; `leaf` may give a path its own canonical value (bytes, checkpoints). */
export function flattenJson(v: unknown, path: string, sem: Sem, leaf: (path: string, v: unknown) => string | undefined): void {
  const custom = leaf(path, v);
  if (custom !== undefined) return void sem.set(path, custom);
  if (Array.isArray(v)) {
    // An empty list and an absent one are the same message (protobuf JSON).
    if (v.length) sem.set(`${path}.length`, String(v.length));
    v.forEach((c, i) => flattenJson(c, `${path}[${i}]`, sem, leaf));
  } else if (v && typeof v === 'object') {
    // An empty object is a message present with default values, not an absent one.
    if (Object.keys(v).length === 0) sem.set(path, '{}');
    for (const [k, c] of Object.entries(v)) flattenJson(c, path ? `${path}.${k}` : k, sem, leaf);
  } else if (v === '' && INT_KEY.test(path)) {
    sem.set(path, 'int:0'); // protobuf JSON reads an empty int64 string as unset, 0
  } else if (!Array.isArray(v) && REPEATED_KEY.test(path) && (v === null || typeof v !== 'object')) {
    // A repeated field given null or a scalar: protobuf-JSON readers (ts-proto) read it as an empty list.
  } else if (typeof v === 'number' || (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v))) {
    sem.set(path, `int:${typeof v === 'number' ? (Number.isInteger(v) ? BigInt(v).toString() : `float ${v}`) : BigInt(v.trim()).toString()}`);
  } else {
    sem.set(path, JSON.stringify(v));
  }
}

/** Member names of the JSON messages the fuzzer mutates (bundles, Rekor, Fulcio answers), and the judge's own key names. */
const CAMEL = [
  'mediaType', 'verificationMaterial', 'publicKey', 'hint', 'x509CertificateChain', 'certificates', 'rawBytes', 'certificate', 'tlogEntries', 'logIndex', 'logId',
  'keyId', 'kindVersion', 'kind', 'version', 'integratedTime', 'inclusionPromise', 'signedEntryTimestamp', 'inclusionProof', 'rootHash', 'treeSize', 'hashes',
  'checkpoint', 'envelope', 'canonicalizedBody', 'timestampVerificationData', 'rfc3161Timestamps', 'signedTimestamp', 'messageSignature', 'messageDigest',
  'algorithm', 'digest', 'signature', 'dsseEnvelope', 'payload', 'payloadType', 'signatures', 'sig', 'keyid', 'body', 'logID', 'verification', 'attestation',
  'signedCertificateEmbeddedSct', 'signedCertificateDetachedSct', 'chain', 'signedCertificateTimestamp', 'content', 'spec', 'data', 'hash', 'value', 'apiVersion',
];
export const SCHEMA_MEMBERS = new Set([
  ...CAMEL,
  ...CAMEL.map((c) => c.replace(/[A-Z]/g, (x) => `_${x.toLowerCase()}`)),
  // the judge's own names
  'entry', 'rekor', 'proof', 'set', 'uuid', 'prefix', 'status', 'json', 'candidates', 'leaf', 'tail', 'artifact', 'spelling', 'sigs', 'otherSigs', 'length', 'entries',
]);

/** A JSON key path naming a member no message defines (a renamed or added member), which readers ignore. */
export function unknownMember(key: string): boolean {
  return key.split('.').some((seg) => {
    const name = seg.replace(/\[\d+\]$/, '');
    return name !== '' && !/^[0-9a-f]{64,80}$/.test(name) && !SCHEMA_MEMBERS.has(name);
  });
}

/** The ALLOWED class of a differing field, or undefined when it matters. */
const RULES: [RegExp, string][] = [
  [/(^|\.)sd\.version$|(^|\.)si\d+\.version$/, 'cms-version'],
  [/(^|\.)sd\.digestAlgorithms$/, 'cms-digest-algorithms'],
  [/(^|\.)sd\.certs\.others$/, 'cms-extra-certificates'],
  [/(^|\.)sd\.crls$/, 'cms-crls'],
  [/(^|\.)si\d+\.unsigned\.other$/, 'cms-unknown-unsigned-attribute'],
  [/(^|\.)(si\d+\.extra|si\d+\.sid\.extra|sd\.extra|sd\.eci\.extra|extra\.root)$/, 'cms-extra-element'],
  [/\.(digestAlgorithm|signatureAlgorithm)\.params$/, 'algorithm-parameters'],
  [/rekor\d*\.body$/, 'rekor-body-field'],
  [/(^|\.)tsa\d*\.(token\.)?(si\d+\.signerCert|sd\.certs\.others)$/, 'tsa-embedded-certificates'],
  [/(^|\.)tsa\.statusText$/, 'tsa-status-text'],
  [/^armor\.outside$/, 'armor-layout'],
  [/rekor\d*\.unknown$/, 'proto-unknown-field'],
];

export function classify(key: string): string | undefined {
  return RULES.find(([re]) => re.test(key))?.[1];
}

/** Compares meanings; `rules` adds family-specific allowed fields (JSON answers). */
export type Rule = (key: string, orig: string | undefined, mut: string | undefined, mutant: Sem) => string | undefined;

const ABSENT = (v: string | undefined): boolean => v === undefined || v === 'absent' || v === 'null' || v === '""' || v === '{}';

/** Whether the object or request whose entry `prefix` names carries an RFC 3161 timestamp ("si0.rekor0." -> "si0.tsa0.*"). */
function hasTimestamp(sem: Sem, prefix: string): boolean {
  if (sem.get('evidence.tsa') === 'present') return true;
  const base = prefix.replace(/rekor\d*\.$/, '');
  return [...sem.keys()].some((k) => k.startsWith(`${base}tsa`));
}

/**
 * Time fields judged by the rule "a time comes only from a verified SET or RFC 3161 timestamp": the
 * SET removed with the proof unchanged while a timestamp remains, and an integratedTime that no SET
 * covers (so it is never read). Keys: "<prefix>set"/"<prefix>proof..." (embedded entries, Rekor v1
 * answers) or "inclusionPromise.signedEntryTimestamp" (Rekor v2 JSON answers).
 */
function timeRule(key: string, orig: Sem, mut: Sem): string | undefined {
  const set = /^(.*?)set$/.exec(key);
  if (set && !ABSENT(orig.get(key)) && ABSENT(mut.get(key))) {
    const p = set[1];
    const proofKeys = [...new Set([...orig.keys(), ...mut.keys()])].filter((k) => k.startsWith(`${p}proof`));
    const proofSame = orig.get(`${p}proof`) === 'present' && proofKeys.every((k) => orig.get(k) === mut.get(k));
    if (proofSame && hasTimestamp(mut, p)) return 'set-removed-tsa-dates';
  }
  // A signature's timestamp attribute gone as a whole (removed, or its OID no longer timeStampToken) while
  // its log entry keeps the same SET: that SET still dates it.
  const tsa = /^(.*?)tsa(?:\d+\.|\.values$)/.exec(key);
  if (tsa && !key.startsWith('tsa.')) {
    const p = tsa[1];
    const gone = ![...mut.keys()].some((k) => k.startsWith(`${p}tsa`));
    const set = mut.get(`${p}rekor0.set`);
    if (gone && !ABSENT(set) && set === orig.get(`${p}rekor0.set`)) return 'timestamp-removed';
  }
  const time = /^(.*?)integratedTime$/.exec(key);
  if (time) {
    const p = time[1];
    if (ABSENT(mut.get(`${p}set`)) && ABSENT(mut.get(`${p}inclusionPromise.signedEntryTimestamp`)) && ABSENT(orig.get(`${p}set`)) && ABSENT(orig.get(`${p}inclusionPromise.signedEntryTimestamp`))) {
      return 'integrated-time-without-set';
    }
  }
  return undefined;
}

export function compare(orig: Sem, mut: Sem, rules: Rule = classify): Verdict {
  const keys = new Set([...orig.keys(), ...mut.keys()]);
  const zero = (v: string | undefined): boolean => v === undefined || v === 'int:0';
  const changed = [...keys].filter((k) => orig.get(k) !== mut.get(k) && !(INT_KEY.test(k) && zero(orig.get(k)) && zero(mut.get(k))));
  const critical: string[] = [];
  const allowed = new Set<string>();
  // An inclusion proof removed as a whole, with the SET unchanged: one allowed change.
  const proofRemoved = new Set<string>();
  for (const k of changed) {
    const m = /^(.*rekor\d*\.)proof$/.exec(k);
    if (m && orig.get(k) === 'present' && mut.get(k) === 'absent' && orig.get(`${m[1]}set`) === mut.get(`${m[1]}set`) && mut.get(`${m[1]}set`) !== 'absent') {
      proofRemoved.add(m[1]);
      allowed.add('rekor-proof-removed-set-kept');
    }
  }
  for (const k of changed) {
    if ([...proofRemoved].some((p) => k.startsWith(`${p}proof`))) continue;
    const dated = timeRule(k, orig, mut);
    if (dated) {
      allowed.add(dated);
      continue;
    }
    if (k.endsWith('.otherSigs')) {
      allowed.add('checkpoint-other-signatures');
      continue;
    }
    const cls = rules(k, orig.get(k), mut.get(k), mut) ?? classify(k);
    if (cls) allowed.add(cls);
    else critical.push(k);
  }
  if (changed.length === 0) allowed.add('encoding-only');
  return { critical, allowed: [...allowed].sort() };
}

/** A signature's PEM block read strictly: label and DER, or undefined when it is not clean PEM. */
export function strictPem(text: string): { label: string; der: Buffer; outside: string } | undefined {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\s]*?)-----END ([A-Z0-9 ]+)-----/.exec(text);
  if (!m || m[1] !== m[3]) return undefined;
  const body = m[2].replace(/\s/g, '');
  // Unpadded base64 decodes to the same bytes; a length of 4k+1 cannot be base64.
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 === 1) return undefined;
  return { label: m[1], der: Buffer.from(body, 'base64'), outside: text.slice(0, m.index) + text.slice(m.index + m[0].length) };
}

/**
 * A git object's payload and signature by the fuzzer's own reading. Commit: the gpgsig header and its
 * continuation lines removed. Tag: the signature is the last line-anchored "-----BEGIN " block.
 */
export function splitForJudge(type: 'commit' | 'tag', raw: Buffer): { payload: Buffer; signature: string | null } {
  const text = raw.toString('latin1');
  const blank = text.indexOf('\n\n');
  const headerEnd = blank === -1 ? text.length : blank + 1;
  if (type === 'tag') {
    const at = text.lastIndexOf('\n-----BEGIN ');
    if (at === -1 || at + 1 < headerEnd) return { payload: raw, signature: null };
    return { payload: Buffer.from(text.slice(0, at + 1), 'latin1'), signature: text.slice(at + 1) };
  }
  const lines = text.slice(0, headerEnd).split(/(?<=\n)/);
  const kept: string[] = [];
  const sig: string[] = [];
  let inSig = false;
  let count = 0;
  for (const l of lines) {
    if (inSig && l.startsWith(' ')) {
      sig.push(l.slice(1));
      continue;
    }
    inSig = l.startsWith('gpgsig ') || l.startsWith('gpgsig-sha256 ');
    if (inSig) {
      count++;
      sig.push(l.slice(l.indexOf(' ') + 1));
    } else {
      kept.push(l);
    }
  }
  const payload = Buffer.from(kept.join('') + text.slice(headerEnd), 'latin1');
  return { payload, signature: count === 1 ? sig.join('') : count > 1 ? 'duplicate' : null };
}

/** Meaning of a whole signed git object: its payload and its signature's CMS. */
export function objectSemantics(type: 'commit' | 'tag', raw: Buffer): Sem {
  const sem: Sem = new Map();
  const { payload, signature } = splitForJudge(type, raw);
  sem.set('payload', hex(payload));
  if (signature === null || signature === 'duplicate') {
    sem.set('signature', signature ?? 'absent');
    return sem;
  }
  const pem = strictPem(signature);
  if (!pem) {
    sem.set('armor', 'not clean PEM');
    return sem;
  }
  sem.set('armor.label', pem.label);
  sem.set('armor.outside', pem.outside.trim());
  cmsSemantics(pem.der, sem);
  return sem;
}

