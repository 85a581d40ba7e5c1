import { writeSync } from 'node:fs';
import { terminalLine } from '../text/terminal';

/**
 * GnuPG-style status lines on the fd git passed with --status-fd (-1: discarded). git only looks at
 * lines starting with "[GNUPG:] ", and needs GOODSIG / SIG_CREATED after a newline.
 */
export class StatusWriter {
  constructor(private readonly fd: number) {}

  emit(line: string): void {
    if (this.fd < 0) return;
    // git shows these lines (verify-commit --raw): escaped like any text, one line each.
    writeSync(this.fd, `[GNUPG:] ${terminalLine(line)}\n`);
  }
}

/**
 * Who signed, for git's %GS: git takes the rest of a GOODSIG/BADSIG line after the key as the signer.
 * The Go gitsign writes the leaf's Subject there, which is empty in a Fulcio certificate; we write its
 * identities (SANs). It is never empty: git (2.39 and today) then leaves its parser on that line's
 * newline and skips the next status line, so `TRUST_FULLY` was never read and %GT aborted git 2.39
 * ("BUG: invalid trust level requested -1"). Only for a verified signature: a bad one's certificate
 * names whoever its maker chose, so BADSIG names no one. The StatusWriter escapes it to one line.
 */
export function signerName(cert: { subjectAlternativeNames: string[]; fingerprint: string }): string {
  return cert.subjectAlternativeNames.join(', ') || `certificate ${cert.fingerprint} (no identity)`;
}

/**
 * git's trust levels (gpg-interface.c): %G? shows U for a good signature of trust UNDEFINED or NEVER,
 * G above; merge/pull --verify-signatures refuse below MARGINAL unless gpg.minTrustLevel is set.
 */
export type TrustLevel = 'UNDEFINED' | 'NEVER' | 'FULLY';

/**
 * A good signature's status lines: the Go gitsign's, with the signer named. `TRUST_FULLY 0 shell` is
 * what gpgsm writes; git reads only its first word (FULLY, for %GT and gpg.minTrustLevel). A signing
 * policy lowers the trust of a signer it does not authorize.
 */
export function goodSignatureLines(fingerprint: string, signer: string, trust: TrustLevel = 'FULLY'): string[] {
  return [`GOODSIG ${fingerprint} ${signer}`, `TRUST_${trust} 0 shell`];
}

/** OpenPGP algorithm numbers for the *issuer's* signature on the leaf, as gitsign reports them. */
const PK_HASH: Record<string, [number, number]> = {
  '1.2.840.10045.4.3.2': [19, 8],
  '1.2.840.10045.4.3.3': [19, 9],
  '1.2.840.10045.4.3.4': [19, 10],
  '1.2.840.113549.1.1.5': [1, 2],
  '1.2.840.113549.1.1.11': [1, 8],
  '1.2.840.113549.1.1.12': [1, 9],
  '1.2.840.113549.1.1.13': [1, 10],
};

/** `SIG_CREATED <D|S> <pkAlgo> <hashAlgo> 00 <unix time> <sha1 fingerprint>`. */
export function sigCreatedLine(detached: boolean, cert: { signatureAlgorithmOid: string; fingerprint: string }, now = new Date()): string {
  const [pk, hash] = PK_HASH[cert.signatureAlgorithmOid] ?? [0, 0];
  return `SIG_CREATED ${detached ? 'D' : 'S'} ${pk} ${hash} 00 ${Math.floor(now.getTime() / 1000)} ${cert.fingerprint}`;
}
