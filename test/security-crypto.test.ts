/**
 * Finding 11: signatures over a bare digest (Rekor's hashedrekord, a bundle checked against
 * `sha256:<hex>`) are verified by an audited library (@noble/curves, ECDSA) and by OpenSSL (RSA), never
 * by our own arithmetic. Every vector is made by openssl or node:crypto, and every verdict is checked
 * against `openssl pkeyutl -verify` as the oracle: valid, tampered, high-S, malformed DER, wrong keys.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { verifyDigest } from '../src/crypto/prehash';
import { GitsignError } from '../src/errors';
import { BIN, CONFORMANCE, CORPUS, ROOT } from './helpers/paths';
import { splitCommit } from '../src/git/rawobj';

const work = mkdtempSync(join(tmpdir(), 'gitsign-crypto-'));
after(() => rmSync(work, { recursive: true, force: true }));

let fileNo = 0;
function file(content: Buffer | string): string {
  const path = join(work, `f${fileNo++}`);
  writeFileSync(path, content);
  return path;
}

function openssl(args: string[], input?: Buffer): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('openssl', args, { input, timeout: 30_000 });
  if (r.error) throw new Error(`openssl (Debian package openssl) could not run: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

interface Pair {
  key: KeyObject;
  privatePem: string;
  publicPem: string;
}

function pair(type: 'ec' | 'rsa' | 'rsa-pss' | 'ed25519', opts: Record<string, unknown> = {}): Pair {
  const { publicKey, privateKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
  return {
    key: publicKey,
    privatePem: file(privateKey.export({ type: 'pkcs8', format: 'pem' })),
    publicPem: file(publicKey.export({ type: 'spki', format: 'pem' })),
  };
}

/** A signature over the digest itself, as openssl makes it (pkeyutl signs its input as a digest). */
function opensslSign(p: Pair, digest: Buffer, pkeyopts: string[] = []): Buffer {
  const r = openssl(['pkeyutl', '-sign', '-inkey', p.privatePem, '-in', file(digest), ...pkeyopts.flatMap((o) => ['-pkeyopt', o])]);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The oracle: does OpenSSL accept this signature over this digest? */
function opensslVerifies(p: Pair, digest: Buffer, signature: Buffer, pkeyopts: string[] = []): boolean {
  const r = openssl(['pkeyutl', '-verify', '-pubin', '-inkey', p.publicPem, '-in', file(digest), '-sigfile', file(signature), ...pkeyopts.flatMap((o) => ['-pkeyopt', o])]);
  return r.status === 0;
}

const sha = (alg: string, s: string): Buffer => createHash(alg).update(s).digest();

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at < 0 ? c.length + at : at] ^= 0x01;
  return c;
}

