import { verifyGitObject, type IdentityRequest } from '../../src/verify/gitObject';
import type { VerifySettings } from '../../src/verify/settings';
import { decodeLogEntry, encodeLogEntry, type LogEntry } from '../../src/rekor/tlogEntry';
import { type CmsLayout, certRegions, cmsLayout } from './cmsLayout';
import { type Edit, type Node, at, encode, isCtx, oidContent, oidString, parseDer, tlv, toEdit, tryParseDer } from './der';
import { compare, objectSemantics, type Sem, strictPem } from './judge';
import { byteMutation, derMutation, elements, type Mutant, structuralEdit, textMutation } from './mutate';
import type { CaseReport, Outcome } from './outcome';
import type { Rng } from './prng';
import { readProto, varint, writeProto, type PField } from './proto';

/**
 * The object family: mutants of signed commits and tags (real corpus objects, and objects the local
 * sandbox signed with every kind of log entry and timestamp), verified in-process by
 * verifyGitObject as `gitsign verify` does. Targets: payload bytes, the gpgsig header and its PEM
 * armor, every region of the CMS DER, the embedded Rekor entry field by field (the product's
 * decoder and encoder for fields, the fuzzer's own for the wire format), timestamp tokens, and the
 * certificates.
 */
export interface ObjectSubject {
  kind: string;
  name: string;
  type: 'commit' | 'tag';
  raw: Buffer;
  settings: VerifySettings;
  identity: IdentityRequest;
  /** Sandbox subjects: re-signs a mutated certificate body with the trusted CA, verified with these settings. */
  resign?: { sign: (tbs: Buffer) => { algorithm: Buffer; signature: Buffer }; settings: VerifySettings; committerEmail: string };
}

interface Prepared {
  subject: ObjectSubject;
  sigStart: number;
  sigEnd: number;
  pemText: string;
  der: Buffer;
  layout: CmsLayout;
  sem: Sem;
}

const prepared = new WeakMap<ObjectSubject, Prepared>();

/** Where the signature is in the raw object: the gpgsig header (commit) or the trailing block (tag). */
function signatureRange(type: 'commit' | 'tag', raw: Buffer): [number, number] {
  if (type === 'tag') {
    const at = raw.lastIndexOf('\n-----BEGIN ');
    return [at + 1, raw.length];
  }
  const start = raw.indexOf('\ngpgsig ') + 1;
  let end = raw.indexOf(0x0a, start) + 1;
  while (raw[end] === 0x20) end = raw.indexOf(0x0a, end) + 1;
  return [start, end];
}

function prepare(s: ObjectSubject): Prepared {
  let p = prepared.get(s);
  if (p) return p;
  const [sigStart, sigEnd] = signatureRange(s.type, s.raw);
  let text = s.raw.subarray(sigStart, sigEnd).toString('latin1');
  if (s.type === 'commit') text = text.slice('gpgsig '.length).replace(/\n /g, '\n');
  const pem = strictPem(text);
  if (!pem) throw new Error(`${s.name}: signature is not clean PEM`);
  p = { subject: s, sigStart, sigEnd, pemText: text, der: pem.der, layout: cmsLayout(pem.der), sem: objectSemantics(s.type, s.raw) };
  prepared.set(s, p);
  return p;
}

export function pemOf(der: Buffer, width = 64, label = 'SIGNED MESSAGE'): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += width) lines.push(b64.slice(i, i + width));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The object with its signature text replaced, written where the old one was. */
function withSignatureText(p: Prepared, text: string): Buffer {
  const raw = p.subject.raw;
  const value = p.subject.type === 'commit' ? `gpgsig ${text.replace(/\n$/, '').split('\n').join('\n ')}\n` : text;
  return Buffer.concat([raw.subarray(0, p.sigStart), Buffer.from(value, 'latin1'), raw.subarray(p.sigEnd)]);
}

