import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { algorithm, bits, explicit, int, seq, time } from '../../src/asn1/writer';
import { buildSignedData, signedAttributes } from '../../src/cms/build';
import { encodePem } from '../../src/cms/pem';
import { emptyName, encodeExtension, ext, name, OIDS, spkiOf } from '../../src/sandbox/x509/build';

/**
 * A private Fulcio-like PKI for hostile-certificate tests: a root, intermediates with chosen
 * properties, and leaves whose every field can be replaced by raw DER, each signed by a real key so
 * only the property under test is wrong. Leaves sign detached CMS over commit payloads, written into
 * commits as git stores them.
 */
export const ISSUER_URL = 'https://issuer.example';
export const IDENTITY = 'jane@example.com';
export const ECDSA_SHA256 = '1.2.840.10045.4.3.2';
export const ECDSA_SHA384 = '1.2.840.10045.4.3.3';
const ORG = 'gitsign-ts test';
const HOUR = 3600 * 1000;

export interface Ca {
  name: Buffer;
  key: KeyObject;
  spki: Buffer;
  der: Buffer;
  /** The CA that issued it (none for the root). */
  parent?: Ca;
}

/** One extension of a leaf, keyed by OID so cases can drop or replace it. */
export type LeafExtension = [oid: string, der: Buffer];

export interface LeafParts {
  /** The [0] version field (null: absent, a v1 certificate). */
  version?: Buffer | null;
  serial?: Buffer;
  innerAlg?: Buffer;
  outerAlg?: Buffer;
  validity?: Buffer;
  spki?: Buffer;
  /** issuerUniqueID [1] and subjectUniqueID [2] fields, after the key. */
  uniqueIds?: Buffer[];
  extensions?: LeafExtension[];
  /** How the issuer signs the TBS: its hash (ECDSA or RSA PKCS#1 by the key's type). */
  hash?: 'sha256' | 'sha384';
  /** The signature BIT STRING from the signature value. */
  signatureBits?: (sig: Buffer) => Buffer;
}

export const extension = (oid: string, value: Buffer, critical = false): Buffer => encodeExtension({ oid, critical, value });

