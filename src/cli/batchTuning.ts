import { availableParallelism } from 'node:os';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { setCompilerFlag } = require('./codeCache.js') as typeof import('./codeCache');

/**
 * This process set up for a run over many objects: `gitsign verify --stdin` and ranges (signature
 * checks on libuv's thread pool while this thread parses the next objects) and `gitsign audit`.
 * Measured (2 cores, alternating runs):
 * - the pool gets one thread per core instead of libuv's 4: threads beyond the cores only took
 *   time from this thread, which every object passes through (corpus: wall 2.52 -> 2.32 s);
 * - V8's optimizing compiler stops inlining: its compile jobs, on the same cores, cost more than
 *   the inlined code saved over runs this short (corpus: CPU 3.54 -> 3.26 s, wall 2.02 -> 1.92 s;
 *   audit of 10,000 commits after one new one: 0.96 -> 0.92 s).
 * The code caches (dist/*.cache) are still read and made under V8's default flags (codeCache.ts).
 */
export function tuneForBatch(): void {
  // Read by libuv when the pool starts, at its first use: nothing before this point uses it.
  process.env.UV_THREADPOOL_SIZE ??= String(availableParallelism());
  setCompilerFlag('--no-turbo-inlining', '--turbo-inlining');
}