/** The CMS with the element at `path` replaced (re-encoded up to the root). */
function replaceAt(der: Buffer, path: number[], replacement: Edit): Buffer {
  const edit = toEdit(parseDer(der));
  let parent = edit;
  for (const i of path.slice(0, -1)) parent = parent.children![i];
  parent.children![path[path.length - 1]] = replacement;
  return encode(edit);
}

const asEdit = (bytes: Buffer): Edit => {
  const n = tryParseDer(bytes);
  return n ? toEdit(n) : { id: Buffer.alloc(0), raw: bytes };
};

// ---- targets ----

function payloadMutation(rng: Rng, p: Prepared): Mutant {
  const raw = p.subject.raw;
  // Any byte outside the signature: before it, or (commits) after the gpgsig header.
  const before = p.sigStart;
  const after = raw.length - p.sigEnd;
  const inBefore = after === 0 || rng.int(before + after) < before;
  if (inBefore) return byteMutation(rng, raw, 0, p.sigStart);
  const m = byteMutation(rng, raw, p.sigEnd, raw.length);
  return m;
}

function armorMutation(rng: Rng, p: Prepared): { text: string; op: string } {
  const text = p.pemText;
  const body = text.split('\n').slice(1, -2).join('');
  const label = 'SIGNED MESSAGE';
  const r = rng.int(9);
  switch (r) {
    case 0: {
      const width = rng.pick([76, 63, 65, 4, 1000, 48]);
      return { text: pemOf(p.der, width), op: `rewrapped at ${width} columns` };
    }
    case 1: {
      const at = rng.int(body.length);
      const c = rng.pick([' ', '\t', '\r', '\r\n']);
      const b = body.slice(0, at) + c + body.slice(at);
      return { text: `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`, op: `whitespace ${JSON.stringify(c)} in base64 @${at}` };
    }
    case 2: {
      const at = rng.int(body.length);
      const c = rng.pick(['!', '*', '.', '-', '_', '\u00e9', '\0']);
      const b = body.slice(0, at) + c + body.slice(at);
      return { text: `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`, op: `junk ${JSON.stringify(c)} in base64 @${at}` };
    }
    case 3: {
      const other = rng.pick(['CMS', 'PKCS7', 'SIGNED  MESSAGE', 'signed message', 'PGP SIGNATURE', 'SSH SIGNATURE', 'SIGNED MESSAGE ']);
      return { text: text.split(label).join(other), op: `label "${other}"` };
    }
    case 4:
      return { text: text + rng.pick(['trailing text\n', '\n', '-----BEGIN SIGNED MESSAGE-----\nAAAA\n-----END SIGNED MESSAGE-----\n']), op: 'text after the block' };
    case 5:
      return { text: rng.pick(['leading text\n', ' ', 'Comment: x\n']) + text, op: 'text before the block' };
    case 6: {
      const b = body.replace(/=+$/, '');
      return { text: `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`, op: 'base64 padding removed' };
    }
    case 7:
      return { text: text.replace(/\n/g, '\r\n'), op: 'CRLF line ends' };
    default: {
      const m = textMutation(rng, text);
      return { text: m.value, op: `armor text ${m.op}` };
    }
  }
}

function derRegionMutation(rng: Rng, p: Prepared): { der: Buffer; region: string; op: string } {
  const regions = [...p.layout.regions, { name: 'whole', path: [] as number[] }];
  const region = rng.pick(regions);
  const { all } = elements(p.der);
  const within = all.find((e) => e.path.length === region.path.length && e.path.every((v, i) => v === region.path[i]));
  const m = region.name === 'whole' ? derMutation(rng, p.der) : derMutation(rng, p.der, within);
  return { der: m.value, region: region.name, op: m.op };
}

// -- embedded Rekor entry --

