import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The project root (tests run from dist/tsc/test/...). */
export const ROOT = resolve(__dirname, '..', '..', '..', '..');
export const BIN = join(ROOT, 'bin', 'gitsign');
export const SHARED = resolve(ROOT, '..', 'shared');
export const CORPUS = join(SHARED, 'corpus');
export const CONFORMANCE = join(SHARED, 'conformance', 'bundle-verify');

/** Tests that need ../shared skip with a clear message when it is absent, never pass silently. */
export function sharedMissing(): string | false {
  return existsSync(CORPUS) ? false : `../shared/corpus is absent (expected at ${CORPUS})`;
}
