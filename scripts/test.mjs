// Runs every compiled *.test.js under dist/tsc/test with node's test runner (Node 20 takes no globs).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = 'dist/tsc/test';
const files = readdirSync(root, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js') && (process.argv.length <= 2 || process.argv.slice(2).some((p) => f.includes(p))))
  .map((f) => join(root, f))
  .sort();
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
