import { verifyJwt } from '../../src/sandbox/oidc/jwt';
import { requestCertificate } from '../../src/fulcio/client';
import { discoverIssuer } from '../../src/oidc/discovery';
import { deviceFlow } from '../../src/oidc/deviceFlow';
import { checkCredential } from '../../src/sign/credential';
import { signPayload } from '../../src/sign/signature';
import { DEFAULT_SUBJECT } from '../../src/sandbox/oidc/token';
import { Certificate } from '../../src/x509/certificate';
import { objectSha1 } from '../../src/git/objectHash';
import { sha256Hex } from '../../src/rekor/client';
import { checkpointSemantics, compare, flattenJson, type Sem, timestampReplySemantics, unknownMember, type Verdict } from './judge';
import { byteMutation, derMutation, jsonMutation, type Json, textMutation } from './mutate';
import { checkpointMutation, verifyObject } from './objects';
import { type CaseReport, type Outcome, outcomeOf } from './outcome';
import type { Answer, Plan, PlanRecord } from './peer';
import type { Rng } from './prng';
import { commitPayload, currentCredential, SANDBOX_EMAIL, type SandboxWorld } from './sandboxSubjects';

/**
 * The server family: real answers of the local Sigstore, mutated between the server and the product
 * by the front, fed to the product functions that check them while signing (Fulcio certificate,
 * Rekor v1 and v2 entries, timestamps), while verifying online (Rekor search and entry), and while
 * logging in (OIDC discovery, device authorization, token, keys).
 */
type Target = 'fulcio-v2' | 'fulcio-v1' | 'rekor-v1-sign' | 'rekor-v1-sign-online' | 'rekor-v2-sign' | 'tsa-sign' | 'rekor-search' | 'rekor-entry-fetch' | 'oidc';

const route = (method: string, prefix: string) => (m: string, p: string) => m === method && p.startsWith(prefix);

// ---- answer mutations ----

