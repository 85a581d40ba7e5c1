import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { parseSignedData, type SignerInfo } from '../src/cms/signedData';
import type { ObjectType } from '../src/git/rawobj';
import { decodeLogEntry, encodeLogEntry, type LogEntry } from '../src/rekor/tlogEntry';
import { TempRepo } from './helpers/gitRepo';
import { flipByte, parseJsonLines, readCorpus, signatureDer, uniqueOffset, withSignature, type JsonLine } from './helpers/corpus';
import { sharedMissing } from './helpers/paths';

/**
 * Real signatures, changed one byte at a time in each part that matters, then verified as git stores
 * them. Each change must be caught, with the reason that names the part that was changed, never a crash.
 */
const EMBEDDED_COMMIT = 'sigstore__gitsign/ac15fa730306fb4cc6839e6345cfd924e1517f7b.commit';
const EMBEDDED_TAG = 'sigstore__gitsign/f6a73d9c2b84ee0b46598600c14007f41fa7a6ac.tag';
const ONLINE_COMMIT = 'sigstore__fulcio/31e0d52a304ff1af782b4560f2b31e0ff9acce49.commit';
const ANY_IDENTITY = ['--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];
const REKOR_ENTRY_OID = '1.3.6.1.4.1.57264.3.1';

interface Source {
  type: ObjectType;
  raw: Buffer;
  der: Buffer;
  payload: Buffer;
  si: SignerInfo;
  cert: Buffer;
}

function load(file: string): Source {
  const type: ObjectType = file.endsWith('.tag') ? 'tag' : 'commit';
  const raw = readCorpus(file);
  const { der, payload } = signatureDer(type, raw);
  const sd = parseSignedData(der);
  assert.equal(sd.certificates.length, 1);
  return { type, raw, der, payload, si: sd.signers[0], cert: sd.certificates[0] };
}

/** The object re-signed with `der` edited by `edit` (offsets found by searching the DER, never fixed). */
function editSignature(src: Source, edit: (der: Buffer) => Buffer): Buffer {
  return withSignature(src.type, src.raw, edit(src.der));
}

function flipIn(der: Buffer, needle: Buffer, what: string, indexInNeedle: number, mask = 0x01): Buffer {
  const at = uniqueOffset(der, needle, what);
  const i = indexInNeedle < 0 ? needle.length + indexInNeedle : indexInNeedle;
  return flipByte(der, at + i, mask);
}

/** Flips a byte of the signed (certificate) area at an offset relative to the certificate. */
function flipInCert(src: Source, der: Buffer, find: (cert: Buffer) => number): Buffer {
  const certAt = uniqueOffset(der, src.cert, 'certificate');
  return flipByte(der, certAt + find(src.cert));
}

/** The embedded TransparencyLogEntry, edited and re-encoded in place (same length, so no DER length changes). */
function editLogEntry(src: Source, der: Buffer, edit: (e: LogEntry) => void): Buffer {
  const attr = src.si.unsignedAttrs.find((a) => a.oid === REKOR_ENTRY_OID);
  assert.ok(attr, 'the source has an embedded log entry');
  const original = attr.values[0].content;
  const entry = decodeLogEntry(original);
  assert.ok(encodeLogEntry(entry).equals(original), 'the entry re-encodes byte for byte (Go proto.Marshal order)');
  edit(entry);
  const edited = encodeLogEntry(entry);
  assert.equal(edited.length, original.length, 'edit keeps the protobuf length');
  assert.ok(!edited.equals(original), 'edit changed the entry');
  const at = uniqueOffset(der, original, 'log entry');
  return Buffer.concat([der.subarray(0, at), edited, der.subarray(at + original.length)]);
}

const flipBuf = (b: Buffer, i: number): Buffer => flipByte(b, i < 0 ? b.length + i : i);

/** Offset of the n-th (0-based) UTCTime (tag 0x17, length 13) in a DER buffer. */
function utcTimeOffset(buf: Buffer, n: number): number {
  let at = -1;
  for (let k = 0; k <= n; k++) {
    at = buf.indexOf(Buffer.from([0x17, 0x0d]), at + 1);
    assert.notEqual(at, -1, `UTCTime #${n}`);
  }
  return at;
}

/** A payload byte flipped inside the message (a letter stays a letter: 0x20 toggles case). */
function flipPayload(raw: Buffer, needle: string, index = 0): Buffer {
  return flipByte(raw, uniqueOffset(raw, needle, `"${needle}"`) + index, 0x20);
}

interface Case {
  name: string;
  raw: Buffer;
  type: ObjectType;
  codes: string[];
  message?: RegExp;
}

function run(repo: TempRepo, cases: Case[], flags: string[]): Map<string, JsonLine> {
  const shas = cases.map((c) => repo.importBytes(c.raw, c.type));
  assert.equal(new Set(shas).size, shas.length, 'every case is a distinct object');
  const r = repo.gitsign(['verify', '--stdin', '--json', ...flags], shas.join('\n'));
  assert.equal(r.stderr, '', 'no crash output');
  const lines = parseJsonLines(r.stdout);
  assert.deepEqual(lines.map((l) => l.object), shas);
  const byName = new Map<string, JsonLine>();
  cases.forEach((c, i) => byName.set(c.name, lines[i]));
  assert.equal(r.status, cases.every((c) => c.codes.length === 0) ? 0 : 1);
  return byName;
}

function check(cases: Case[], results: Map<string, JsonLine>): void {
  const wrong: string[] = [];
  for (const c of cases) {
    const l = results.get(c.name)!;
    const code = l.verified ? 'VERIFIED' : l.error!.code;
    const ok = c.codes.length === 0 ? l.verified : c.codes.includes(code) && (!c.message || c.message.test(l.error!.message));
    if (!ok) wrong.push(`${c.name}: expected ${c.codes.join('|') || 'VERIFIED'}${c.message ? ` ${c.message}` : ''}, got ${code} ${l.error?.message ?? ''}`);
  }
  assert.deepEqual(wrong, []);
}

describe('tampered signatures are caught with the right reason', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  let commit: Source;
  let tag: Source;
  let online: Source;

  before(() => {
    repo = new TempRepo();
    commit = load(EMBEDDED_COMMIT);
    tag = load(EMBEDDED_TAG);
    online = load(ONLINE_COMMIT);
    // The rewrite helper is exact: an unedited signature gives back the original object.
    for (const s of [commit, tag, online]) assert.ok(withSignature(s.type, s.raw, s.der).equals(s.raw));
  });

  after(() => repo?.remove());

  test('embedded-entry objects (--offline: the log entry is checked): payload, signed attributes, signature, log entry', () => {
    const c = commit;
    const t = tag;
    const digestOf = (s: Source) => createHash('sha256').update(s.payload).digest();
    const signedAttrsBody = (s: Source) => s.si.signedAttrsDer.subarray(1); // without the re-tagged first byte
    const cases: Case[] = [
      { name: 'control: commit', type: 'commit', raw: c.raw, codes: [] },
      { name: 'control: tag', type: 'tag', raw: t.raw, codes: [] },
      { name: 'payload: commit message', type: 'commit', raw: flipPayload(c.raw, 'Add hidden'), codes: ['CONTENT_MISMATCH'], message: /message digest differs/ },
      { name: 'payload: author header', type: 'commit', raw: flipPayload(c.raw, 'author Billy', 7), codes: ['CONTENT_MISMATCH'] },
      { name: 'payload: tag message', type: 'tag', raw: flipPayload(t.raw, '\n\nv0.17.1\n', 2), codes: ['CONTENT_MISMATCH'] },
      { name: 'payload: tag target', type: 'tag', raw: flipByte(t.raw, 'object '.length, 0x01), codes: ['CONTENT_MISMATCH'] },
      {
        name: 'signed attributes: signingTime digit',
        type: 'commit',
        raw: editSignature(c, (der) => {
          const sa = uniqueOffset(der, signedAttrsBody(c), 'signed attributes') - 1;
          return flipByte(der, sa + utcTimeOffset(signedAttrsBody(c), 0) + 1 + 2 + 11); // a seconds digit
        }),
        codes: ['SIGNATURE_INVALID'],
      },
      { name: 'signed attributes: messageDigest', type: 'commit', raw: editSignature(c, (der) => flipIn(der, digestOf(c), 'message digest', 7)), codes: ['CONTENT_MISMATCH', 'SIGNATURE_INVALID'] },
      { name: 'signed attributes: tag messageDigest', type: 'tag', raw: editSignature(t, (der) => flipIn(der, digestOf(t), 'message digest', 31)), codes: ['CONTENT_MISMATCH', 'SIGNATURE_INVALID'] },
      { name: 'signature value: last byte', type: 'commit', raw: editSignature(c, (der) => flipIn(der, c.si.signature, 'signature', -1)), codes: ['SIGNATURE_INVALID'] },
      { name: 'signature value: inside r', type: 'tag', raw: editSignature(t, (der) => flipIn(der, t.si.signature, 'signature', 10, 0x80)), codes: ['SIGNATURE_INVALID'] },
      // The log entry's body is rebuilt from the certificate, so a changed certificate no longer matches it.
      { name: 'certificate: its signature (embedded entry)', type: 'commit', raw: editSignature(c, (der) => flipInCert(c, der, (cert) => cert.length - 1)), codes: ['TLOG', 'CERTIFICATE'] },
      {
        name: 'log entry: SET',
        type: 'commit',
        raw: editSignature(c, (der) => editLogEntry(c, der, (e) => (e.inclusionPromise!.signedEntryTimestamp = flipBuf(e.inclusionPromise!.signedEntryTimestamp, 20)))),
        codes: ['TLOG'],
        message: /transparency log entry does not verify/,
      },
      {
        name: 'log entry: SET (tag)',
        type: 'tag',
        raw: editSignature(t, (der) => editLogEntry(t, der, (e) => (e.inclusionPromise!.signedEntryTimestamp = flipBuf(e.inclusionPromise!.signedEntryTimestamp, -1)))),
        codes: ['TLOG'],
      },
      {
        name: 'log entry: inclusion-proof hash',
        type: 'commit',
        raw: editSignature(c, (der) => editLogEntry(c, der, (e) => (e.inclusionProof!.hashes[3] = flipBuf(e.inclusionProof!.hashes[3], 5)))),
        codes: ['TLOG'],
      },
      {
        name: 'log entry: proof root hash',
        type: 'commit',
        raw: editSignature(c, (der) => editLogEntry(c, der, (e) => (e.inclusionProof!.rootHash = flipBuf(e.inclusionProof!.rootHash, 0)))),
        codes: ['TLOG'],
        message: /root hash differs from its checkpoint/,
      },
      {
        name: 'log entry: proof tree size',
        type: 'tag',
        raw: editSignature(t, (der) => editLogEntry(t, der, (e) => (e.inclusionProof!.treeSize = String(BigInt(e.inclusionProof!.treeSize) + 1n)))),
        codes: ['TLOG'],
      },
      {
        name: 'log entry: checkpoint signature',
        type: 'commit',
        raw: editSignature(c, (der) =>
          editLogEntry(c, der, (e) => {
            const env = e.inclusionProof!.checkpoint!.envelope;
            const i = env.indexOf('\u2014 rekor.sigstore.dev ') + '\u2014 rekor.sigstore.dev '.length + 20;
            e.inclusionProof!.checkpoint!.envelope = env.slice(0, i) + (env[i] === 'A' ? 'B' : 'A') + env.slice(i + 1);
          }),
        ),
        codes: ['TLOG'],
      },
      {
        name: 'log entry: checkpoint tree size',
        type: 'tag',
        raw: editSignature(t, (der) =>
          editLogEntry(t, der, (e) => {
            const env = e.inclusionProof!.checkpoint!.envelope;
            const lines = env.split('\n');
            lines[1] = lines[1].slice(0, -1) + String((Number(lines[1].slice(-1)) + 1) % 10);
            e.inclusionProof!.checkpoint!.envelope = lines.join('\n');
          }),
        ),
        codes: ['TLOG'],
      },
      { name: 'log entry: log index', type: 'commit', raw: editSignature(c, (der) => editLogEntry(c, der, (e) => (e.logIndex = String(BigInt(e.logIndex) + 1n)))), codes: ['TLOG'] },
      {
        name: 'log entry: integrated time (backdated)',
        type: 'commit',
        raw: editSignature(c, (der) => editLogEntry(c, der, (e) => (e.integratedTime = String(BigInt(e.integratedTime) - 3600n)))),
        codes: ['TLOG'],
      },
      {
        name: 'log entry: protobuf garbage',
        type: 'commit',
        raw: editSignature(c, (der) => {
          const attr = c.si.unsignedAttrs.find((a) => a.oid === REKOR_ENTRY_OID)!;
          return flipIn(der, attr.values[0].content, 'log entry', 0, 0x07); // field 1 varint -> wire type 7
        }),
        codes: ['MALFORMED_SIGNATURE'],
        message: /embedded log entry/,
      },
      {
        name: 'object: duplicated gpgsig header',
        type: 'commit',
        raw: (() => {
          const start = c.raw.indexOf('\ngpgsig ') + 1;
          const end = c.raw.indexOf('-----END SIGNED MESSAGE-----\n', start) + '-----END SIGNED MESSAGE-----\n'.length;
          return Buffer.concat([c.raw.subarray(0, end), c.raw.subarray(start, end), c.raw.subarray(end)]);
        })(),
        codes: ['MALFORMED_OBJECT'],
        message: /duplicate gpgsig/,
      },
      {
        name: 'PEM: invalid base64',
        type: 'commit',
        raw: (() => {
          const at = c.raw.indexOf('\n ', c.raw.indexOf('-----BEGIN SIGNED MESSAGE-----')) + 10;
          const copy = Buffer.from(c.raw);
          copy[at] = '!'.charCodeAt(0);
          return copy;
        })(),
        codes: ['MALFORMED_SIGNATURE'],
      },
      { name: 'DER: truncated', type: 'commit', raw: editSignature(c, (der) => der.subarray(0, der.length - 40)), codes: ['MALFORMED_SIGNATURE'] },
      { name: 'DER: outer tag', type: 'commit', raw: editSignature(c, (der) => flipByte(der, 0, 0x02)), codes: ['MALFORMED_SIGNATURE'] },
      { name: 'DER: signedData OID', type: 'tag', raw: editSignature(t, (der) => flipByte(der, 14)), codes: ['MALFORMED_SIGNATURE'] },
    ];
    check(cases, run(repo, cases, ['--offline', ...ANY_IDENTITY]));
  });

  test('online-mode commit (--insecure-ignore-tlog): certificate edits fail as certificate or signature errors', () => {
    const o = online;
    const spkiPoint = (cert: Buffer) => uniqueOffset(cert, Buffer.from('03420004', 'hex'), 'EC point') + 4;
    const cases: Case[] = [
      { name: 'control', type: 'commit', raw: o.raw, codes: [] },
      { name: 'payload', type: 'commit', raw: flipByte(o.raw, o.raw.length - 2, 0x20), codes: ['CONTENT_MISMATCH'] },
      { name: 'certificate: its signature', type: 'commit', raw: editSignature(o, (der) => flipInCert(o, der, (cert) => cert.length - 1)), codes: ['CERTIFICATE'], message: /not trusted/ },
      { name: 'certificate: notAfter', type: 'commit', raw: editSignature(o, (der) => flipInCert(o, der, (cert) => utcTimeOffset(cert, 1) + 2 + 3)), codes: ['CERTIFICATE', 'MALFORMED_CERTIFICATE'] },
      { name: 'certificate: SAN email', type: 'commit', raw: editSignature(o, (der) => flipInCert(o, der, (cert) => uniqueOffset(cert, Buffer.from('billy@'), 'SAN'))), codes: ['CERTIFICATE'] },
      // A changed key no longer verifies the signer's signature (or is no longer a curve point at all).
      { name: 'certificate: public key x', type: 'commit', raw: editSignature(o, (der) => flipInCert(o, der, (cert) => spkiPoint(cert) + 5)), codes: ['SIGNATURE_INVALID', 'MALFORMED_CERTIFICATE', 'CERTIFICATE'] },
      { name: 'certificate: public key y', type: 'commit', raw: editSignature(o, (der) => flipInCert(o, der, (cert) => spkiPoint(cert) + 63)), codes: ['SIGNATURE_INVALID', 'MALFORMED_CERTIFICATE', 'CERTIFICATE'] },
      // The signer is found by issuer and serial: a changed serial means the signer's certificate is missing.
      {
        name: 'certificate: serial',
        type: 'commit',
        raw: editSignature(o, (der) => {
          const sid = o.si.sid as { serial: Buffer };
          const certAt = uniqueOffset(der, o.cert, 'certificate');
          const serialAt = der.indexOf(sid.serial, certAt);
          assert.ok(serialAt > certAt && serialAt < certAt + 20, 'serial inside the certificate TBS');
          return flipByte(der, serialAt + 5);
        }),
        codes: ['MALFORMED_SIGNATURE'],
        message: /signer certificate is not in the signature/,
      },
      { name: 'certificate: DER length', type: 'commit', raw: editSignature(o, (der) => flipInCert(o, der, () => 3)), codes: ['MALFORMED_SIGNATURE'] },
    ];
    check(cases, run(repo, cases, ['--offline', '--insecure-ignore-tlog', ...ANY_IDENTITY]));
  });

  test('a wrong identity or a wrong issuer is IDENTITY; the right ones verify', () => {
    const sha = repo.importBytes(commit.raw, 'commit');
    const cases: Array<{ flags: string[]; code: string | null; message?: RegExp }> = [
      { flags: ['--certificate-identity', 'billy@chainguard.dev', '--certificate-oidc-issuer', 'https://accounts.google.com'], code: null },
      { flags: ['--certificate-identity-regexp', '^billy@', '--certificate-oidc-issuer-regexp', 'google'], code: null },
      { flags: ['--certificate-identity', 'mallory@example.com', '--certificate-oidc-issuer', 'https://accounts.google.com'], code: 'IDENTITY', message: /mallory@example\.com/ },
      { flags: ['--certificate-identity', 'billy@chainguard.dev', '--certificate-oidc-issuer', 'https://github.com/login/oauth'], code: 'IDENTITY', message: /issuer/ },
      { flags: ['--certificate-identity-regexp', '^mallory', '--certificate-oidc-issuer-regexp', '.*'], code: 'IDENTITY' },
      { flags: ['--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', 'github'], code: 'IDENTITY' },
    ];
    for (const c of cases) {
      const r = repo.gitsign(['verify', '--json', '--offline', ...c.flags, sha]);
      const [l] = parseJsonLines(r.stdout);
      if (c.code === null) {
        assert.equal(l.verified, true, `${c.flags.join(' ')}: ${l.error?.message}`);
        assert.equal(r.status, 0);
      } else {
        assert.equal(l.error?.code, c.code, `${c.flags.join(' ')}: ${l.error?.code} ${l.error?.message}`);
        if (c.message) assert.match(l.error!.message, c.message);
        assert.equal(r.status, 1);
        // Everything else was fine: the report still names the signer.
        assert.deepEqual(l.identities, ['billy@chainguard.dev']);
      }
    }
  });
});