function entryFieldMutation(rng: Rng, bytes: Buffer): { bytes: Buffer; field: string; op: string } {
  const e: LogEntry = decodeLogEntry(bytes);
  const big = (s: string): bigint => BigInt(s);
  const field = rng.pick(['logIndex', 'logId', 'kindVersion', 'integratedTime', 'set', 'proof', 'proof.logIndex', 'proof.rootHash', 'proof.treeSize', 'proof.hashes', 'checkpoint', 'body'] as const);
  let op = '';
  const nudge = (v: string): string => {
    const d = rng.pick([1n, -1n, 3600n, -3600n, 86400n * 365n, -big(v), 2n ** 62n, big(v)]);
    op = `${v} ${d >= 0n ? '+' : ''}${d}`;
    return (big(v) + d).toString();
  };
  switch (field) {
    case 'logIndex':
      e.logIndex = nudge(e.logIndex);
      break;
    case 'integratedTime':
      e.integratedTime = nudge(e.integratedTime);
      break;
    case 'logId': {
      const m = rng.chance(0.2) ? { value: Buffer.alloc(0), op: 'emptied' } : byteMutation(rng, Buffer.from(e.logId.keyId));
      e.logId = { keyId: m.value };
      op = m.op;
      break;
    }
    case 'kindVersion': {
      const choice = rng.pick([
        ['hashedrekord', '0.0.2'],
        ['hashedrekord', '0.0.3'],
        ['intoto', '0.0.1'],
        ['dsse', '0.0.1'],
        ['', ''],
        ['hashedrekord ', '0.0.1'],
        ['HASHEDREKORD', '0.0.1'],
      ]);
      e.kindVersion = { kind: choice[0], version: choice[1] };
      op = `${choice[0]}/${choice[1]}`;
      break;
    }
    case 'set':
      if (!e.inclusionPromise || rng.chance(0.4)) {
        e.inclusionPromise = undefined;
        op = 'SET removed';
      } else {
        const sig = Buffer.from(e.inclusionPromise.signedEntryTimestamp);
        const m = tryParseDer(sig) && rng.chance(0.5) ? derMutation(rng, sig) : byteMutation(rng, sig);
        e.inclusionPromise = { signedEntryTimestamp: m.value };
        op = `SET ${m.op}`;
      }
      break;
    case 'proof':
      e.inclusionProof = undefined;
      op = 'inclusion proof removed';
      if (rng.chance(0.3)) {
        e.inclusionPromise = undefined;
        op = 'inclusion proof and SET removed';
      }
      break;
    case 'body': {
      // encodeLogEntry leaves the body out (as gitsign does), so it is added on the wire.
      const junk = rng.chance(0.5) ? Buffer.from('{"junk":true}') : rng.bytes(rng.range(1, 64));
      return { bytes: writeProto([...readProto(encodeLogEntry(e)), { num: 7, wire: 2, bytes: junk }]), field, op: 'body field (7) added' };
    }
    default: {
      const proof = e.inclusionProof;
      if (!proof) {
        e.inclusionPromise = undefined;
        op = 'no proof; SET removed';
        break;
      }
      if (field === 'proof.logIndex') proof.logIndex = nudge(proof.logIndex);
      else if (field === 'proof.treeSize') proof.treeSize = nudge(proof.treeSize);
      else if (field === 'proof.rootHash') {
        const m = byteMutation(rng, Buffer.from(proof.rootHash));
        proof.rootHash = m.value;
        op = m.op;
      } else if (field === 'proof.hashes') {
        const hs: Buffer[] = proof.hashes.map((h) => Buffer.from(h));
        const r = rng.int(6);
        const i = hs.length ? rng.int(hs.length) : 0;
        if (r === 0 && hs.length) (hs.splice(i, 1), (op = `hash ${i} removed`));
        else if (r === 1) (hs.splice(i, 0, rng.bytes(32)), (op = `random hash inserted @${i}`));
        else if (r === 2 && hs.length > 1) {
          const j = (i + 1) % hs.length;
          [hs[i], hs[j]] = [hs[j], hs[i]];
          op = `hashes ${i} and ${j} swapped`;
        } else if (r === 3 && hs.length) {
          const m = byteMutation(rng, hs[i]);
          hs[i] = m.value;
          op = `hash ${i} ${m.op}`;
        } else if (r === 4) (hs.length = 0, (op = 'all hashes removed'));
        else (hs.push(hs[hs.length - 1] ?? rng.bytes(32)), (op = 'last hash duplicated'));
        proof.hashes = hs as typeof proof.hashes;
      } else {
        // checkpoint
        if (!proof.checkpoint || rng.chance(0.15)) {
          proof.checkpoint = undefined;
          op = 'checkpoint removed';
        } else {
          const m = checkpointMutation(rng, proof.checkpoint.envelope);
          proof.checkpoint = { envelope: m.value };
          op = m.op;
        }
      }
    }
  }
  return { bytes: encodeLogEntry(e), field, op };
}

