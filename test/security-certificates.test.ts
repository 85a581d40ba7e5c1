import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { algorithm, bits, bool, explicit, implicitConstructed, implicitPrimitive, int, octets, oid, printable, seq, time, tlv, utf8 } from '../src/asn1/writer';
import { Der } from '../src/asn1/reader';
import { encodePem } from '../src/cms/pem';
import { parseSignedData } from '../src/cms/signedData';
import { GitsignError } from '../src/errors';
import type { ObjectType } from '../src/git/rawobj';
import { encodeExtension, ext, OIDS, spkiOf } from '../src/sandbox/x509/build';
import { materialFromJson } from '../src/trust/trustMaterial';
import { verifyCmsSignature, type VerifyOptions } from '../src/verify/signature';
import { TempRepo } from './helpers/gitRepo';
import { markShallow, parseJsonLines, readCorpus, signatureDer, withSignature, type JsonLine } from './helpers/corpus';
import { BIN, CORPUS, sharedMissing } from './helpers/paths';
import { ECDSA_SHA256, ECDSA_SHA384, extension, IDENTITY, ISSUER_URL, type LeafExtension, TestPki } from './helpers/testPki';

/**
 * Findings 5 and 9 of issue 10: malformed certificates and CMS give a stable code and a sentence (never
 * a JavaScript runtime message), and certificates are held to what Go's x509 parser and Verify require.
 * Real corpus signatures mutated byte by byte, bit by bit and truncated; and hostile certificates, each
 * wrong in one way only, issued by a private CA (with our DER writer, and with openssl as a real peer)
 * and verified through the whole path: `gitsign verify --json` and git's --verify.
 */
const ONLINE = 'sigstore__fulcio/31e0d52a304ff1af782b4560f2b31e0ff9acce49.commit';
const ROOT_ISSUED = 'sigstore__fulcio/e7d6192b6a480c16502566b46984f173b9be2737.commit';
const TWO_CERTS = 'sigstore__gitsign/693898196f6cc433165f67669057ee5b52ed5931.commit';
const TAG = 'sigstore__gitsign/a7c0f87e7d8f475cfe66d9c848b77cf3b85d860b.tag';
const EMBEDDED = 'sigstore__gitsign/ac15fa730306fb4cc6839e6345cfd924e1517f7b.commit';
const TRUST = join(CORPUS, 'trust', 'sigstore-go__public-good.json');

/** What a JavaScript runtime error (or an OpenSSL error string) looks like in a message. */
const RUNTIME = /Cannot read prop|undefined|Invalid time value|Invalid Date|RangeError|TypeError|is not a function|is not iterable|NaN|ERR_[A-Z_]{3,}|error:[0-9A-F]{8}|Maximum call stack/;
const CODES = new Set([
  'MALFORMED_SIGNATURE',
  'MALFORMED_CERTIFICATE',
  'UNSUPPORTED_SIGNATURE',
  'CONTENT_MISMATCH',
  'SIGNATURE_INVALID',
  'CERTIFICATE',
  'SCT',
  'TLOG',
  'TLOG_MISSING',
  'UNATTESTED_TIME',
  'TIMESTAMP',
  'IDENTITY',
]);

const typeOf = (file: string): ObjectType => (file.endsWith('.tag') ? 'tag' : 'commit');

/** A problem with one verification result, or null when it is a stated error (or an allowed success). */
function problem(what: string, err: unknown, mayVerify: boolean): string | null {
  if (err === null) return mayVerify ? null : `${what}: verified`;
  if (!(err instanceof GitsignError)) return `${what}: not a GitsignError: ${String(err)}`;
  if (!CODES.has(err.code)) return `${what}: code ${err.code}: ${err.message}`;
  if (RUNTIME.test(err.message)) return `${what}: runtime message: ${err.message}`;
  return null;
}

/** The CMS with its certificates replaced (the enclosing lengths re-encoded). */
function withCertificates(cms: Buffer, certs: Buffer[]): Buffer {
  const [contentType, content] = Der.parse(cms, 'test').children;
  const fields = content.children[0].children.map((f) => f.raw);
  const at = fields.findIndex((f) => f[0] === 0xa0);
  fields[at] = implicitConstructed(0, ...certs);
  return seq(contentType.raw, explicit(0, seq(...fields)));
}

interface Mutant {
  what: string;
  cms: Buffer;
  /** A mutant of a certificate that takes no part in trust (an extra intermediate) may still verify. */
  mayVerify: boolean;
}

