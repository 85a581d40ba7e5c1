/** The hash of each signature algorithm Fulcio, CT logs and common CAs use (by OID). */
export const SIGNATURE_HASH: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'sha512', // ecdsa-with-SHA512
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'sha512', // sha512WithRSAEncryption
};

/** rsaEncryption: a CMS signer may name the key type only; the digest algorithm gives the hash. */
export const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