function lenientDer(pem: string): Buffer[] {
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => Buffer.from(m[1].replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'));
}

function pemCert(der: Buffer): string {
  const b = der.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN CERTIFICATE-----\n${b}\n-----END CERTIFICATE-----\n`;
}

function urlMutation(rng: Rng, url: string): { value: string; op: string } {
  const r = rng.int(7);
  const u = new URL(url);
  switch (r) {
    case 0:
      return { value: url.replace(/^https?:/, rng.pick(['file:', 'javascript:', 'ftp:', 'data:', 'HTTP:'])), op: 'URL scheme changed' };
    case 1:
      return { value: `${u.origin}/other${u.pathname}`, op: 'URL path changed' };
    case 2:
      return { value: url.replace(/:\d+/, ':1'), op: 'URL port changed (closed)' };
    case 3:
      return { value: `${url}?x=1`, op: 'URL query added' };
    case 4:
      return { value: url.replace('127.0.0.1', 'localhost'), op: 'URL host spelled localhost' };
    case 5:
      return { value: `${url}\u001b[2J`, op: 'URL with control characters' };
    default:
      return { value: 'not a url', op: 'URL replaced by text' };
  }
}

/** The JSON answer with one value changed (URLs by URL-aware edits, never towards a remote host). */
function jsonAnswerMutation(rng: Rng, a: Answer, doc: Json): { answer: Answer; op: string } {
  const urlPaths: (string | number)[][] = [];
  const walkUrls = (v: Json, path: (string | number)[]): void => {
    if (typeof v === 'string' && /^https?:\/\//.test(v)) urlPaths.push(path);
    else if (Array.isArray(v)) v.forEach((c, i) => walkUrls(c, [...path, i]));
    else if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walkUrls(c, [...path, k]);
  };
  walkUrls(doc, []);
  if (urlPaths.length && rng.chance(0.3)) {
    const path = rng.pick(urlPaths);
    const copy = structuredClone(doc) as Record<string | number, Json>;
    let x = copy;
    for (const p of path.slice(0, -1)) x = x[p] as Record<string | number, Json>;
    const m = urlMutation(rng, x[path[path.length - 1]] as string);
    x[path[path.length - 1]] = m.value;
    return { answer: { ...a, body: Buffer.from(JSON.stringify(copy)) }, op: `${path.join('.')}: ${m.op}` };
  }
  // Every other string, number, member: removed, retyped, edited (base64 and hex as bytes).
  const m = jsonMutation(rng, doc);
  const space = rng.chance(0.1) ? 2 : undefined;
  return { answer: { ...a, body: Buffer.from(JSON.stringify(m.value, null, space)) }, op: m.op };
}

function genericAnswerMutation(rng: Rng, a: Answer): { answer: Answer; op: string } | undefined {
  const r = rng.int(20);
  if (r === 0) {
    const status = rng.pick([200, 201, 204, 301, 400, 401, 404, 409, 418, 503]);
    return { answer: { ...a, status: status === a.status ? 202 : status }, op: `status ${a.status} -> ${status}` };
  }
  if (r === 1) {
    const ct = rng.pick(['text/html', 'application/octet-stream', '', 'application/json; charset=utf-8']);
    const headers = { ...a.headers };
    if (ct) headers['content-type'] = ct;
    else delete headers['content-type'];
    return { answer: { ...a, headers }, op: `content-type "${ct}"` };
  }
  if (r <= 3) {
    const m = byteMutation(rng, a.body);
    return { answer: { ...a, body: m.value }, op: `body bytes ${m.op}` };
  }
  if (r === 4) return { answer: { ...a, body: Buffer.alloc(0) }, op: 'empty body' };
  return undefined;
}

function parseJsonBody(a: Answer): Json | undefined {
  try {
    return JSON.parse(a.body.toString('utf8')) as Json;
  } catch {
    return undefined;
  }
}

/** Answer mutation by target: generic, JSON, and domain edits (certificates, checkpoints, DER). */
function answerMutation(rng: Rng, target: Target, a: Answer, note: (op: string) => void): Answer {
  const g = genericAnswerMutation(rng, a);
  if (g) return (note(g.op), g.answer);
  if (target === 'tsa-sign') {
    const m = derMutation(rng, a.body);
    note(`reply DER ${m.op}`);
    return { ...a, body: m.value };
  }
  if (target === 'fulcio-v1') {
    const certs = lenientDer(a.body.toString('latin1'));
    if (rng.chance(0.5)) {
      const i = rng.int(certs.length);
      const m = derMutation(rng, certs[i]);
      certs[i] = m.value;
      note(`chain[${i}] DER ${m.op}`);
      return { ...a, body: Buffer.from(certs.map(pemCert).join('')) };
    }
    const m = textMutation(rng, a.body.toString('latin1'));
    note(`PEM chain text ${m.op}`);
    return { ...a, body: Buffer.from(m.value, 'latin1') };
  }
  const doc = parseJsonBody(a);
  if (doc === undefined) {
    const m = byteMutation(rng, a.body);
    note(`body bytes ${m.op}`);
    return { ...a, body: m.value };
  }
  // Domain edits inside the JSON.
  if (target === 'fulcio-v2' && rng.chance(0.4)) {
    const key = (doc as Record<string, Json>).signedCertificateEmbeddedSct ? 'signedCertificateEmbeddedSct' : 'signedCertificateDetachedSct';
    const list = ((doc as Record<string, Record<string, Record<string, string[]>>>)[key]?.chain?.certificates ?? []) as string[];
    if (list.length) {
      const i = rng.chance(0.7) ? 0 : rng.int(list.length);
      const ders = lenientDer(list[i]);
      const m = derMutation(rng, ders[0]);
      list[i] = pemCert(m.value);
      note(`${key}.chain.certificates[${i}] DER ${m.op}`);
      return { ...a, body: Buffer.from(JSON.stringify(doc)) };
    }
  }
  if ((target === 'rekor-v1-sign' || target === 'rekor-v1-sign-online' || target === 'rekor-entry-fetch') && rng.chance(0.3)) {
    const [uuid] = Object.keys(doc as object);
    const e = (doc as Record<string, Record<string, Record<string, Record<string, unknown>>>>)[uuid];
    const proof = e?.verification?.inclusionProof;
    if (proof && typeof proof.checkpoint === 'string' && rng.chance(0.5)) {
      const m = checkpointMutation(rng, proof.checkpoint);
      proof.checkpoint = m.value;
      note(`verification.inclusionProof.checkpoint: ${m.op}`);
      return { ...a, body: Buffer.from(JSON.stringify(doc)) };
    }
    const r = rng.int(4);
    if (r === 0 && e?.verification) {
      delete (e.verification as Record<string, unknown>).signedEntryTimestamp;
      note('verification.signedEntryTimestamp removed');
    } else if (r === 1 && e?.verification) {
      delete (e.verification as Record<string, unknown>).inclusionProof;
      note('verification.inclusionProof removed');
    } else if (r === 2 && e) {
      (e as Record<string, unknown>).integratedTime = (e.integratedTime as unknown as number) + rng.pick([1, -3600, 3600, -86400 * 365]);
      note('integratedTime moved');
    } else if (proof) {
      proof.logIndex = (proof.logIndex as number) + rng.pick([1, -1]);
      note('verification.inclusionProof.logIndex moved');
    }
    return { ...a, body: Buffer.from(JSON.stringify(doc)) };
  }
  if (target === 'rekor-v2-sign' && rng.chance(0.3)) {
    const d = doc as Record<string, Record<string, unknown>>;
    const r = rng.int(4);
    if (r === 0 && d.inclusionProof?.checkpoint) {
      const cp = d.inclusionProof.checkpoint as { envelope: string };
      const m = checkpointMutation(rng, cp.envelope);
      cp.envelope = m.value;
      note(`inclusionProof.checkpoint.envelope: ${m.op}`);
    } else if (r === 1) {
      (d as Record<string, unknown>).integratedTime = String(Math.floor(Date.now() / 1000));
      note('integratedTime added');
    } else if (r === 2) {
      (d as Record<string, unknown>).logIndex = String(BigInt(String(d.logIndex ?? '0')) + 1n);
      note('logIndex moved (proof index kept)');
    } else {
      (d as Record<string, unknown>).inclusionPromise = { signedEntryTimestamp: Buffer.alloc(70, 1).toString('base64') };
      note('inclusionPromise added');
    }
    return { ...a, body: Buffer.from(JSON.stringify(doc)) };
  }
  const m = jsonAnswerMutation(rng, a, doc);
  note(m.op);
  return m.answer;
}

// ---- meanings of answers (for accepted mutants) ----

const b64hex = (s: unknown): string => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('hex') : `not a string: ${JSON.stringify(s)}`);

function rekorV1AnswerSemantics(a: Answer): Sem {
  const sem: Sem = new Map();
  sem.set('status', String(a.status));
  const doc = parseJsonBody(a) as Record<string, unknown> | undefined;
  if (!doc || typeof doc !== 'object') return (sem.set('json', 'unparsable'), sem);
  const keys = Object.keys(doc);
  sem.set('entries', String(keys.length));
  let proofPresent = false;
  for (const uuid of keys) {
    sem.set('uuid.leaf', uuid.slice(-64).toLowerCase());
    sem.set('uuid.prefix', uuid.slice(0, -64).toLowerCase());
    const verification = (doc[uuid] as { verification?: { inclusionProof?: unknown } } | null)?.verification;
    const proofObject = verification?.inclusionProof;
    proofPresent = proofObject !== null && typeof proofObject === 'object';
    sem.set('rekor.set', 'absent');
    flattenJson(doc[uuid], 'entry', sem, (path, v) => {
      if (path === 'entry.verification.signedEntryTimestamp' && (v === null || v === '')) return 'absent';
      if (path === 'entry.body' || path === 'entry.verification.signedEntryTimestamp') return b64hex(v);
      if (path === 'entry.logID' || path === 'entry.verification.inclusionProof.rootHash') return typeof v === 'string' ? v.toLowerCase() : JSON.stringify(v);
      if (/^entry\.verification\.inclusionProof\.hashes\[\d+\]$/.test(path)) return typeof v === 'string' ? v.toLowerCase() : JSON.stringify(v);
      if (path === 'entry.verification.inclusionProof.checkpoint' && typeof v === 'string') {
        checkpointSemantics(v, sem, `${path}.`);
        return 'checkpoint';
      }
      return undefined;
    });
  }
  // The proof's and SET's fields under the names the embedded entry's judge uses (rekor.proof.*, rekor.set).
  sem.delete('entry.verification.inclusionProof');
  for (const [k, v] of [...sem]) {
    if (k.startsWith('entry.verification.inclusionProof')) {
      sem.delete(k);
      sem.set(`rekor.proof${k.slice('entry.verification.inclusionProof'.length)}`, v);
    } else if (k === 'entry.verification.signedEntryTimestamp') {
      sem.delete(k);
      sem.set('rekor.set', v);
    }
  }
  sem.set('rekor.proof', proofPresent ? 'present' : 'absent');
  return sem;
}

function rekorV2AnswerSemantics(a: Answer): Sem {
  const sem: Sem = new Map();
  sem.set('status', String(a.status));
  const doc = parseJsonBody(a);
  if (!doc || typeof doc !== 'object') return (sem.set('json', 'unparsable'), sem);
  flattenJson(doc, '', sem, (path, v) => {
    if (['logId.keyId', 'canonicalizedBody', 'inclusionProof.rootHash', 'inclusionPromise.signedEntryTimestamp'].includes(path) || /^inclusionProof\.hashes\[\d+\]$/.test(path)) return b64hex(v);
    if (path === 'inclusionProof.checkpoint.envelope' && typeof v === 'string') {
      checkpointSemantics(v, sem, 'inclusionProof.checkpoint.');
      return 'checkpoint';
    }
    return undefined;
  });
  for (const k of ['logIndex', 'integratedTime']) if (!sem.has(k)) sem.set(k, 'int:0');
  return sem;
}

function fulcioAnswerSemantics(a: Answer, v1: boolean): Sem {
  const sem: Sem = new Map();
  sem.set('status', String(a.status));
  let pems: string[] = [];
  if (v1) {
    pems = [a.body.toString('latin1')];
  } else {
    const doc = parseJsonBody(a) as Record<string, Record<string, Record<string, unknown>>> | undefined;
    const chainOf = (k: string): unknown => doc?.[k]?.chain?.certificates;
    const list = chainOf('signedCertificateEmbeddedSct') ?? chainOf('signedCertificateDetachedSct');
    if (!Array.isArray(list)) return (sem.set('chain', 'absent'), sem);
    pems = list.map(String);
  }
  const ders = pems.flatMap(lenientDer);
  sem.set('leaf', ders[0]?.toString('hex') ?? 'none');
  sem.set('chain.tail', ders.slice(1).map((d) => d.toString('hex')).join(','));
  return sem;
}

function tsaAnswerSemantics(a: Answer): Sem {
  const sem: Sem = new Map();
  sem.set('status', String(a.status));
  return timestampReplySemantics(a.body, sem, 'tsa.');
}

function searchAnswerSemantics(a: Answer): Sem {
  const sem: Sem = new Map();
  sem.set('status', String(a.status));
  sem.set('candidates', JSON.stringify(parseJsonBody(a) ?? a.body.toString('hex')));
  return sem;
}

const SERVER_RULES: [RegExp, string][] = [
  [/fuzzUnknownMember/, 'json-unknown-member'],
  [/^uuid\.prefix$/, 'rekor-uuid-tree-prefix'],
  [/^chain\.tail$/, 'fulcio-chain-tail'],
  [/^tsa\.statusText$/, 'tsa-status-text'],
  [/^tsa\.token\./, ''],
];

function serverRules(key: string): string | undefined {
  const hit = SERVER_RULES.find(([re]) => re.test(key));
  if (hit) return hit[1] || undefined;
  return !key.startsWith('tsa.') && unknownMember(key) ? 'json-unknown-member' : undefined;
}

/** A TSA token inside the reply is judged like a signature: its own CMS rules apply to keys after the prefix. */
function serverCompare(orig: Sem, mut: Sem): Verdict {
  return compare(orig, mut, (k) => serverRules(k));
}

// ---- the case ----

const TARGETS: [number, Target][] = [
  [14, 'fulcio-v2'],
  [4, 'fulcio-v1'],
  [14, 'rekor-v1-sign'],
  [5, 'rekor-v1-sign-online'],
  [10, 'rekor-v2-sign'],
  [12, 'tsa-sign'],
  [5, 'rekor-search'],
  [10, 'rekor-entry-fetch'],
  [14, 'oidc'],
];

function planFor(target: Target, oidcPath: string): Plan['match'] {
  switch (target) {
    case 'fulcio-v2':
      return route('POST', '/api/v2/signingCert');
    case 'fulcio-v1':
      return route('POST', '/api/v1/signingCert');
    case 'rekor-v1-sign':
    case 'rekor-v1-sign-online':
      return route('POST', '/api/v1/log/entries');
    case 'rekor-v2-sign':
      return route('POST', '/api/v2/log/entries');
    case 'tsa-sign':
      return route('POST', '/api/v1/timestamp');
    case 'rekor-search':
      return route('POST', '/api/v1/index/retrieve');
    case 'rekor-entry-fetch':
      return route('GET', '/api/v1/log/entries/');
    case 'oidc':
      return (_m, p) => p === oidcPath;
  }
}

export async function serverCase(rng: Rng, w: SandboxWorld): Promise<CaseReport> {
  const target = rng.weighted(TARGETS);
  const peer = w.peer;
  const oidcPath = rng.pick(['/auth/.well-known/openid-configuration', '/auth/device/code', '/auth/token', '/auth/keys']);
  const ops: string[] = [];
  const online = target === 'rekor-search' || target === 'rekor-entry-fetch' ? rng.pick(w.subjects.filter((s) => s.kind.startsWith('sandbox-online'))) : undefined;
  // Only the entry of the object verified is mutated (the others are candidates the verifier skips).
  const wanted = online ? sha256Hex(objectSha1(online.type, online.raw)) : '';
  const isWanted = (a: Answer): boolean => {
    try {
      const doc = JSON.parse(a.body.toString('utf8')) as Record<string, { body: string }>;
      const body = JSON.parse(Buffer.from(Object.values(doc)[0].body, 'base64').toString('utf8')) as { spec: { data: { hash: { value: string } } } };
      return body.spec.data.hash.value === wanted;
    } catch {
      return false;
    }
  };
  const plans: Plan[] = [
    {
      match: planFor(target, oidcPath),
      mutate: (a) => (target === 'rekor-entry-fetch' && !isWanted(a) ? undefined : answerMutation(rng, target, a, (op) => ops.push(op))),
    },
  ];
  if (target === 'fulcio-v1') plans.unshift({ match: route('POST', '/api/v2/signingCert'), mutate: () => ({ status: 404, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"code":5,"message":"Not Found"}') }) });
  let outcome: Outcome;
  let verdict: Verdict | undefined;
  let extraFailure: string | undefined;
  let subjectName: string = target;
  const cred = target.startsWith('fulcio') || target === 'oidc' ? undefined : await currentCredential(w);
  const sayLines: string[] = [];
  const sleeps: number[] = [];
  let records: PlanRecord[] = [];
  peer.plan(...plans);
  try {
    switch (target) {
      case 'fulcio-v2':
      case 'fulcio-v1': {
        const { privateKey, publicKey } = peer.ephemeralKey();
        outcome = await outcomeOf(async () => {
          const { chain } = await requestCertificate(peer.frontUrl, peer.fulcioToken(), SANDBOX_EMAIL, privateKey, publicKey);
          checkCredential({ privateKey, certificate: new Certificate(chain[0]), chain: chain.slice(1) }, w.trust, w.cfg);
        });
        break;
      }
      case 'rekor-v1-sign':
      case 'rekor-v1-sign-online':
      case 'rekor-v2-sign':
      case 'tsa-sign': {
        const opts =
          target === 'rekor-v2-sign'
            ? { rekorVersion: 2 as const, timestampUrl: `${peer.frontUrl}/api/v1/timestamp` }
            : target === 'tsa-sign'
              ? { timestampUrl: `${peer.frontUrl}/api/v1/timestamp` }
              : target === 'rekor-v1-sign-online'
                ? { rekorMode: 'online' as const }
                : {};
        outcome = await outcomeOf(() => signPayload(commitPayload(`server case ${rng.u32()}`), cred!, w.signOptions(opts)));
        break;
      }
      case 'rekor-search':
      case 'rekor-entry-fetch': {
        subjectName = online!.name;
        outcome = await verifyObject(online!, online!.raw);
        break;
      }
      case 'oidc': {
        const cfg = { ...w.cfg, issuer: peer.issuerUrl, clientID: 'sigstore' };
        const io = { say: (l: string) => void sayLines.push(l), ask: async () => null };
        const sleep = async (ms: number): Promise<void> => void sleeps.push(ms);
        let token: { raw: string; subject: string; issuer: string } | undefined;
        outcome = await outcomeOf(async () => {
          token = await deviceFlow(cfg, await discoverIssuer(cfg, ''), io, sleep);
        });
        subjectName = `oidc ${oidcPath}`;
        if (outcome.kind === 'accepted' && token) {
          // What the login hands on must still be the issuer's token for our user.
          const problems: string[] = [];
          try {
            const claims = verifyJwt(token.raw, new Map([[peer.material.oidc.kid, peer.material.oidc.pub]]));
            if (claims.iss !== peer.issuerUrl) problems.push('issuer');
            if (claims.aud !== 'sigstore') problems.push('audience');
          } catch {
            problems.push('token signature');
          }
          if (token.subject !== DEFAULT_SUBJECT) problems.push('subject');
          verdict = problems.length ? { critical: problems.map((x) => `id token ${x}`), allowed: [] } : { critical: [], allowed: ['oidc-answer-unauthenticated'] };
        }
        // Finding 14: what is shown to the user must be a web URL, and waits must be bounded.
        const shown = sayLines.join('\n');
        const url = /browser at: (\S*)/.exec(shown)?.[1];
        if (url !== undefined && !/^https?:\/\//i.test(url)) extraFailure = `device flow printed a verification URL that is not http(s): ${JSON.stringify(url).slice(0, 80)}`;
        if (sleeps.some((ms) => !Number.isFinite(ms) || ms < 0 || ms > 3_600_000)) extraFailure = `device flow would wait ${sleeps.find((ms) => !Number.isFinite(ms) || ms < 0 || ms > 3_600_000)} ms between polls`;
        if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(shown)) extraFailure = `device flow printed control characters: ${JSON.stringify(shown).slice(0, 120)}`;
        break;
      }
    }
  } finally {
    records = [...peer.records];
    peer.reset();
  }
  const report: CaseReport = {
    family: 'server',
    cls: `server/${target}${target === 'oidc' ? `:${oidcPath.split('/').pop()}` : ''}`,
    subject: subjectName,
    op: ops.join('; ') || '(no matching request)',
    outcome,
    extraFailure,
  };
  const rec = records[records.length - 1]; // fulcio-v1: the v2 refusal first, then the mutated v1 answer
  if (rec?.mutated) report.artifact = { ext: 'answer', bytes: Buffer.concat([Buffer.from(`HTTP ${rec.mutated.status}\n${Object.entries(rec.mutated.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n`), rec.mutated.body]) };
  // The online lookup's object carries an RFC 3161 timestamp when it was signed with one.
  const tsaDated = target === 'rekor-entry-fetch' && online!.kind.endsWith('-tsa');
  if (outcome.kind === 'accepted') report.verdict = verdict ?? (rec?.original && rec.mutated ? judgeAnswer(target, rec.original, rec.mutated, tsaDated) : { critical: [], allowed: ['encoding-only'] });
  return report;
}

/** Judges an accepted server mutant from the original and mutated answers. */
export function judgeAnswer(target: string, original: Answer, mutated: Answer, tsaDated = false): Verdict {
  if (mutated.status >= 500) return { critical: [], allowed: ['server-error-retried'] };
  if (mutated.status !== original.status && mutated.body.equals(original.body)) {
    if (target.includes('fulcio-v2') && [404, 405, 501].includes(mutated.status)) return { critical: [], allowed: ['fulcio-v1-fallback'] };
    if ([200, 201].includes(mutated.status) && [200, 201].includes(original.status)) return { critical: [], allowed: ['http-success-status'] };
    if (mutated.status === 409 && mutated.headers.location) return { critical: [], allowed: ['rekor-conflict-refetch'] };
  }
  switch (target.split(':')[0].replace('server/', '')) {
    case 'fulcio-v2':
      return serverCompare(fulcioAnswerSemantics(original, false), fulcioAnswerSemantics(mutated, false));
    case 'fulcio-v1':
      return serverCompare(fulcioAnswerSemantics(original, true), fulcioAnswerSemantics(mutated, true));
    case 'rekor-v1-sign':
    case 'rekor-v1-sign-online':
    case 'rekor-entry-fetch': {
      const [o, m] = [rekorV1AnswerSemantics(original), rekorV1AnswerSemantics(mutated)];
      if (tsaDated) for (const sem of [o, m]) sem.set('evidence.tsa', 'present');
      return serverCompare(o, m);
    }
    case 'rekor-v2-sign':
      return serverCompare(rekorV2AnswerSemantics(original), rekorV2AnswerSemantics(mutated));
    case 'tsa-sign':
      return serverCompare(tsaAnswerSemantics(original), tsaAnswerSemantics(mutated));
    case 'rekor-search':
      return { critical: [], allowed: [serverCompare(searchAnswerSemantics(original), searchAnswerSemantics(mutated)).allowed.includes('encoding-only') ? 'encoding-only' : 'rekor-search-hint'] };
    default:
      return { critical: [], allowed: [] };
  }
}

