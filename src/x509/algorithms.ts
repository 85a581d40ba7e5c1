/** The hash of each signature algorithm Fulcio, CT logs and common CAs use (by OID). */
export const SIGNATURE_HASH: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'sha256', // ecdsa-with-SHA256
  '1.2.840.10045.4.3.3': 'sha384', // ecdsa-with-SHA384
  '1.2.840.10045.4.3.4': 'sha512', // ecdsa-with-SHA512
  '1.2.840.113549.1.1.11': 'sha256', // sha256WithRSAEncryption
  '1.2.840.113549.1.1.12': 'sha384', // sha384WithRSAEncryption
  '1.2.840.113549.1.1.13': 'sha512', // sha512WithRSAEncryption
};

/** The key type (node:crypto's asymmetricKeyType) each of those algorithms needs, as Go checks. */
export const SIGNATURE_KEY_TYPE: Readonly<Record<string, string>> = {
  '1.2.840.10045.4.3.2': 'ec',
  '1.2.840.10045.4.3.3': 'ec',
  '1.2.840.10045.4.3.4': 'ec',
  '1.2.840.113549.1.1.11': 'rsa',
  '1.2.840.113549.1.1.12': 'rsa',
  '1.2.840.113549.1.1.13': 'rsa',
};

/** rsaEncryption: a CMS signer may name the key type only; the digest algorithm gives the hash. */
export const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