export function checkpointMutation(rng: Rng, text: string): Mutant<string> {
  const blank = text.indexOf('\n\n');
  const body = text.slice(0, blank + 1).split('\n').slice(0, -1);
  const sigs = text.slice(blank + 2).split('\n').filter((l) => l.length > 0);
  const join = (b: string[], s: string[]): string => `${b.join('\n')}\n\n${s.map((l) => `${l}\n`).join('')}`;
  const r = rng.int(10);
  switch (r) {
    case 0: {
      const b = [...body];
      b[0] = `${b[0]}${rng.pick(['x', ' ', ''])}`.replace(/^(.)/, (c) => (rng.chance(0.5) ? c : c.toUpperCase()));
      if (b[0] === body[0]) b[0] = `other-${b[0]}`;
      return { value: join(b, sigs), op: 'checkpoint origin changed' };
    }
    case 1: {
      const b = [...body];
      b[1] = String(BigInt(b[1] ?? '0') + rng.pick([1n, -1n]));
      return { value: join(b, sigs), op: 'checkpoint tree size changed' };
    }
    case 2: {
      const b = [...body];
      const m = byteMutation(rng, Buffer.from(b[2] ?? '', 'base64'));
      b[2] = m.value.toString('base64');
      return { value: join(b, sigs), op: `checkpoint root hash ${m.op}` };
    }
    case 3:
      return { value: join([...body, 'fuzz-extension-line'], sigs), op: 'checkpoint extension line added' };
    case 4: {
      const i = rng.int(Math.max(1, sigs.length));
      const s = [...sigs];
      const m = /^(\u2014 \S+ )(\S+)$/.exec(s[i] ?? '');
      if (m) {
        const mut = byteMutation(rng, Buffer.from(m[2], 'base64'));
        s[i] = m[1] + mut.value.toString('base64');
      }
      return { value: join(body, s), op: `checkpoint signature ${i} bytes changed` };
    }
    case 5:
      return { value: join(body, []), op: 'checkpoint signatures removed' };
    case 6: {
      const foreign = `\u2014 cosigner.example ${Buffer.concat([Buffer.from([1, 2, 3, 4]), rng.bytes(64)]).toString('base64')}`;
      return { value: join(body, rng.chance(0.5) ? [...sigs, foreign] : [foreign, ...sigs]), op: 'foreign cosignature line added' };
    }
    case 7:
      return { value: join(body, [...sigs, ...sigs]), op: 'checkpoint signature duplicated' };
    case 8:
      return { value: text.replace(/\n/g, '\r\n'), op: 'checkpoint CRLF' };
    default: {
      const m = textMutation(rng, text);
      return { value: m.value, op: `checkpoint text ${m.op}` };
    }
  }
}