// --- a minimal DER writer/reader for building malformed ECDSA-Sig-Values in tests -----------------
const derLen = (n: number): Buffer => (n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]));
const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), derLen(body.length), body]);
function intBytes(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = '0' + hex;
  const b = Buffer.from(hex, 'hex');
  return b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b;
}
const derSig = (r: bigint, s: bigint): Buffer => tlv(0x30, Buffer.concat([tlv(0x02, intBytes(r)), tlv(0x02, intBytes(s))]));
function readSig(der: Buffer): { r: bigint; s: bigint; rBytes: Buffer; sBytes: Buffer } {
  let i = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  const ints: Buffer[] = [];
  for (let k = 0; k < 2; k++) {
    const len = der[i + 1];
    ints.push(der.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  const big = (b: Buffer): bigint => BigInt('0x' + b.toString('hex'));
  return { r: big(ints[0]), s: big(ints[1]), rBytes: ints[0], sBytes: ints[1] };
}

/** Group orders (public constants of the standard curves), to build high-S and out-of-range values. */
const ORDER: Record<string, bigint> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521': 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};
const HASH: Record<string, string> = { 'P-256': 'sha256', 'P-384': 'sha384', 'P-521': 'sha512' };

/** Our verdict, which must never be a thrown error for a supported key. */
function ours(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  return verifyDigest(key, digest, signature);
}

function expectVerdict(p: Pair, digest: Buffer, signature: Buffer, expected: boolean, what: string, pkeyopts: string[] = []): void {
  assert.equal(opensslVerifies(p, digest, signature, pkeyopts), expected, `oracle (openssl) on ${what}`);
  assert.equal(ours(p.key, digest, signature), expected, what);
}

describe('finding 11: ECDSA over a digest (P-256, P-384, P-521) agrees with OpenSSL', () => {
  for (const curve of ['P-256', 'P-384', 'P-521']) {
    const p = pair('ec', { namedCurve: curve });
    const digest = sha(HASH[curve], `message for ${curve}`);

    test(`finding 11: ${curve}: signatures made by openssl and node:crypto over the digest verify, tampered ones do not`, () => {
      const byOpenssl = opensslSign(p, digest);
      expectVerdict(p, digest, byOpenssl, true, 'openssl signature');
      // node:crypto signs the message; that is a signature over its digest.
      const privateKey = readFileSync(p.privatePem);
      const byNode = sign(HASH[curve], Buffer.from(`message for ${curve}`), privateKey);
      expectVerdict(p, digest, byNode, true, 'node:crypto signature');
      expectVerdict(p, flip(digest, 0), byOpenssl, false, 'digest with a flipped bit');
      expectVerdict(p, flip(digest, -1), byOpenssl, false, 'digest with its last bit flipped');
      const { r, s } = readSig(byOpenssl);
      expectVerdict(p, digest, derSig(r ^ 1n, s), false, 'r with a flipped bit');
      expectVerdict(p, digest, derSig(r, s ^ 4n), false, 's with a flipped bit');
      expectVerdict(p, digest, derSig(s, r), false, 'r and s swapped');
      // Digests of another size: truncated to the order's size (longer) or taken as is (shorter), as in Go.
      for (const other of ['sha256', 'sha384', 'sha512']) {
        const d = sha(other, 'another size');
        expectVerdict(p, d, opensslSign(p, d), true, `${curve} over a ${other} digest`);
      }
    });

    test(`finding 11: ${curve}: a high-S signature verifies (Go's ecdsa.Verify and OpenSSL accept it)`, () => {
      const { r, s } = readSig(opensslSign(p, digest));
      const n = ORDER[curve];
      const highS = s > n / 2n ? s : n - s;
      const lowS = n - highS;
      expectVerdict(p, digest, derSig(r, highS), true, 'high S');
      expectVerdict(p, digest, derSig(r, lowS), true, 'low S');
    });

    test(`finding 11: ${curve}: malformed or non-DER signatures are refused, never thrown`, () => {
      const good = opensslSign(p, digest);
      const { r, s, rBytes, sBytes } = readSig(good);
      const n = ORDER[curve];
      const body = good.subarray(good[1] & 0x80 ? 2 + (good[1] & 0x7f) : 2); // the SEQUENCE's contents
      const width = Math.ceil(n.toString(16).length / 2);
      const fixed = (v: bigint): Buffer => Buffer.from(v.toString(16).padStart(width * 2, '0'), 'hex');
      const cases: Record<string, Buffer> = {
        empty: Buffer.alloc(0),
        'a trailing byte after the SEQUENCE': Buffer.concat([good, Buffer.from([0])]),
        'the last byte cut off': good.subarray(0, good.length - 1),
        'a non-minimal SEQUENCE length (0x82 form)': Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]),
        'a BER indefinite length': Buffer.concat([Buffer.from([0x30, 0x80]), body, Buffer.from([0, 0])]),
        'a SEQUENCE length far beyond the data': Buffer.concat([Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]), body]),
        'r with a superfluous leading zero': tlv(0x30, Buffer.concat([tlv(0x02, Buffer.concat([Buffer.from([0]), rBytes])), tlv(0x02, sBytes)])),
        'r negative (its sign bit set, no zero byte)': tlv(0x30, Buffer.concat([tlv(0x02, Buffer.concat([Buffer.from([0x80 | rBytes[0]]), rBytes.subarray(1)])), tlv(0x02, sBytes)])),
        'r empty': tlv(0x30, Buffer.concat([tlv(0x02, Buffer.alloc(0)), tlv(0x02, sBytes)])),
        'a third INTEGER': tlv(0x30, Buffer.concat([tlv(0x02, rBytes), tlv(0x02, sBytes), tlv(0x02, Buffer.from([1]))])),
        'r as an OCTET STRING': tlv(0x30, Buffer.concat([tlv(0x04, rBytes), tlv(0x02, sBytes)])),
        'r = 0': derSig(0n, s),
        's = 0': derSig(r, 0n),
        's = n': derSig(r, n),
        's = n + s (out of range, same residue)': derSig(r, n + s),
        'r = n + r (out of range, same residue)': derSig(n + r, s),
        'the raw r||s form (IEEE P1363), not DER': Buffer.concat([fixed(r), fixed(s)]),
        'a SET instead of a SEQUENCE': Buffer.concat([Buffer.from([0x31]), good.subarray(1)]),
      };
      for (const [what, sig] of Object.entries(cases)) expectVerdict(p, digest, sig, false, what);
    });
  }

  test('finding 11: a signature checked with a key of another curve or another key fails; unsupported keys get a clear error', () => {
    const p256 = pair('ec', { namedCurve: 'P-256' });
    const p384 = pair('ec', { namedCurve: 'P-384' });
    const digest = sha('sha256', 'which key');
    const by384 = opensslSign(p384, digest);
    expectVerdict(p256, digest, by384, false, 'a P-384 signature checked with a P-256 key');
    expectVerdict(p384, digest, opensslSign(p256, digest), false, 'a P-256 signature checked with a P-384 key');
    expectVerdict(pair('ec', { namedCurve: 'P-384' }), digest, by384, false, 'another P-384 key');
    const rsa = pair('rsa', { modulusLength: 2048 });
    assert.equal(ours(rsa.key, digest, by384), false, 'an ECDSA signature checked with an RSA key');
    assert.equal(ours(p256.key, digest, opensslSign(rsa, digest, ['digest:sha256'])), false, 'an RSA signature checked with an EC key');
    const unsupported: Array<[string, KeyObject]> = [
      ['secp256k1', pair('ec', { namedCurve: 'secp256k1' }).key],
      ['brainpoolP256r1', pair('ec', { namedCurve: 'brainpoolP256r1' }).key],
      ['ed25519', pair('ed25519').key],
      ['rsa-pss', pair('rsa-pss', { modulusLength: 2048 }).key],
    ];
    for (const [name, key] of unsupported) {
      assert.throws(
        () => verifyDigest(key, digest, by384),
        (err: unknown) => err instanceof GitsignError && err.code === 'UNSUPPORTED_SIGNATURE' && /can be checked only with a P-256, P-384, P-521 or RSA/.test(err.message),
        name,
      );
    }
  });
});