/** Deterministic mutants of each certificate of a signature: byte and bit flips, and two kinds of truncation. */
function certificateMutants(cms: Buffer, signerIndex: number, dense: boolean): Mutant[] {
  const certs = parseSignedData(cms).certificates;
  const out: Mutant[] = [];
  certs.forEach((cert, index) => {
    const signer = index === signerIndex;
    const replace = (c: Buffer, what: string) => out.push({ what: `certificate ${index} ${what}`, cms: withCertificates(cms, certs.map((x, i) => (i === index ? c : x))), mayVerify: !signer });
    const flip = (at: number, mask: number) => {
      const c = Buffer.from(cert);
      c[at] ^= mask;
      replace(c, `byte ${at} ^ 0x${mask.toString(16)}`);
    };
    const step = signer && dense ? 1 : 3;
    for (let i = 0; i < cert.length; i += step) flip(i, signer ? 0xff : 0x80);
    if (!signer || !dense) return;
    for (let i = 0; i < cert.length; i++) flip(i, 0x01);
    for (let i = 0; i < 96; i++) for (let bit = 1; bit < 8; bit++) flip(i, 1 << bit);
    const body = Der.parse(cert, 'test').content;
    for (let n = 0; n < cert.length; n += 4) replace(cert.subarray(0, n), `cut to ${n} bytes`);
    for (let n = 0; n < body.length; n += 4) replace(seq(body.subarray(0, n)), `contents cut to ${n} bytes`);
  });
  return out;
}

/** Mutants of the CMS outside its certificates: every byte, and truncations. */
function cmsMutants(cms: Buffer): Mutant[] {
  const [cert] = parseSignedData(cms).certificates;
  const certAt = cms.indexOf(cert);
  const out: Mutant[] = [];
  for (let i = 0; i < cms.length; i++) {
    if (i >= certAt && i < certAt + cert.length) continue;
    const m = Buffer.from(cms);
    m[i] ^= 0xff;
    out.push({ what: `CMS byte ${i} ^ 0xff`, cms: m, mayVerify: false });
  }
  for (let n = 0; n < cms.length; n += 8) out.push({ what: `CMS cut to ${n} bytes`, cms: cms.subarray(0, n), mayVerify: false });
  return out;
}

async function outcome(payload: Buffer, cms: Buffer, opts: VerifyOptions): Promise<unknown> {
  try {
    await verifyCmsSignature(payload, Buffer.from(encodePem('SIGNED MESSAGE', cms)), opts);
    return null;
  } catch (err) {
    return err;
  }
}