function entryWireMutation(rng: Rng, bytes: Buffer): { bytes: Buffer; op: string } {
  const fields = readProto(bytes);
  const r = rng.int(8);
  const i = rng.int(fields.length);
  switch (r) {
    case 0: {
      const num = rng.pick([8, 9, 15, 16, 100, 536870911]);
      const f: PField = rng.chance(0.5) ? { num, wire: 0, int: BigInt(rng.u32()) } : { num, wire: 2, bytes: rng.bytes(rng.range(0, 20)) };
      const copy = [...fields];
      copy.splice(rng.int(copy.length + 1), 0, f);
      return { bytes: writeProto(copy), op: `unknown field ${num} (wire ${f.wire}) added` };
    }
    case 1: {
      const copy = [...fields];
      copy.splice(i, 0, fields[i]);
      return { bytes: writeProto(copy), op: `field ${fields[i].num} duplicated` };
    }
    case 2: {
      const copy = [...fields].reverse();
      return { bytes: writeProto(copy), op: 'fields in reverse order' };
    }
    case 3: {
      const f = fields[i];
      const nf: PField = f.wire === 0 ? { num: f.num, wire: 2, bytes: varint(f.int ?? 0n) } : { num: f.num, wire: 0, int: BigInt(f.bytes?.length ?? 0) };
      const copy = [...fields];
      copy[i] = nf;
      return { bytes: writeProto(copy), op: `field ${f.num} wire type ${f.wire} -> ${nf.wire}` };
    }
    case 4: {
      // A non-minimal varint (same value, padded with 0x80 bytes): proto readers accept it.
      const f = fields.find((x) => x.wire === 0);
      if (!f) break;
      const parts = fields.map((x) => {
        if (x !== f) return writeProto([x]);
        const v = varint(f.int ?? 0n);
        const padded = Buffer.concat([Buffer.from(v.subarray(0, -1).map((b) => b)), Buffer.from([v[v.length - 1] | 0x80, 0x80, 0x00])]);
        return Buffer.concat([varint((BigInt(f.num) << 3n) | 0n), padded]);
      });
      return { bytes: Buffer.concat(parts), op: `field ${f.num} varint padded` };
    }
    case 5: {
      const copy = fields.filter((_, j) => j !== i);
      return { bytes: writeProto(copy), op: `field ${fields[i].num} removed` };
    }
    case 6: {
      // Inside a sub-message: one of its fields removed or duplicated.
      const subs = fields.map((f, j) => ({ f, j })).filter(({ f }) => f.wire === 2 && [2, 3, 5, 6].includes(f.num));
      if (!subs.length) break;
      const { f, j } = rng.pick(subs);
      const inner = readProto(f.bytes!);
      const k = rng.int(inner.length);
      const edited = rng.chance(0.5) ? inner.filter((_, x) => x !== k) : [...inner.slice(0, k + 1), inner[k], ...inner.slice(k + 1)];
      const copy = [...fields];
      copy[j] = { ...f, bytes: writeProto(edited) };
      return { bytes: writeProto(copy), op: `field ${f.num}.${inner[k]?.num} ${edited.length < inner.length ? 'removed' : 'duplicated'}` };
    }
  }
  const m = byteMutation(rng, bytes);
  return { bytes: m.value, op: `protobuf bytes ${m.op}` };
}

// -- certificates --

