import { writeSync } from 'node:fs';

/**
 * GnuPG-style status lines on the fd git passed with --status-fd (-1: discarded). git only looks at
 * lines starting with "[GNUPG:] ", and needs GOODSIG / SIG_CREATED after a newline.
 */
export class StatusWriter {
  constructor(private readonly fd: number) {}

  emit(line: string): void {
    if (this.fd < 0) return;
    writeSync(this.fd, `[GNUPG:] ${line}\n`);
  }
}

/** The exact verify-mode lines of the Go gitsign on success: the subject of a Fulcio leaf is empty. */
export function goodSignatureLines(fingerprint: string, subject = ''): string[] {
  return [`GOODSIG ${fingerprint} ${subject}`, 'TRUST_FULLY 0 shell'];
}
