// Runs the compiled *.test.js files under dist/tsc/test (those whose path contains one of the
// arguments, when there are any) with node's test runner, one process per file, two at a time.
// Each file runs in its own process group under a watchdog: a file still running after its time
// (GITSIGN_TEST_FILE_TIMEOUT seconds, default 600) is killed with every process it started, and the
// report names it. A file's output is printed whole when it ends, so two files never interleave.
//   GITSIGN_TEST_ROOT       where the compiled tests are (default dist/tsc/test)
//   GITSIGN_TEST_JOBS       files run at once (default 2)
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = process.env.GITSIGN_TEST_ROOT || 'dist/tsc/test';
const timeoutS = Number(process.env.GITSIGN_TEST_FILE_TIMEOUT || 600);
const jobs = Math.max(1, Number(process.env.GITSIGN_TEST_JOBS || 2));
if (!(timeoutS > 0)) {
  process.stderr.write(`test: GITSIGN_TEST_FILE_TIMEOUT must be a number of seconds, not ${JSON.stringify(process.env.GITSIGN_TEST_FILE_TIMEOUT)}\n`);
  process.exit(2);
}
const filters = process.argv.slice(2);
const files = readdirSync(root, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js') && (filters.length === 0 || filters.some((p) => f.includes(p))))
  .map((f) => join(root, f))
  .sort();
if (files.length === 0) {
  process.stderr.write(`test: no test file under ${root} matches ${filters.join(' ') || '*.test.js'} (run npm run build first?)\n`);
  process.exit(1);
}

const running = new Set();
/** Kills a file's whole process group: its test runner, the test process, and what they started. */
function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    process.exit(130);
  });
}

/** One file in its own process group; resolves with how it ended. */
function runFile(file) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', file], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const out = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => out.push(c));
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGTERM');
      // What ignores SIGTERM (or is stuck) gets SIGKILL shortly after.
      setTimeout(() => killGroup(child, 'SIGKILL'), 5_000).unref();
    }, timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      running.delete(child);
      // Anything the file left behind in its group (a daemon, a browser) goes too.
      killGroup(child, 'SIGKILL');
      resolve({ file, code, signal, timedOut, seconds: (Date.now() - started) / 1000, output: Buffer.concat(out).toString('utf8') });
    });
  });
}

const results = [];
const queue = [...files];
async function worker() {
  while (queue.length) {
    const file = queue.shift();
    process.stdout.write(`test: started ${file}\n`);
    const r = await runFile(file);
    const verdict = r.timedOut ? `TIMED OUT after ${timeoutS} s, killed with its processes` : r.code === 0 ? 'passed' : `FAILED (exit ${r.code ?? r.signal})`;
    process.stdout.write(`\n===== ${file}: ${verdict} (${r.seconds.toFixed(1)} s)\n${r.output}`);
    if (r.timedOut) process.stdout.write(`===== ${file}: TIMED OUT: the file was still running after ${timeoutS} s (GITSIGN_TEST_FILE_TIMEOUT); its output up to then is above\n`);
    results.push({ ...r, verdict });
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

const bad = results.filter((r) => r.timedOut || r.code !== 0);
process.stdout.write(`\ntest: ${results.length - bad.length} of ${results.length} files passed\n`);
for (const r of bad.sort((a, b) => a.file.localeCompare(b.file))) process.stdout.write(`test: ${r.file}: ${r.verdict}\n`);
// The tests of all files, from each file's closing counts; a file that ended without them counts as one failure.
const count = (output, what) => [...output.matchAll(new RegExp(`^\u2139 ${what} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
let passed = 0;
let failed = 0;
let skipped = 0;
for (const r of results) {
  const p = count(r.output, 'pass');
  const f = count(r.output, 'fail') + count(r.output, 'cancelled');
  passed += p;
  skipped += count(r.output, 'skipped');
  failed += f === 0 && (r.timedOut || r.code !== 0) ? 1 : f;
}
process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(bad.length ? 1 : 0);