function certMutation(rng: Rng, cert: Node, certDer: Buffer): { der: Buffer; region: string; op: string } {
  const regions = certRegions(cert);
  const region = rng.pick(regions);
  const r = rng.int(10);
  const extPath = region.name.startsWith('ext.') ? region.path : undefined;
  if (extPath && r < 4) {
    const edit = toEdit(cert);
    const extsParent = at(edit, extPath.slice(0, -1))!;
    const idx = extPath[extPath.length - 1];
    const ext = extsParent.children![idx];
    const hasCritical = ext.children!.length === 3;
    switch (r) {
      case 0:
        if (hasCritical) ext.children!.splice(1, 1);
        else ext.children!.splice(1, 0, { id: Buffer.from([0x01]), content: Buffer.from([0xff]) });
        return { der: encode(edit), region: region.name, op: hasCritical ? 'critical flag removed' : 'marked critical' };
      case 1:
        ext.children![0] = { id: Buffer.from([0x06]), content: oidContent(rng.pick(['1.2.3.4.5.6', '2.5.29.99', '1.3.6.1.4.1.57264.1.99'])) };
        if (!hasCritical && rng.chance(0.7)) ext.children!.splice(1, 0, { id: Buffer.from([0x01]), content: Buffer.from([0xff]) });
        return { der: encode(edit), region: region.name, op: `extension OID changed${ext.children!.length === 3 ? ' (critical)' : ''}` };
      case 2:
        extsParent.children!.splice(idx, 0, structuredClone(ext));
        return { der: encode(edit), region: region.name, op: 'extension duplicated' };
      default:
        extsParent.children!.splice(idx, 1);
        return { der: encode(edit), region: region.name, op: 'extension removed' };
    }
  }
  if (region.name === 'ext.subjectAltName' && r < 6) {
    // A byte with the high bit set inside the SAN value (reads as plain ASCII if stripped).
    const { all } = elements(certDer);
    const san = all.find((e) => e.path.length === region.path.length + 2 && region.path.every((v, i) => v === e.path[i]) && e.node.id[0] === 0x04);
    const strings = san ? all.filter((e) => e.node.start > san.node.cStart && e.node.end <= san.node.cEnd && !e.node.constructed) : [];
    const s = strings.length ? rng.pick(strings) : undefined;
    if (s && s.node.cEnd > s.node.cStart) {
      const b = Buffer.from(certDer);
      const pos = rng.range(s.node.cStart, s.node.cEnd - 1);
      b[pos] = rng.pick([b[pos] | 0x80, 0x00, 0x0a, 0x1b, 0x40]);
      return { der: b, region: region.name, op: `SAN byte @${pos} set to ${b[pos].toString(16)}` };
    }
  }
  const { all } = elements(certDer);
  const within = all.find((e) => e.path.length === region.path.length && e.path.every((v, i) => v === region.path[i]));
  const m = rng.chance(0.2) && within ? structuralEdit(rng, certDer, parseDer(certDer), region.path) : derMutation(rng, certDer, within);
  return { der: m.value, region: region.name, op: m.op };
}

/** The certificate with its (possibly mutated) body re-signed by the sandbox CA. */
function resignCertificate(certDer: Buffer, sign: NonNullable<ObjectSubject['resign']>['sign']): Buffer | undefined {
  const cert = tryParseDer(certDer);
  const tbs = cert?.children?.[0];
  if (!cert || !tbs) return undefined;
  const tbsDer = certDer.subarray(tbs.start, tbs.end);
  const { algorithm, signature } = sign(tbsDer);
  return tlv(0x30, Buffer.concat([tbsDer, algorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature]))]));
}

/**
 * What Go's x509.Verify and Fulcio's rules refuse in a certificate the trusted CA did sign (finding
 * 9): a re-signed mutant breaking one of these must be refused.
 */
