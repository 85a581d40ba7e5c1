import { constants, publicDecrypt, type KeyObject } from 'node:crypto';

/**
 * Signature checks over a digest the verifier never saw the message of (Rekor's hashedrekord holds only
 * the hash). node:crypto always hashes the message itself, so ECDSA is verified here with bigint
 * arithmetic (P-256, P-384) and RSA PKCS#1 v1.5 by opening the signature and comparing DigestInfo.
 */
interface Curve {
  p: bigint;
  b: bigint;
  n: bigint;
  gx: bigint;
  gy: bigint;
  bits: number;
}

const CURVES: Record<string, Curve> = {
  prime256v1: {
    p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    gx: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    gy: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    bits: 256,
  },
  secp384r1: {
    p: 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    gx: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
    gy: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    bits: 384,
  },
};

type Jacobian = [bigint, bigint, bigint]; // Z = 0 is the point at infinity

const mod = (a: bigint, m: bigint): bigint => {
  const r = a % m;
  return r < 0n ? r + m : r;
};

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return mod(s0, m);
}

function double(P: Jacobian, p: bigint): Jacobian {
  const [X, Y, Z] = P;
  if (Z === 0n || Y === 0n) return [0n, 1n, 0n];
  const delta = (Z * Z) % p;
  const gamma = (Y * Y) % p;
  const beta = (X * gamma) % p;
  const alpha = (3n * mod(X - delta, p) * (X + delta)) % p; // a = -3
  const X3 = mod(alpha * alpha - 8n * beta, p);
  const Z3 = mod((Y + Z) * (Y + Z) - gamma - delta, p);
  const Y3 = mod(alpha * (4n * beta - X3) - 8n * gamma * gamma, p);
  return [X3, Y3, Z3];
}

function add(P: Jacobian, Q: Jacobian, p: bigint): Jacobian {
  if (P[2] === 0n) return Q;
  if (Q[2] === 0n) return P;
  const [X1, Y1, Z1] = P;
  const [X2, Y2, Z2] = Q;
  const z1z1 = (Z1 * Z1) % p;
  const z2z2 = (Z2 * Z2) % p;
  const u1 = (X1 * z2z2) % p;
  const u2 = (X2 * z1z1) % p;
  const s1 = (((Y1 * Z2) % p) * z2z2) % p;
  const s2 = (((Y2 * Z1) % p) * z1z1) % p;
  const h = mod(u2 - u1, p);
  const r = mod(s2 - s1, p);
  if (h === 0n) return r === 0n ? double(P, p) : [0n, 1n, 0n];
  const h2 = (h * h) % p;
  const h3 = (h2 * h) % p;
  const u1h2 = (u1 * h2) % p;
  const X3 = mod(r * r - h3 - 2n * u1h2, p);
  const Y3 = mod(r * (u1h2 - X3) - s1 * h3, p);
  const Z3 = (((Z1 * Z2) % p) * h) % p;
  return [X3, Y3, Z3];
}

const big = (b: Buffer): bigint => (b.length ? BigInt('0x' + b.toString('hex')) : 0n);

/** r and s from a DER ECDSA-Sig-Value, strictly: SEQUENCE { INTEGER, INTEGER } and nothing after. */
function parseDerSignature(sig: Buffer): [bigint, bigint] | undefined {
  let i = 0;
  const readLen = (): number | undefined => {
    if (i >= sig.length) return undefined;
    const first = sig[i++];
    if (first < 0x80) return first;
    const n = first & 0x7f;
    if (n === 0 || n > 2 || i + n > sig.length) return undefined;
    let len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + sig[i++];
    return len;
  };
  if (sig[i++] !== 0x30) return undefined;
  const total = readLen();
  if (total === undefined || i + total !== sig.length) return undefined;
  const ints: bigint[] = [];
  for (let k = 0; k < 2; k++) {
    if (sig[i++] !== 0x02) return undefined;
    const len = readLen();
    if (!len || i + len > sig.length) return undefined;
    if (sig[i] & 0x80) return undefined; // negative
    ints.push(big(sig.subarray(i, i + len)));
    i += len;
  }
  return i === sig.length ? [ints[0], ints[1]] : undefined;
}

export function ecdsaVerifyDigest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (!curve) throw new Error(`unsupported curve ${key.asymmetricKeyDetails?.namedCurve ?? '?'}`);
  const { p, n } = curve;
  const jwk = key.export({ format: 'jwk' });
  const qx = big(Buffer.from(jwk.x as string, 'base64url'));
  const qy = big(Buffer.from(jwk.y as string, 'base64url'));
  if (mod(qy * qy - (qx * qx * qx - 3n * qx + curve.b), p) !== 0n) return false;
  const rs = parseDerSignature(signature);
  if (!rs) return false;
  const [r, s] = rs;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  let e = big(digest);
  const excess = digest.length * 8 - curve.bits;
  if (excess > 0) e >>= BigInt(excess);
  const w = inverse(s, n);
  const u1 = (e * w) % n;
  const u2 = (r * w) % n;
  const G: Jacobian = [curve.gx, curve.gy, 1n];
  const Q: Jacobian = [qx, qy, 1n];
  const GQ = add(G, Q, p);
  let R: Jacobian = [0n, 1n, 0n];
  for (let bit = BigInt(Math.max(u1.toString(2).length, u2.toString(2).length) - 1); bit >= 0n; bit--) {
    R = double(R, p);
    const b1 = (u1 >> bit) & 1n;
    const b2 = (u2 >> bit) & 1n;
    if (b1 && b2) R = add(R, GQ, p);
    else if (b1) R = add(R, G, p);
    else if (b2) R = add(R, Q, p);
  }
  if (R[2] === 0n) return false;
  const zinv = inverse(R[2], p);
  const x = (R[0] * ((zinv * zinv) % p)) % p;
  return x % n === r;
}

const DIGEST_INFO_PREFIX: Record<number, Buffer> = {
  32: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  48: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  64: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export function rsaPkcs1VerifyDigest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  const prefix = DIGEST_INFO_PREFIX[digest.length];
  if (!prefix) return false;
  try {
    const opened = publicDecrypt({ key, padding: constants.RSA_PKCS1_PADDING }, signature);
    return opened.equals(Buffer.concat([prefix, digest]));
  } catch {
    return false;
  }
}

/** Verifies a signature over a digest with an ECDSA (P-256/P-384) or RSA PKCS#1 v1.5 key. */
export function verifyDigest(key: KeyObject, digest: Buffer, signature: Buffer): boolean {
  if (key.asymmetricKeyType === 'ec') return ecdsaVerifyDigest(key, digest, signature);
  if (key.asymmetricKeyType === 'rsa') return rsaPkcs1VerifyDigest(key, digest, signature);
  throw new Error(`unsupported key type ${key.asymmetricKeyType ?? '?'}`);
}