describe('finding 11: RSA PKCS#1 v1.5 over a digest agrees with OpenSSL', () => {
  const rsa2048 = pair('rsa', { modulusLength: 2048 });
  const rsa3072 = pair('rsa', { modulusLength: 3072 });

  test('finding 11: RSA: valid signatures over SHA-256/384/512 digests verify; tampered digests and signatures do not', () => {
    for (const p of [rsa2048, rsa3072]) {
      for (const alg of ['sha256', 'sha384', 'sha512']) {
        const opt = [`digest:${alg}`];
        const digest = sha(alg, `rsa ${alg}`);
        const sig = opensslSign(p, digest, opt);
        expectVerdict(p, digest, sig, true, `${alg} by openssl`, opt);
        expectVerdict(p, digest, sign(alg, Buffer.from(`rsa ${alg}`), readFileSync(p.privatePem)), true, `${alg} by node:crypto`, opt);
        expectVerdict(p, flip(digest, 5), sig, false, `${alg}, digest tampered`, opt);
        expectVerdict(p, digest, flip(sig, 10), false, `${alg}, signature tampered`, opt);
        expectVerdict(p, digest, flip(sig, -1), false, `${alg}, signature's last byte tampered`, opt);
      }
    }
  });

  test('finding 11: RSA: wrong encodings inside the signature and wrong lengths are refused, never thrown', () => {
    const p = rsa2048;
    const opt = ['digest:sha256'];
    const digest = sha('sha256', 'encodings');
    const digestInfoNoNull = Buffer.concat([Buffer.from('302f300b0609608648016503040201' + '0420', 'hex'), digest]);
    const digestInfoSha512Oid = Buffer.concat([Buffer.from('3031300d060960864801650304020305000420', 'hex'), digest]);
    const sig = opensslSign(p, digest, opt);
    const cases: Record<string, Buffer> = {
      'the bare digest padded, without DigestInfo': opensslSign(p, digest),
      'DigestInfo without the NULL parameters': opensslSign(p, digestInfoNoNull),
      'DigestInfo naming SHA-512 around a 32-byte digest': opensslSign(p, digestInfoSha512Oid),
      'a PSS signature from the same key': opensslSign(p, digest, ['rsa_padding_mode:pss', 'digest:sha256']),
      'a signature one byte longer (leading zero)': Buffer.concat([Buffer.from([0]), sig]),
      'a signature above the modulus': Buffer.alloc(256, 0xff),
      'all zeros': Buffer.alloc(256),
      empty: Buffer.alloc(0),
      'a 3072-bit key signature checked with a 2048-bit key': opensslSign(rsa3072, digest, opt),
    };
    for (const [what, s] of Object.entries(cases)) expectVerdict(p, digest, s, false, what, opt);
    // The signature must be exactly as long as the modulus (Go and OpenSSL's RSA_verify refuse a short one;
    // OpenSSL's verify-recover alone would accept it). Find a signature that starts with a zero byte.
    const key = readFileSync(p.privatePem);
    let short: Buffer | undefined;
    let shortDigest: Buffer | undefined;
    for (let i = 0; i < 5000 && !short; i++) {
      const s = sign('sha256', Buffer.from(`short ${i}`), key);
      if (s[0] === 0) [short, shortDigest] = [s.subarray(1), sha('sha256', `short ${i}`)];
    }
    assert.ok(short && shortDigest, 'a signature starting with a zero byte (odds 1 - (255/256)^5000)');
    expectVerdict(p, shortDigest, Buffer.concat([Buffer.from([0]), short]), true, 'the full-length signature', opt);
    expectVerdict(p, shortDigest, short, false, 'the same signature without its leading zero byte', opt);
  });
});