export function x509PolicyProblems(certDer: Buffer, committerEmail: string): string[] {
  const problems: string[] = [];
  const cert = tryParseDer(certDer);
  const tbs = cert?.children?.[0]?.children;
  if (!cert || !tbs) return ['certificate does not parse'];
  const off = isCtx(tbs[0], 0) ? 1 : 0;
  const inner = tbs[off + 1];
  const outer = cert.children?.[1];
  if (!inner || !outer || !certDer.subarray(inner.start, inner.end).equals(certDer.subarray(outer.start, outer.end))) problems.push('inner and outer signature algorithms differ');
  const exts = tbs.find((n) => isCtx(n, 3))?.children?.[0]?.children ?? [];
  const seen = new Set<string>();
  let ku: Node | undefined;
  let eku: Node | undefined;
  let san: Node | undefined;
  for (const e of exts) {
    const oid = e.children?.[0] ? oidString(e.children[0].content) : '';
    if (seen.has(oid)) problems.push(`extension ${oid} twice`);
    seen.add(oid);
    const critical = e.children?.length === 3 && e.children[1].id[0] === 0x01 && e.children[1].content[0] !== 0;
    const value = e.children?.[e.children.length - 1];
    // The extensions Go's x509 handles; any other marked critical makes x509.Verify fail.
    const handled = ['2.5.29.14', '2.5.29.15', '2.5.29.17', '2.5.29.19', '2.5.29.30', '2.5.29.31', '2.5.29.32', '2.5.29.33', '2.5.29.35', '2.5.29.36', '2.5.29.37', '2.5.29.54', '1.3.6.1.5.5.7.1.1'];
    if (critical && !handled.includes(oid)) problems.push(`unknown critical extension ${oid}`);
    if (oid === '2.5.29.15') ku = value;
    if (oid === '2.5.29.37') eku = value;
    if (oid === '2.5.29.17') san = value;
  }
  if (ku) {
    const bits = tryParseDer(ku.content);
    // BIT STRING: unused-bits octet, then digitalSignature is the top bit of the first octet.
    if (!bits || bits.content.length < 2 || !(bits.content[1] & 0x80)) problems.push('keyUsage lacks digitalSignature');
  }
  if (eku) {
    const list = tryParseDer(eku.content);
    if (!list?.children?.some((o) => oidString(o.content) === '1.3.6.1.5.5.7.3.3')) problems.push('extKeyUsage lacks codeSigning');
  } else {
    problems.push('no extKeyUsage');
  }
  const names = san ? tryParseDer(san.content) : undefined;
  if (!names?.children?.length) problems.push('no subjectAltName');
  const emails: string[] = [];
  for (const n of names?.children ?? []) {
    if (n.constructed) continue;
    if ([...n.content].some((b) => b < 0x20 || b > 0x7e)) problems.push('SAN is not printable IA5');
    if (n.tagNumber === 1) emails.push(n.content.toString('latin1'));
  }
  if (!emails.includes(committerEmail)) problems.push(`certificate email is not the committer's ${committerEmail}`);
  return problems;
}

// ---- the case ----

export async function verifyObject(s: ObjectSubject, raw: Buffer, settings = s.settings): Promise<Outcome> {
  try {
    const out = await verifyGitObject({ sha: 'fuzz', type: s.type, raw }, settings, s.identity);
    if ('ok' in out) return { kind: 'accepted' };
    return { kind: 'rejected', code: out.error.code, message: out.error.message };
  } catch (err) {
    return { kind: 'thrown', name: (err as Error)?.constructor?.name ?? 'unknown', message: (err as Error)?.message ?? String(err) };
  }
}

