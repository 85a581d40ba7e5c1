import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { CertificateAuthority, createIntermediateCertificate, createRootCertificate } from '../fulcio/ca';
import { CtLog } from '../fulcio/ctlog';
import type { Material } from '../state/material';
import { spkiOf } from '../x509/build';
import { delegate } from './delegate';
import type { FaultKind } from './kinds';

/**
 * Fulcio's faults, as the CA the Fulcio service issues with: the token and the proof of possession are
 * checked as always, then the certificate is issued wrongly, but otherwise well formed and signed.
 * unknown-ca: a root and intermediate made at start, with the real ones' names and other keys; the
 * trust bundle endpoints serve that chain too. sct-forged: the SCT names the trusted CT log and is
 * signed by a key made at start. sct-missing wins over sct-forged.
 */
function keyPair(namedCurve: 'P-256' | 'P-384'): { key: KeyObject; pub: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
  return { key: privateKey, pub: publicKey };
}

function rogueChain(createdAt: Date): { key: KeyObject; pub: KeyObject; rootDer: Buffer; intermediateDer: Buffer } {
  const root = keyPair('P-384');
  const intermediate = keyPair('P-384');
  return {
    ...intermediate,
    rootDer: createRootCertificate(root.key, root.pub, createdAt),
    intermediateDer: createIntermediateCertificate(root.key, root.pub, intermediate.pub, createdAt),
  };
}

export function faultyCertificateAuthority(ca: CertificateAuthority, kinds: Set<FaultKind>, material: Material, ctlog: CtLog): CertificateAuthority {
  let issuing = ca;
  if (kinds.has('unknown-ca') || kinds.has('sct-missing') || kinds.has('sct-forged')) {
    const real = material.fulcioIntermediate;
    const chain = kinds.has('unknown-ca')
      ? rogueChain(material.createdAt)
      : { key: real.key, pub: real.pub, rootDer: material.fulcioRoot.cert, intermediateDer: real.cert };
    const sctLog = kinds.has('sct-missing') ? undefined : kinds.has('sct-forged') ? new CtLog(keyPair('P-256').key, ctlog.publicKey) : ctlog;
    issuing = new CertificateAuthority(chain.key, chain.pub, chain.rootDer, chain.intermediateDer, sctLog);
  }
  if (!kinds.has('certificate-for-another-key')) return issuing;
  const otherKey = spkiOf(keyPair('P-256').pub);
  const issuer = issuing;
  return delegate(issuer, { issue: (_requested, principal, now) => issuer.issue(otherKey, principal, now) });
}