describe('finding 11: the library stays off git’s verify path', () => {
  const missing = !existsSync(CORPUS) || !existsSync(CONFORMANCE) ? '../shared corpus or conformance cases are absent' : false;
  /**
   * Module requests made by a `gitsign` run and the files it loaded (recorded by a preload that wraps
   * Module._load and, at exit, lists the module cache: bundle files load through their code cache, not require).
   */
  function requestsOf(args: string[], input?: Buffer): string[] {
    const log = join(work, `requests-${fileNo++}`);
    const preload = file(
      `const M=require('module'),fs=require('fs');const load=M._load;M._load=function(r,...a){fs.appendFileSync(${JSON.stringify(log)},r+'\\n');return load.call(this,r,...a)};` +
        `process.on('exit',()=>fs.appendFileSync(${JSON.stringify(log)},Object.keys(M._cache).join('\\n')+'\\n'));`,
    );
    const env = { ...process.env, GITSIGN_OFFLINE: 'true', SIGSTORE_NO_CACHE: '1', HOME: work, XDG_CACHE_HOME: join(work, 'cache') };
    const r = spawnSync(process.execPath, ['-r', preload, BIN, ...args], { input, env, timeout: 60_000, cwd: ROOT });
    assert.equal(r.status, 0, r.stderr.toString());
    return existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : [];
  }

  test('finding 11: git --verify of a commit does not load @noble/curves; a bundle checked by digest does', { skip: missing }, () => {
    const raw = readFileSync(join(CORPUS, 'sigstore__gitsign/fe1e62346d3c346a343d089e8b4c3fb57716bc94.commit'));
    const { payload, signature } = splitCommit(raw);
    const git = requestsOf(['--status-fd=1', '--verify', file(signature!), '-'], payload);
    assert.ok(git.length > 0, 'the preload saw the bundle load its modules');
    assert.deepEqual(git.filter((m) => /noble/.test(m)), []);
    const dir = join(CONFORMANCE, 'happy-path-v0.3');
    const digest = createHash('sha256').update(readFileSync(join(CONFORMANCE, 'a.txt'))).digest('hex');
    const identity = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
    const bundle = requestsOf([
      'verify-bundle', '--bundle', join(dir, 'bundle.sigstore.json'), '--certificate-identity', identity,
      '--certificate-oidc-issuer', 'https://token.actions.githubusercontent.com', `sha256:${digest}`,
    ]);
    assert.ok(bundle.some((m) => /noble/.test(m)), `noble loaded for a digest: ${bundle.join(' ')}`);
  });
});