export async function objectCase(rng: Rng, subjects: ObjectSubject[]): Promise<CaseReport> {
  const s = rng.pick(subjects);
  const p = prepare(s);
  const hasEntry = p.layout.rekorValue !== undefined;
  const hasTsa = p.layout.tsaValues.length > 0;
  const target = rng.weighted([
    [12, 'payload'],
    [5, 'header-bytes'],
    [7, 'armor'],
    [30, 'der'],
    [hasEntry ? 14 : 0, 'rekor-field'],
    [hasEntry ? 6 : 0, 'rekor-wire'],
    [14, 'cert'],
    [s.resign ? 10 : 0, 'cert-resigned'],
    [hasTsa ? 10 : 0, 'tsa'],
  ] as const);
  let raw: Buffer;
  let cls: string;
  let op: string;
  let settings = s.settings;
  let resigned: Buffer | undefined;
  switch (target) {
    case 'payload': {
      const m = payloadMutation(rng, p);
      raw = m.value;
      cls = 'payload';
      op = m.op;
      break;
    }
    case 'header-bytes': {
      const m = byteMutation(rng, s.raw, p.sigStart, p.sigEnd);
      raw = m.value;
      cls = 'signature-header-bytes';
      op = m.op;
      break;
    }
    case 'armor': {
      const m = armorMutation(rng, p);
      raw = withSignatureText(p, m.text);
      cls = 'armor';
      op = m.op;
      break;
    }
    case 'der': {
      const m = derRegionMutation(rng, p);
      raw = withSignatureText(p, pemOf(m.der));
      cls = `der:${m.region}`;
      op = m.op;
      break;
    }
    case 'rekor-field':
    case 'rekor-wire': {
      const path = p.layout.rekorValue!;
      const value = at(p.layout.root, path)!;
      const m: { bytes: Buffer; op: string; field?: string } = target === 'rekor-field' ? entryFieldMutation(rng, value.content) : entryWireMutation(rng, value.content);
      raw = withSignatureText(p, pemOf(replaceAt(p.der, path, { id: Buffer.from([0x04]), content: m.bytes })));
      cls = `rekor:${m.field ?? 'wire'}`;
      op = m.op;
      break;
    }
    case 'cert':
    case 'cert-resigned': {
      const certs = p.layout.certs;
      const c = target === 'cert-resigned' || rng.chance(0.8) ? (certs.find((x) => x.signer) ?? certs[0]) : rng.pick(certs);
      const certDer = p.der.subarray(c.node.start, c.node.end);
      const m = certMutation(rng, c.node, certDer);
      let der = m.der;
      if (target === 'cert-resigned') {
        resigned = resignCertificate(der, s.resign!.sign);
        if (resigned) der = resigned;
        settings = s.resign!.settings;
      }
      raw = withSignatureText(p, pemOf(replaceAt(p.der, c.path, asEdit(der))));
      cls = `${target === 'cert-resigned' ? 'cert-resigned' : c.signer ? 'cert' : 'cert-other'}:${m.region}`;
      op = m.op;
      break;
    }
    case 'tsa': {
      const path = rng.pick(p.layout.tsaValues);
      const token = at(p.layout.root, path)!;
      const tokenDer = p.der.subarray(token.start, token.end);
      const tl = cmsLayout(tokenDer);
      let mutated: Buffer;
      let region: string;
      const eci = at(tl.root, [1, 0, 2, 1, 0]);
      if (eci && rng.chance(0.3)) {
        // Inside TSTInfo (the signed content): parsed and mutated as DER of its own.
        const m = tryParseDer(eci.content) ? derMutation(rng, eci.content) : byteMutation(rng, eci.content);
        mutated = replaceAt(tokenDer, [1, 0, 2, 1, 0], { id: Buffer.from([0x04]), content: m.value });
        region = 'tstInfo';
        op = m.op;
      } else {
        const r = rng.pick([...tl.regions, { name: 'whole', path: [] as number[] }]);
        const { all } = elements(tokenDer);
        const within = all.find((e) => e.path.length === r.path.length && e.path.every((v, i) => v === r.path[i]));
        const m = r.name === 'whole' ? derMutation(rng, tokenDer) : derMutation(rng, tokenDer, within);
        mutated = m.value;
        region = r.name;
        op = m.op;
      }
      raw = withSignatureText(p, pemOf(replaceAt(p.der, path, asEdit(mutated))));
      cls = `tsa:${region}`;
      break;
    }
  }
  const outcome = await verifyObject(s, raw, settings);
  const report: CaseReport = { family: 'object', cls: `${s.kind}/${cls}`, subject: s.name, op, outcome, artifact: { ext: s.type, bytes: raw } };
  if (outcome.kind === 'accepted') {
    if (target === 'cert-resigned') {
      const leaf = resigned ?? Buffer.alloc(0);
      const problems = x509PolicyProblems(leaf, s.resign!.committerEmail);
      report.verdict = problems.length ? { critical: problems.map((x) => `x509: ${x}`), allowed: [] } : { critical: [], allowed: ['cert-resigned-valid'] };
    } else {
      const v = compare(p.sem, objectSemantics(s.type, raw));
      if (target === 'armor' && v.allowed.length === 1 && v.allowed[0] === 'encoding-only') v.allowed = ['armor-layout'];
      report.verdict = v;
    }
  }
  return report;
}