describe('finding 5: mutated corpus certificates and CMS, through verifyCmsSignature', { skip: sharedMissing() }, () => {
  const trust = () => materialFromJson(JSON.parse(readFileSync(TRUST, 'utf8')), TRUST).material;

  async function check(sources: Array<{ file: string; ignoreSct: boolean; mutants: (cms: Buffer) => Mutant[] }>): Promise<Map<string, number>> {
    const material = trust();
    const problems: string[] = [];
    const codes = new Map<string, number>();
    for (const src of sources) {
      const { der, payload } = signatureDer(typeOf(src.file), readCorpus(src.file));
      const opts: VerifyOptions = { trust: material, ignoreTlog: true, ignoreSct: src.ignoreSct, identity: { kind: 'none' }, requireSignedMessageLabel: true };
      assert.equal(await outcome(payload, der, opts), null, `${src.file} verifies unchanged`);
      for (const m of src.mutants(der)) {
        const err = await outcome(payload, m.cms, opts);
        const p = problem(`${src.file} ${m.what}`, err, m.mayVerify);
        if (p) problems.push(p);
        const code = err instanceof GitsignError ? err.code : err === null ? 'VERIFIED' : 'OTHER';
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} mutants without a stated error`);
    return codes;
  }

  test('finding 5: every byte and low bit of a signer certificate, the first 96 bytes bit by bit, and truncations: a stated error, never a runtime message or a success', async () => {
    const codes = await check([{ file: ONLINE, ignoreSct: false, mutants: (cms) => certificateMutants(cms, 0, true) }]);
    // The mutations reach the certificate parser (not only the CMS one) and the chain check.
    assert.ok((codes.get('MALFORMED_CERTIFICATE') ?? 0) > 500, JSON.stringify([...codes]));
    assert.ok((codes.get('CERTIFICATE') ?? 0) > 500, JSON.stringify([...codes]));
  });

  test('finding 5: more signer certificates (issued by the root, a tag, one after an extra intermediate) and that intermediate', async () => {
    await check([
      { file: ROOT_ISSUED, ignoreSct: true, mutants: (cms) => certificateMutants(cms, 0, false) },
      { file: TAG, ignoreSct: false, mutants: (cms) => certificateMutants(cms, 0, false) },
      { file: TWO_CERTS, ignoreSct: false, mutants: (cms) => certificateMutants(cms, 1, false) },
    ]);
  });

  test('finding 5: every byte of the CMS around the certificate, and truncations: MALFORMED_SIGNATURE or another stated error', async () => {
    const codes = await check([{ file: ONLINE, ignoreSct: false, mutants: cmsMutants }]);
    assert.ok((codes.get('MALFORMED_SIGNATURE') ?? 0) > 100, JSON.stringify([...codes]));
  });
});

/** Runs `gitsign verify --stdin --json` over objects; returns one JSON line per object, in order. */
function verifyJson(repo: TempRepo, shas: string[], flags: string[], env: NodeJS.ProcessEnv = {}): JsonLine[] {
  const r = repo.gitsign(['verify', '--stdin', '--json', ...flags], `${shas.join('\n')}\n`, env);
  assert.equal(r.stderr, '', 'no stray stderr output in --json mode');
  const lines = parseJsonLines(r.stdout);
  assert.deepEqual(lines.map((l) => l.object), shas, 'one JSON line per object, in input order');
  return lines;
}

describe('finding 5: malformed certificates and CMS give per-object results on both verify paths', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  before(() => {
    repo = new TempRepo({ GITSIGN_OFFLINE: 'true' });
    repo.git('config', 'gpg.format', 'x509');
    repo.git('config', 'gpg.x509.program', BIN);
  });
  after(() => repo?.remove());

  /** Mutants of the embedded-entry commit (verifiable offline on git's path), each failing in parsing. */
  function mutants(): Array<{ name: string; raw: Buffer; code: string; message: RegExp }> {
    const raw = readCorpus(EMBEDDED);
    const { der } = signatureDer('commit', raw);
    const [cert] = parseSignedData(der).certificates;
    const certAt = der.indexOf(cert);
    const inCert = (edit: (c: Buffer) => void): Buffer => {
      const c = Buffer.from(cert);
      edit(c);
      return withSignature('commit', raw, Buffer.concat([der.subarray(0, certAt), c, der.subarray(certAt + cert.length)]));
    };
    const month = cert.indexOf(Buffer.from([0x17, 0x0d])) + 2 + 2; // notBefore YYMM: the month digits
    const email = cert.indexOf(Buffer.from('billy@'));
    const outerAlg = cert.lastIndexOf(Buffer.from('06082a8648ce3d0403', 'hex')) + 9; // the last OID byte
    const point = cert.indexOf(Buffer.from('03420004', 'hex')) + 4 + 40;
    const siVersion = der.indexOf(Buffer.from('020101', 'hex'), certAt + cert.length) + 2;
    return [
      { name: 'notBefore month 13', raw: inCert((c) => c.write('13', month, 'latin1')), code: 'MALFORMED_CERTIFICATE', message: /not a valid date and time/ },
      { name: 'SAN byte with the high bit set', raw: inCert((c) => (c[email + 1] |= 0x80)), code: 'MALFORMED_CERTIFICATE', message: /IA5String/ },
      { name: 'outer signature algorithm changed', raw: inCert((c) => (c[outerAlg] ^= 0x01)), code: 'MALFORMED_CERTIFICATE', message: /inner and outer signature algorithms differ/ },
      { name: 'public key off the curve', raw: inCert((c) => (c[point] ^= 0x01)), code: 'MALFORMED_CERTIFICATE', message: /public key/ },
      {
        name: 'signerInfo version 2',
        raw: withSignature('commit', raw, Buffer.concat([der.subarray(0, siVersion), Buffer.from([2]), der.subarray(siVersion + 1)])),
        code: 'MALFORMED_SIGNATURE',
        message: /signerInfo version 2/,
      },
      { name: 'CMS cut short', raw: withSignature('commit', raw, der.subarray(0, der.length - 100)), code: 'MALFORMED_SIGNATURE', message: /malformed signature/ },
    ];
  }

  test('finding 5: gitsign verify --stdin --json: one line per object with its code, the good objects around them verified', () => {
    const cases = mutants();
    const good = repo.importBytes(readCorpus(EMBEDDED), 'commit');
    const shas = cases.flatMap((c) => [repo.importBytes(c.raw, 'commit'), good]);
    const lines = verifyJson(repo, shas, ['--offline', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*']);
    const wrong: string[] = [];
    cases.forEach((c, i) => {
      const bad = lines[2 * i];
      if (bad.verified || bad.error?.code !== c.code || !c.message.test(bad.error.message) || RUNTIME.test(bad.error.message)) {
        wrong.push(`${c.name}: ${bad.verified ? 'verified' : `${bad.error?.code} ${bad.error?.message}`}`);
      }
      if (!lines[2 * i + 1].verified) wrong.push(`good object after ${c.name}: ${lines[2 * i + 1].error?.message}`);
    });
    assert.deepEqual(wrong, []);
  });

  test("finding 5: git's --verify path (verify-commit, log %G?): ERRSIG and the sentence for each malformed object, G for the good one", () => {
    const cases = mutants();
    const good = repo.importBytes(readCorpus(EMBEDDED), 'commit');
    const shas = cases.map((c) => repo.importBytes(c.raw, 'commit'));
    markShallow(repo, [good, ...shas]);
    const status = repo.git('log', '--no-walk=unsorted', '--format=%H %G?', good, ...shas).trim().split('\n');
    assert.deepEqual(status, [`${good} G`, ...shas.map((s) => `${s} E`)]);
    cases.forEach((c, i) => {
      const raw = repo.gitResult(['verify-commit', '--raw', shas[i]]);
      assert.equal(raw.status, 1, c.name);
      assert.match(raw.stderr, /\[GNUPG:\] ERRSIG /, c.name);
      const r = repo.gitResult(['verify-commit', shas[i]]);
      assert.equal(r.status, 1, c.name);
      const said = r.stderr.split('\n').find((l) => l.startsWith('gitsign: ')) ?? '';
      assert.match(said, c.message, `${c.name}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, RUNTIME, c.name);
    });
  });
});

