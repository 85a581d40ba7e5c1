import { type KeyObject, verify as cryptoVerify } from 'node:crypto';

/** crypto.verify, with whatever node:crypto refuses (a malformed signature, a key it cannot use) as false. */
export function verifyNow(hash: string | null, data: Buffer, key: KeyObject, signature: Buffer): boolean {
  try {
    return cryptoVerify(hash, data, key, signature);
  } catch {
    return false;
  }
}

/**
 * verifyNow on libuv's thread pool instead of the calling thread: the ECDSA checks of a certificate
 * chain and of a CMS signer are most of the cost of verifying an object, and off the JavaScript
 * thread they run on every core while the next objects are read and parsed.
 */
export function verifyOffThread(hash: string | null, data: Buffer, key: KeyObject, signature: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      cryptoVerify(hash, data, key, signature, (err, ok) => resolve(!err && ok));
    } catch {
      resolve(false);
    }
  });
}
