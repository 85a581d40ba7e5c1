/**
 * The V8 code cache that bin/gitsign, the human commands and the verification workers run their
 * bundle files through (src/cli/codeCache.ts): a cache is only ever used for the bundle it was made
 * for, and a git call's cache is not replaced by a run that compiled less of git's path.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const HELPER = join(__dirname, '..', 'src', 'cli', 'codeCache.js');
const dir = mkdtempSync(join(tmpdir(), 'gitsign-code-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle whose answer is computed by a function (so the cache holds its compiled code). */
const bundle = (word: string): string => `'use strict';\nfunction answer() { return ${JSON.stringify(word)}; }\nprocess.stdout.write(answer());\n`;

/**
 * Runs `file` through runCached in a fresh process (the cache is written at its exit); its output.
 * `flag`: the process first changes that V8 compiler flag, as a batch command does (batchTuning.ts).
 */
function run(file: string, opts: object = {}, flag?: [string, string]): string {
  const tune = flag ? `h.setCompilerFlag(${JSON.stringify(flag[0])}, ${JSON.stringify(flag[1])}); ` : '';
  const code = `const h = require(${JSON.stringify(HELPER)}); ${tune}h.runCached(${JSON.stringify(file)}, ${JSON.stringify(opts)})`;
  return execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30_000 });
}

const stampOf = (file: string): string => {
  const cache = readFileSync(`${file}.cache`);
  return cache.subarray(0, cache.indexOf(0x0a)).toString();
};

describe('code cache of the bundle files', () => {
  test('the first run writes FILE.cache stamped with the bundle it was made for; the next runs use it', () => {
    const file = join(dir, 'first.js');
    writeFileSync(file, bundle('one'));
    assert.equal(run(file), 'one');
    const { size, mtimeMs } = statSync(file);
    assert.equal(stampOf(file), `${size}:${mtimeMs}:all`);
    const before = readFileSync(`${file}.cache`);
    assert.equal(run(file), 'one');
    assert.deepEqual(readFileSync(`${file}.cache`), before, 'a valid cache is not rewritten');
  });

  test('a run that changed a compiler flag (a batch command) reads and makes the cache under the defaults: other runs keep using it', () => {
    const file = join(dir, 'tuned.js');
    writeFileSync(file, bundle('one'));
    const noInlining: [string, string] = ['--no-turbo-inlining', '--turbo-inlining'];
    assert.equal(run(file, {}, noInlining), 'one');
    const made = readFileSync(`${file}.cache`);
    // V8 refuses a cache made under other flags, and a refused cache is written again: it would be by each run if one kind made it under its flags.
    assert.equal(run(file), 'one');
    assert.deepEqual(readFileSync(`${file}.cache`), made, 'a run with the default flags uses the cache the tuned run made');
    assert.equal(run(file, {}, noInlining), 'one');
    assert.deepEqual(readFileSync(`${file}.cache`), made, 'and so does the next tuned run');
  });

  test('a rebuilt bundle of the same length never runs with the old bundle\'s compiled code', () => {
    const file = join(dir, 'rebuilt.js');
    writeFileSync(file, bundle('one'));
    assert.equal(run(file), 'one');
    assert.ok(existsSync(`${file}.cache`));
    // Same length (V8's own check passes), another modification time.
    writeFileSync(file, bundle('two'));
    const t = new Date(statSync(file).mtimeMs + 5_000);
    utimesSync(file, t, t);
    assert.equal(run(file), 'two');
    assert.equal(stampOf(file), `${statSync(file).size}:${statSync(file).mtimeMs}:all`, 'the cache is remade for the new bundle');
  });

  test('a garbage cache with a valid stamp is rejected by V8 and replaced; the bundle still runs', () => {
    const file = join(dir, 'garbage.js');
    writeFileSync(file, bundle('one'));
    const { size, mtimeMs } = statSync(file);
    writeFileSync(`${file}.cache`, Buffer.concat([Buffer.from(`${size}:${mtimeMs}:all\n`), Buffer.alloc(4096, 0x5a)]));
    assert.equal(run(file), 'one');
    assert.ok(readFileSync(`${file}.cache`).length !== 4096 + `${size}:${mtimeMs}:all\n`.length, 'the garbage cache is replaced');
  });

  test("a git call's cache is kept by other runs; another run's cache is replaced by a git call (bin/gitsign's kinds)", () => {
    const file = join(dir, 'kinds.js');
    writeFileSync(file, bundle('one'));
    const kinds = ['git', 'other'];
    run(file, { kind: 'other', kinds });
    assert.match(stampOf(file), /:other$/);
    run(file, { kind: 'git', kinds });
    assert.match(stampOf(file), /:git$/);
    run(file, { kind: 'other', kinds });
    assert.match(stampOf(file), /:git$/);
  });

  test('a file loaded twice in one thread (two bundles import it) runs once and gives the same exports, as require() does', () => {
    const file = join(dir, 'twice.js');
    writeFileSync(file, `'use strict';\nglobalThis.__codeCacheRuns = (globalThis.__codeCacheRuns ?? 0) + 1;\nmodule.exports = { made: {} };\n`);
    const code = `const { runCached } = require(${JSON.stringify(HELPER)}); const a = runCached(${JSON.stringify(file)}).exports; const b = runCached(${JSON.stringify(file)}).exports; process.stdout.write(String(a === b && a.made === b.made) + ' ' + globalThis.__codeCacheRuns);`;
    assert.equal(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 30_000 }), 'true 1');
  });

  test('saveAtExit: false writes nothing until saveCache is called', () => {
    const file = join(dir, 'manual.js');
    writeFileSync(file, bundle('one'));
    run(file, { saveAtExit: false });
    assert.equal(existsSync(`${file}.cache`), false);
    const code = `require(${JSON.stringify(HELPER)}).runCached(${JSON.stringify(file)}, { saveAtExit: false }).saveCache()`;
    execFileSync(process.execPath, ['-e', code], { timeout: 30_000 });
    assert.ok(existsSync(`${file}.cache`));
  });
});
