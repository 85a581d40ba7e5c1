import type * as OpenPgp from 'openpgp';

/**
 * openpgp.js, loaded on first use: it costs ~60 ms to load, so git's calls never load it (its own
 * bundle file, like yaml and re2js: scripts/build.mjs); only audit and policy commands do.
 */
export function openpgpLib(): typeof OpenPgp {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('openpgp') as typeof OpenPgp;
}

/**
 * The library's settings for every read and check: unknown or malformed packets are refused rather
 * than skipped (a block we only half read is not verified); SHA-1, MD5 and RIPEMD-160 are refused
 * for document signatures (SHA-1 chosen-prefix collisions were shown on OpenPGP in 2020) but
 * tolerated in old keys' self-signatures, as openpgp.js does by default.
 */
export function strictConfig(lib: typeof OpenPgp): OpenPgp.PartialConfig {
  const { hash, publicKey } = lib.enums;
  return {
    ignoreUnsupportedPackets: false,
    ignoreMalformedPackets: false,
    enforceGrammar: true,
    rejectHashAlgorithms: new Set([hash.md5, hash.ripemd]),
    rejectMessageHashAlgorithms: new Set([hash.md5, hash.ripemd, hash.sha1]),
    rejectPublicKeyAlgorithms: new Set([publicKey.elgamal, publicKey.dsa]),
    minRSABits: 2047,
  };
}
