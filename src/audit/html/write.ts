import { GitsignError, quoted } from '../../errors';
import { writeAtomic } from '../../trust/safeFiles';
import type { AuditReport } from '../engine';
import { auditPage } from './page';

/** Writes the page in one step (a reader never sees half of it; an existing file or link at path is replaced, not followed). */
export function writeAuditPage(path: string, report: AuditReport, version: string): void {
  const page = auditPage(report, { generator: `gitsign-ts ${version}`, generatedAt: new Date() });
  try {
    writeAtomic(path, page);
  } catch (err) {
    throw new GitsignError('USAGE', `cannot write the page ${quoted(path)}: ${(err as NodeJS.ErrnoException).code ?? 'write error'}`);
  }
}