export class TestPki {
  readonly now = new Date(Math.floor(Date.now() / 1000) * 1000);
  readonly root: Ca;
  readonly leafKey: KeyObject;
  readonly leafSpki: Buffer;
  private readonly cas: Ca[] = [];

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const rootName = name(ORG, 'test-root');
    const rootSpki = spkiOf(publicKey);
    this.root = {
      name: rootName,
      key: privateKey,
      spki: rootSpki,
      der: this.sign(privateKey, {
        issuer: rootName,
        subject: rootName,
        spki: rootSpki,
        validity: this.validity(-24 * HOUR, 24 * HOUR),
        extensions: [ext.keyUsage([5, 6]), ext.basicConstraints(true, 1), ext.subjectKeyId(rootSpki)].map(encodeExtension),
      }),
    };
    const leaf = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.leafKey = leaf.privateKey;
    this.leafSpki = spkiOf(leaf.publicKey);
  }

  validity(fromMs: number, toMs: number): Buffer {
    return seq(time(new Date(this.now.getTime() + fromMs)), time(new Date(this.now.getTime() + toMs)));
  }

  /** An intermediate under the root, named `cn`, with the extensions of a Fulcio intermediate unless given. */
  intermediate(cn: string, opts: { key?: { privateKey: KeyObject; publicKey: KeyObject }; extensions?: Buffer[]; parent?: Ca } = {}): Ca {
    const { privateKey, publicKey } = opts.key ?? generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const parent = opts.parent ?? this.root;
    const spki = spkiOf(publicKey);
    const subject = name(ORG, cn);
    const extensions = opts.extensions ?? [
      encodeExtension(ext.keyUsage([5, 6])),
      encodeExtension(ext.extKeyUsage([OIDS.codeSigning])),
      encodeExtension(ext.basicConstraints(true, 0)),
      encodeExtension(ext.subjectKeyId(spki)),
      encodeExtension(ext.authorityKeyId(parent.spki)),
    ];
    const der = this.sign(parent.key, { issuer: parent.name, subject, spki, validity: this.validity(-24 * HOUR, 24 * HOUR), extensions });
    const ca: Ca = { name: subject, key: privateKey, spki, der, parent };
    this.cas.push(ca);
    return ca;
  }

  /** The extensions of a Fulcio leaf for IDENTITY (KU and SAN critical, as Fulcio marks them). */
  leafExtensions(issuer: Ca): LeafExtension[] {
    return [
      [OIDS.keyUsage, encodeExtension(ext.keyUsage([0]))],
      [OIDS.extKeyUsage, encodeExtension(ext.extKeyUsage([OIDS.codeSigning]))],
      [OIDS.subjectKeyId, encodeExtension(ext.subjectKeyId(this.leafSpki))],
      [OIDS.authorityKeyId, encodeExtension(ext.authorityKeyId(issuer.spki))],
      [OIDS.subjectAltName, encodeExtension(ext.subjectAltName([{ email: IDENTITY }]))],
      ['1.3.6.1.4.1.57264.1.1', encodeExtension(ext.raw('1.3.6.1.4.1.57264.1.1', ISSUER_URL))],
      ['1.3.6.1.4.1.57264.1.8', encodeExtension(ext.utf8('1.3.6.1.4.1.57264.1.8', ISSUER_URL))],
    ];
  }

  /** A leaf for the leaf key issued by `issuer`, each part replaceable. */
  leaf(issuer: Ca, parts: LeafParts = {}): Buffer {
    return this.sign(issuer.key, {
      ...parts,
      issuer: issuer.name,
      subject: emptyName(),
      spki: parts.spki ?? this.leafSpki,
      validity: parts.validity ?? this.validity(-HOUR, HOUR),
      extensions: (parts.extensions ?? this.leafExtensions(issuer)).map(([, der]) => der),
    });
  }

  private sign(key: KeyObject, p: Omit<LeafParts, 'extensions'> & { issuer: Buffer; subject: Buffer; spki: Buffer; validity: Buffer; extensions: Buffer[] }): Buffer {
    const hash = p.hash ?? 'sha256';
    const alg = algorithm(hash === 'sha256' ? ECDSA_SHA256 : ECDSA_SHA384);
    const inner = p.innerAlg ?? alg;
    const version = p.version === undefined ? explicit(0, int(2)) : p.version;
    const serial = p.serial ?? int(Buffer.from('4a61e5c0ffee0123456789abcdef', 'hex'));
    const tbs = seq(...(version ? [version] : []), serial, inner, p.issuer, p.validity, p.subject, p.spki, ...(p.uniqueIds ?? []), explicit(3, seq(...p.extensions)));
    const signature = sign(hash, tbs, key);
    return seq(tbs, p.outerAlg ?? inner, p.signatureBits ? p.signatureBits(signature) : bits(signature));
  }

  /** A Sigstore trusted root listing the root with every intermediate made so far, each as a CA. */
  writeTrustedRoot(dir: string): string {
    const start = new Date(this.now.getTime() - 48 * HOUR).toISOString();
    const json = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [],
      ctlogs: [],
      timestampAuthorities: [],
      certificateAuthorities: this.cas.map((ca, i) => {
        const chain: Ca[] = [];
        for (let c: Ca | undefined = ca; c; c = c.parent) chain.push(c);
        return {
          subject: { organization: ORG, commonName: `ca-${i}` },
          uri: `https://ca-${i}.example`,
          certChain: { certificates: chain.map((c) => ({ rawBytes: c.der.toString('base64') })) },
          validFor: { start },
        };
      }),
    };
    const path = join(dir, 'trusted_root.json');
    writeFileSync(path, JSON.stringify(json));
    return path;
  }

  /** A commit signed by `key` (the leaf key) with `certDer` as its certificate (gitsign's CMS layout: ecdsa-with-SHA256). */
  signedCommit(certDer: Buffer, message: string, key: KeyObject = this.leafKey): Buffer {
    const headers = `tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor Jane <${IDENTITY}> 1700000000 +0000\ncommitter Jane <${IDENTITY}> 1700000000 +0000\n`;
    const payload = Buffer.from(`${headers}\n${message}\n`);
    const signedAttrs = signedAttributes(payload, this.now);
    const der = buildSignedData({ certDer, signedAttrs, signature: sign('sha256', signedAttrs, key) });
    const pem = encodePem('SIGNED MESSAGE', der).replace(/\n$/, '').split('\n').join('\n ');
    return Buffer.from(`${headers}gpgsig ${pem}\n\n${message}\n`);
  }
}
