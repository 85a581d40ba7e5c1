import { createPrivateKey, X509Certificate } from 'node:crypto';
import { GitsignError } from '../errors';
import type { WireCredential } from './rpc';

/**
 * The daemon's entries by gitsign's ID (host@directory), in memory only (never written anywhere),
 * each dropped when its certificate expires. A new credential for an ID replaces the old one (Go
 * gitsign's daemon refuses the second store until the first expires, which leaves a signer without
 * a cached identity when it had to log in again).
 */
export const MAX_ENTRIES = 1024;

interface Entry {
  credential: WireCredential;
  notAfter: number;
  timer: NodeJS.Timeout;
}

export class CredentialStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.entries.size;
  }

  get(k: string): WireCredential | null {
    const e = this.entries.get(k);
    if (!e) return null;
    if (e.notAfter <= this.now()) {
      this.drop(k);
      return null;
    }
    return e.credential;
  }

  /** Keeps a credential whose key pair matches and whose certificate is still valid. */
  put(k: string, credential: WireCredential): void {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(credential.cert);
      if (!cert.checkPrivateKey(createPrivateKey(credential.privateKey))) throw new Error('mismatch');
    } catch {
      throw new GitsignError('CERTIFICATE', 'the credential is not a PEM certificate with its private key');
    }
    const notAfter = Date.parse(cert.validTo);
    const left = notAfter - this.now();
    if (!(left > 0)) throw new GitsignError('CERTIFICATE', 'the certificate has expired');
    this.drop(k);
    if (this.entries.size >= MAX_ENTRIES) this.drop(this.soonestToExpire());
    // Timers are capped by Node at ~24.8 days; Fulcio certificates last 10 minutes.
    const timer = setTimeout(() => this.drop(k), Math.min(left, 2 ** 31 - 1));
    timer.unref();
    this.entries.set(k, { credential, notAfter, timer });
  }

  private soonestToExpire(): string {
    let best = '';
    let at = Infinity;
    for (const [k, e] of this.entries) if (e.notAfter < at) [best, at] = [k, e.notAfter];
    return best;
  }

  private drop(k: string): void {
    const e = this.entries.get(k);
    if (!e) return;
    clearTimeout(e.timer);
    this.entries.delete(k);
  }

  clear(): void {
    for (const k of [...this.entries.keys()]) this.drop(k);
  }
}