interface Case {
  name: string;
  cert: Buffer;
  /** null: must verify. */
  code: string | null;
  message?: RegExp;
}

/** Hostile certificates from a private CA, each in a signed commit, through `gitsign verify --json`. */
describe('findings 5 and 9: hostile certificates issued by a trusted CA', () => {
  let repo: TempRepo;
  let dir: string;
  let pki: TestPki;
  let trustedRoot: string;
  const ca: Record<string, ReturnType<TestPki['intermediate']>> = {};
  let n = 0;

  before(() => {
    repo = new TempRepo();
    dir = mkdtempSync(join(tmpdir(), 'gitsign-pki-'));
    pki = new TestPki();
    ca.good = pki.intermediate('fulcio-like');
    const caExtensions = (spki: Buffer, replace: Record<string, Buffer | null>): Buffer[] => {
      const base: Record<string, Buffer | null> = {
        [OIDS.keyUsage]: encodeExtension(ext.keyUsage([5, 6])),
        [OIDS.extKeyUsage]: encodeExtension(ext.extKeyUsage([OIDS.codeSigning])),
        [OIDS.basicConstraints]: encodeExtension(ext.basicConstraints(true, 0)),
        [OIDS.subjectKeyId]: encodeExtension(ext.subjectKeyId(spki)),
        [OIDS.authorityKeyId]: encodeExtension(ext.authorityKeyId(pki.root.spki)),
        ...replace,
      };
      return Object.values(base).filter((e): e is Buffer => e !== null);
    };
    const withKey = (cn: string, replace: Record<string, Buffer | null>) => {
      const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      return pki.intermediate(cn, { key, extensions: caExtensions(spkiOf(key.publicKey), replace) });
    };
    ca.noCertSign = withKey('no-keycertsign', { [OIDS.keyUsage]: encodeExtension(ext.keyUsage([0])) });
    ca.serverAuth = withKey('serverauth-only', { [OIDS.extKeyUsage]: encodeExtension(ext.extKeyUsage(['1.3.6.1.5.5.7.3.1'])) });
    ca.anyEku = withKey('any-eku', { [OIDS.extKeyUsage]: encodeExtension(ext.extKeyUsage(['2.5.29.37.0'])) });
    ca.noEku = withKey('no-eku', { [OIDS.extKeyUsage]: null });
    ca.nameConstraints = withKey('name-constraints', {
      '2.5.29.30': extension('2.5.29.30', seq(implicitConstructed(0, seq(implicitPrimitive(1, Buffer.from('example.com'))))), true),
    });
    ca.notCa = withKey('not-a-ca', { [OIDS.basicConstraints]: encodeExtension(ext.basicConstraints(false)) });
    ca.noBasicConstraints = withKey('no-basic-constraints', { [OIDS.basicConstraints]: null });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    ca.rsa = pki.intermediate('rsa', { key: rsa });
    // root (pathLen 1) -> pathlen0 (pathLen 0) -> below-pathlen0: a leaf under it has one CA too many.
    ca.pathLen0 = pki.intermediate('pathlen0');
    ca.belowPathLen0 = pki.intermediate('below-pathlen0', { parent: ca.pathLen0 });
    trustedRoot = pki.writeTrustedRoot(dir);
  });

  after(() => {
    repo?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function run(cases: Case[]): void {
    const shas = cases.map((c) => repo.importBytes(pki.signedCommit(c.cert, `case ${++n}: ${c.name}`), 'commit'));
    const flags = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER_URL];
    const lines = verifyJson(repo, shas, flags, { GITSIGN_TRUSTED_ROOT: trustedRoot });
    const wrong: string[] = [];
    cases.forEach((c, i) => {
      const l = lines[i];
      const got = l.verified ? 'VERIFIED' : `${l.error?.code} ${l.error?.message}`;
      if (c.code === null ? !l.verified : l.verified || l.error?.code !== c.code || !c.message!.test(l.error.message) || RUNTIME.test(l.error.message)) {
        wrong.push(`${c.name}: expected ${c.code ?? 'VERIFIED'} ${c.message ?? ''}, got ${got}`);
      }
    });
    assert.deepEqual(wrong, []);
  }

  /** The good leaf's extensions with one replaced (or removed, or added when absent). */
  const withExtension = (oidStr: string, der: Buffer | null): LeafExtension[] => {
    const list = pki.leafExtensions(ca.good).filter(([o]) => o !== oidStr);
    return der ? [...list, [oidStr, der]] : list;
  };
  const T = (tag: number, s: string): Buffer => tlv(tag, Buffer.from(s, 'latin1'));
  const UTC = 0x17;
  const GEN = 0x18;
  const nb = (): Buffer => time(new Date(pki.now.getTime() - 3600_000));
  const na = (): Buffer => time(new Date(pki.now.getTime() + 3600_000));

  test('finding 5: absurd and unparsable times, huge or negative serials, bad keys and extensions that are not what their OID says are MALFORMED_CERTIFICATE', () => {
    const g = ca.good;
    const leaf = (parts: Parameters<TestPki['leaf']>[1]) => pki.leaf(g, parts);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const offCurve = Buffer.from(pki.leafSpki);
    offCurve[offCurve.length - 1] ^= 0x01;
    run([
      { name: 'control', cert: leaf({}), code: null },
      { name: 'control: issuer and subject unique identifiers', cert: leaf({ uniqueIds: [implicitPrimitive(1, Buffer.from([0, 0xaa])), implicitPrimitive(2, Buffer.from([0, 0xbb]))] }), code: null },
      { name: 'unique identifier in a version 1 certificate', cert: leaf({ version: null, uniqueIds: [implicitPrimitive(2, Buffer.from([0, 0xbb]))] }), code: 'MALFORMED_CERTIFICATE', message: /version 1 certificate has a unique identifier/ },
      { name: 'GeneralizedTime year 0000', cert: leaf({ validity: seq(T(GEN, '00000101000000Z'), na()) }), code: 'MALFORMED_CERTIFICATE', message: /notBefore is in the year 0/ },
      { name: 'GeneralizedTime year 99999', cert: leaf({ validity: seq(nb(), T(GEN, '999991231235959Z')) }), code: 'MALFORMED_CERTIFICATE', message: /GeneralizedTime "999991231235959Z" is not of the form/ },
      { name: 'UTCTime month 13', cert: leaf({ validity: seq(nb(), T(UTC, '491301000000Z')) }), code: 'MALFORMED_CERTIFICATE', message: /"491301000000Z" is not a valid date and time/ },
      { name: 'UTCTime 30 February', cert: leaf({ validity: seq(nb(), T(UTC, '490230000000Z')) }), code: 'MALFORMED_CERTIFICATE', message: /not a valid date and time/ },
      { name: 'UTCTime hour 24', cert: leaf({ validity: seq(nb(), T(UTC, '491231240000Z')) }), code: 'MALFORMED_CERTIFICATE', message: /not a valid date and time/ },
      { name: 'UTCTime with a letter', cert: leaf({ validity: seq(nb(), T(UTC, '49O231000000Z')) }), code: 'MALFORMED_CERTIFICATE', message: /is not of the form/ },
      { name: 'GeneralizedTime with an offset', cert: leaf({ validity: seq(nb(), T(GEN, '20491231000000+0100')) }), code: 'MALFORMED_CERTIFICATE', message: /is not of the form/ },
      { name: 'a time that is an INTEGER', cert: leaf({ validity: seq(nb(), int(1)) }), code: 'MALFORMED_CERTIFICATE', message: /expected a UTCTime or GeneralizedTime/ },
      { name: 'notAfter before notBefore', cert: leaf({ validity: pki.validity(-3600_000, -7200_000) }), code: 'MALFORMED_CERTIFICATE', message: /notAfter is before its notBefore/ },
      { name: 'serial of 40 octets', cert: leaf({ serial: int(Buffer.alloc(40, 0x5a)) }), code: 'MALFORMED_CERTIFICATE', message: /serial number is longer than 20 octets/ },
      { name: 'negative serial', cert: leaf({ serial: tlv(0x02, Buffer.from([0x80, 0x01])) }), code: 'MALFORMED_CERTIFICATE', message: /serial number is negative/ },
      { name: 'serial not minimally encoded', cert: leaf({ serial: tlv(0x02, Buffer.from([0x00, 0x01])) }), code: 'MALFORMED_CERTIFICATE', message: /not minimally encoded/ },
      { name: 'version 4', cert: leaf({ version: explicit(0, int(3)) }), code: 'MALFORMED_CERTIFICATE', message: /version 4 is not an X.509 version/ },
      { name: 'extensions in a version 1 certificate', cert: leaf({ version: null }), code: 'MALFORMED_CERTIFICATE', message: /before version 3 has extensions/ },
      { name: 'signature BIT STRING with unused bits', cert: leaf({ signatureBits: (sig) => bits(Buffer.concat([sig, Buffer.from([0])]), 4) }), code: 'MALFORMED_CERTIFICATE', message: /unused bits/ },
      { name: 'public key off the curve', cert: leaf({ spki: offCurve }), code: 'MALFORMED_CERTIFICATE', message: /public key is not a valid key/ },
      { name: 'public key on secp256k1', cert: leaf({ spki: spkiOf(k1.publicKey) }), code: 'MALFORMED_CERTIFICATE', message: /unsupported EC key on curve secp256k1/ },
      { name: 'keyUsage holding an INTEGER', cert: leaf({ extensions: withExtension(OIDS.keyUsage, extension(OIDS.keyUsage, int(1), true)) }), code: 'MALFORMED_CERTIFICATE', message: /extension 2\.5\.29\.15: expected a BIT STRING/ },
      { name: 'keyUsage with trailing bytes', cert: leaf({ extensions: withExtension(OIDS.keyUsage, extension(OIDS.keyUsage, Buffer.concat([bits(Buffer.from([0x80]), 7), Buffer.from([0])]), true)) }), code: 'MALFORMED_CERTIFICATE', message: /trailing bytes/ },
      { name: 'basicConstraints that is a BOOLEAN', cert: leaf({ extensions: withExtension(OIDS.basicConstraints, extension(OIDS.basicConstraints, bool(false))) }), code: 'MALFORMED_CERTIFICATE', message: /basicConstraints is not a SEQUENCE/ },
      { name: 'subjectAltName that is an OCTET STRING', cert: leaf({ extensions: withExtension(OIDS.subjectAltName, extension(OIDS.subjectAltName, octets(Buffer.from(IDENTITY)), true)) }), code: 'MALFORMED_CERTIFICATE', message: /subjectAltName is not a SEQUENCE/ },
      { name: 'extKeyUsage holding a string', cert: leaf({ extensions: withExtension(OIDS.extKeyUsage, extension(OIDS.extKeyUsage, seq(utf8('codeSigning')))) }), code: 'MALFORMED_CERTIFICATE', message: /expected an OBJECT IDENTIFIER/ },
      { name: 'Fulcio issuer (1.8) that is a PrintableString', cert: leaf({ extensions: withExtension('1.3.6.1.4.1.57264.1.8', extension('1.3.6.1.4.1.57264.1.8', printable(ISSUER_URL))) }), code: 'MALFORMED_CERTIFICATE', message: /not a UTF8String/ },
      {
        name: 'extension OID with a padded arc',
        cert: leaf({ extensions: withExtension('padded', seq(tlv(0x06, Buffer.from([0x2b, 0x80, 0x01])), octets(utf8('x')))) }),
        code: 'MALFORMED_CERTIFICATE',
        message: /OBJECT IDENTIFIER arc not minimally encoded/,
      },
      { name: 'SCT list with a wrong length', cert: leaf({ extensions: withExtension(OIDS.sctList, extension(OIDS.sctList, octets(Buffer.from([0x00, 0x09, 0x00])))) }), code: 'MALFORMED_CERTIFICATE', message: /SCT list length/ },
    ]);
  });

  test('finding 9: an unknown critical extension is refused; the critical ones Go handles (keyUsage, SAN, basicConstraints, extKeyUsage) are not', () => {
    const g = ca.good;
    const unknown = '1.3.6.1.4.1.99999.1';
    run([
      { name: 'control: critical keyUsage and SAN (as Fulcio marks them)', cert: pki.leaf(g), code: null },
      { name: 'unknown extension, not critical', cert: pki.leaf(g, { extensions: withExtension(unknown, extension(unknown, utf8('x'))) }), code: null },
      { name: 'unknown extension, critical', cert: pki.leaf(g, { extensions: withExtension(unknown, extension(unknown, utf8('x'), true)) }), code: 'CERTIFICATE', message: /unknown critical extension 1\.3\.6\.1\.4\.1\.99999\.1/ },
      { name: 'issuerAltName, critical (Go does not handle it)', cert: pki.leaf(g, { extensions: withExtension('2.5.29.18', extension('2.5.29.18', seq(implicitPrimitive(1, Buffer.from('ca@example.com'))), true)) }), code: 'CERTIFICATE', message: /unknown critical extension 2\.5\.29\.18/ },
      { name: 'basicConstraints (not a CA), critical', cert: pki.leaf(g, { extensions: withExtension(OIDS.basicConstraints, encodeExtension(ext.basicConstraints(false))) }), code: null },
      { name: 'extKeyUsage, critical', cert: pki.leaf(g, { extensions: withExtension(OIDS.extKeyUsage, encodeExtension(ext.extKeyUsage([OIDS.codeSigning], true))) }), code: null },
      { name: 'subjectKeyIdentifier, critical', cert: pki.leaf(g, { extensions: withExtension(OIDS.subjectKeyId, extension(OIDS.subjectKeyId, octets(Buffer.alloc(20, 1)), true)) }), code: 'MALFORMED_CERTIFICATE', message: /2\.5\.29\.14 is marked critical/ },
      { name: 'authorityKeyIdentifier, critical', cert: pki.leaf(g, { extensions: withExtension(OIDS.authorityKeyId, extension(OIDS.authorityKeyId, ext.authorityKeyId(g.spki).value, true)) }), code: 'MALFORMED_CERTIFICATE', message: /2\.5\.29\.35 is marked critical/ },
    ]);
  });

  test('finding 9: the inner and outer signature algorithms must be identical, and fit the issuer key', () => {
    const g = ca.good;
    const rsaSha256 = algorithm('1.2.840.113549.1.1.11', true);
    run([
      { name: 'control: RSA intermediate, sha256WithRSAEncryption', cert: pki.leaf(ca.rsa, { innerAlg: rsaSha256 }), code: null },
      { name: 'inner ecdsa-with-SHA256, outer ecdsa-with-SHA384 (signed with SHA-384)', cert: pki.leaf(g, { hash: 'sha384', innerAlg: algorithm(ECDSA_SHA256), outerAlg: algorithm(ECDSA_SHA384) }), code: 'MALFORMED_CERTIFICATE', message: /inner and outer signature algorithms differ/ },
      { name: 'inner ecdsa-with-SHA384, outer ecdsa-with-SHA256', cert: pki.leaf(g, { innerAlg: algorithm(ECDSA_SHA384), outerAlg: algorithm(ECDSA_SHA256) }), code: 'MALFORMED_CERTIFICATE', message: /inner and outer signature algorithms differ/ },
      { name: 'same OID, NULL parameters outside only', cert: pki.leaf(g, { outerAlg: algorithm(ECDSA_SHA256, true) }), code: 'MALFORMED_CERTIFICATE', message: /inner and outer signature algorithms differ/ },
      { name: 'an RSA PKCS#1 signature labelled ecdsa-with-SHA256', cert: pki.leaf(ca.rsa), code: 'CERTIFICATE', message: /signature does not verify/ },
    ]);
  });

  test('finding 9: a CMS signature labelled ecdsa-with-SHA256 but made by an RSA leaf key is refused, as Go refuses it', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = pki.leaf(ca.good, { spki: spkiOf(rsa.publicKey), extensions: pki.leafExtensions(ca.good).filter(([o]) => o !== OIDS.subjectKeyId) });
    const sha = repo.importBytes(pki.signedCommit(cert, 'an RSA signature under an ECDSA label', rsa.privateKey), 'commit');
    const flags = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER_URL];
    const [line] = verifyJson(repo, [sha], flags, { GITSIGN_TRUSTED_ROOT: trustedRoot });
    assert.equal(line.verified, false);
    assert.equal(line.error?.code, 'SIGNATURE_INVALID');
    assert.match(line.error!.message, /is not for the certificate's rsa key/);
  });

  test('finding 9: the leaf key usage must allow digitalSignature, its extended key usage codeSigning', () => {
    const g = ca.good;
    run([
      { name: 'keyUsage keyEncipherment only', cert: pki.leaf(g, { extensions: withExtension(OIDS.keyUsage, encodeExtension(ext.keyUsage([2]))) }), code: 'CERTIFICATE', message: /lacks digitalSignature/ },
      { name: 'no keyUsage', cert: pki.leaf(g, { extensions: withExtension(OIDS.keyUsage, null) }), code: 'CERTIFICATE', message: /no key usage extension/ },
      { name: 'keyUsage digitalSignature and keyEncipherment', cert: pki.leaf(g, { extensions: withExtension(OIDS.keyUsage, encodeExtension(ext.keyUsage([0, 2]))) }), code: null },
      { name: 'extKeyUsage emailProtection only', cert: pki.leaf(g, { extensions: withExtension(OIDS.extKeyUsage, encodeExtension(ext.extKeyUsage(['1.3.6.1.5.5.7.3.4']))) }), code: 'CERTIFICATE', message: /not for code signing/ },
    ]);
  });

  test('finding 9: SANs must be valid IA5Strings (j\\xE1ne is refused, never read as jane), and no extension may appear twice', () => {
    const g = ca.good;
    const san = (...names: Buffer[]) => extension(OIDS.subjectAltName, seq(...names), true);
    const jane = Buffer.concat([Buffer.from('j'), Buffer.from([0xe1]), Buffer.from('ne@example.com')]);
    const sanCase = (name: string, value: Buffer, message: RegExp): Case => ({ name, cert: pki.leaf(g, { extensions: withExtension(OIDS.subjectAltName, value) }), code: 'MALFORMED_CERTIFICATE', message });
    const withJane = pki.leafExtensions(g);
    run([
      sanCase('rfc822Name j\\xE1ne@example.com', san(implicitPrimitive(1, jane)), /rfc822Name is not a valid IA5String/),
      sanCase('URI with a byte 0xFF', san(implicitPrimitive(6, Buffer.concat([Buffer.from('https://example.com/'), Buffer.from([0xff])]))), /URI is not a valid IA5String/),
      sanCase('dNSName with a byte 0xE9', san(implicitPrimitive(2, Buffer.from([0x63, 0xe9, 0x2e, 0x63, 0x6f, 0x6d]))), /dNSName is not a valid IA5String/),
      sanCase('iPAddress of 5 bytes', san(implicitPrimitive(1, Buffer.from(IDENTITY)), implicitPrimitive(7, Buffer.from([127, 0, 0, 1, 9]))), /iPAddress has 5 bytes/),
      sanCase('Fulcio username not UTF-8', san(implicitConstructed(0, oid('1.3.6.1.4.1.57264.1.7'), explicit(0, tlv(0x0c, Buffer.from([0x6a, 0xc3]))))), /otherName is not valid UTF-8/),
      sanCase('no name at all', san(), /subjectAltName holds no name/),
      {
        name: 'two SAN extensions (jane, then mallory)',
        cert: pki.leaf(g, { extensions: [...withJane, [OIDS.subjectAltName, san(implicitPrimitive(1, Buffer.from('mallory@example.com')))]] }),
        code: 'MALFORMED_CERTIFICATE',
        message: /extension 2\.5\.29\.17 appears more than once/,
      },
    ]);
  });

  test('finding 9: every CA above the leaf must be a CA allowed to sign certificates for code signing, within its path length', () => {
    run([
      { name: 'control: a Fulcio-like intermediate', cert: pki.leaf(ca.good), code: null },
      { name: 'intermediate whose extKeyUsage is anyExtendedKeyUsage', cert: pki.leaf(ca.anyEku), code: null },
      { name: 'intermediate without extKeyUsage', cert: pki.leaf(ca.noEku), code: null },
      { name: 'intermediate whose keyUsage lacks keyCertSign', cert: pki.leaf(ca.noCertSign), code: 'CERTIFICATE', message: /"CN=no-keycertsign,O=gitsign-ts test" is not allowed to sign certificates/ },
      { name: 'intermediate for serverAuth only', cert: pki.leaf(ca.serverAuth), code: 'CERTIFICATE', message: /does not allow code signing/ },
      { name: 'intermediate with name constraints', cert: pki.leaf(ca.nameConstraints), code: 'CERTIFICATE', message: /has name constraints/ },
      { name: 'intermediate that is not a CA', cert: pki.leaf(ca.notCa), code: 'CERTIFICATE', message: /is not a CA/ },
      { name: 'intermediate without basicConstraints', cert: pki.leaf(ca.noBasicConstraints), code: 'CERTIFICATE', message: /is not a CA/ },
      { name: 'one CA more than a path length of 0 allows', cert: pki.leaf(ca.belowPathLen0), code: 'CERTIFICATE', message: /path length constraint exceeded/ },
    ]);
  });

  test('finding 5: a malformed CA certificate in the trusted root is TRUST_ROOT for each object, never a runtime error', () => {
    const other = new TestPki();
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const bad = other.intermediate('bad-key-usage', {
      key,
      extensions: [extension(OIDS.keyUsage, int(6), true), encodeExtension(ext.basicConstraints(true, 0)), encodeExtension(ext.subjectKeyId(spkiOf(key.publicKey)))],
    });
    const badRoot = other.writeTrustedRoot(mkdtempSync(join(dir, 'bad-root-')));
    const shas = [1, 2].map((i) => repo.importBytes(other.signedCommit(other.leaf(bad), `malformed CA ${i}`), 'commit'));
    const flags = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity', IDENTITY, '--certificate-oidc-issuer', ISSUER_URL];
    for (const l of verifyJson(repo, shas, flags, { GITSIGN_TRUSTED_ROOT: badRoot })) {
      assert.equal(l.verified, false);
      assert.equal(l.error?.code, 'TRUST_ROOT', l.error?.message);
      assert.match(l.error!.message, /a certificate authority of the trusted root has a malformed certificate \(.*2\.5\.29\.15: expected a BIT STRING\)/);
    }
  });

  test('finding 9: leaves made by openssl x509 (a real peer) with an unknown critical extension or without digitalSignature are refused', (t) => {
    if (spawnSync('openssl', ['version']).status !== 0) return t.skip('openssl is not installed');
    const g = ca.good;
    writeFileSync(join(dir, 'ca.pem'), encodePem('CERTIFICATE', g.der));
    writeFileSync(join(dir, 'ca.key'), g.key.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'leaf.key'), pki.leafKey.export({ type: 'pkcs8', format: 'pem' }));
    const openssl = (args: string[]) => {
      const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    openssl(['req', '-new', '-key', 'leaf.key', '-subj', '/O=gitsign-ts test', '-out', 'leaf.csr']);
    const issue = (file: string, lines: string[]): Buffer => {
      writeFileSync(join(dir, `${file}.cnf`), ['[v3]', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', `subjectAltName = critical, email:${IDENTITY}`, `1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:${ISSUER_URL}`, 'extendedKeyUsage = codeSigning', ...lines].join('\n'));
      openssl(['x509', '-req', '-in', 'leaf.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '0x1234', '-days', '1', '-sha256', '-extfile', `${file}.cnf`, '-extensions', 'v3', '-outform', 'DER', '-out', `${file}.der`]);
      return readFileSync(join(dir, `${file}.der`));
    };
    run([
      { name: 'openssl: control', cert: issue('ok', ['keyUsage = critical, digitalSignature']), code: null },
      { name: 'openssl: unknown critical extension', cert: issue('critical', ['keyUsage = critical, digitalSignature', '1.2.3.4.5 = critical, ASN1:UTF8String:must be understood']), code: 'CERTIFICATE', message: /unknown critical extension 1\.2\.3\.4\.5/ },
      { name: 'openssl: keyUsage keyEncipherment', cert: issue('keyenc', ['keyUsage = critical, keyEncipherment']), code: 'CERTIFICATE', message: /lacks digitalSignature/ },
    ]);
  });
});
