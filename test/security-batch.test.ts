/**
 * Issue 10, finding 6: one bad object must not poison a batch. `gitsign verify --stdin` over corpus
 * objects mixed with malformed ones gives each object its own result, in order; and the verification
 * pool itself, driven here in-process with its real worker, survives a worker thread that is killed
 * while it holds objects (process 'worker' events hand the test the real threads to terminate).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../src/config/config';
import { encodePem } from '../src/cms/pem';
import { VerifyPool } from '../src/cli/verifyPool';
import type { WorkerSetup } from '../src/cli/verifyWorker';
import type { RawObject } from '../src/git/catFile';
import { type ObjectType } from '../src/git/rawobj';
import { TempRepo } from './helpers/gitRepo';
import { corpusFile, parseJsonLines, rowType, signedRows, signatureDer, withSignature } from './helpers/corpus';
import { within } from './helpers/hostileServer';
import { BIN, sharedMissing } from './helpers/paths';

/** Flags under which every corpus object verifies (no log, no SCT, any identity): only the bad ones fail. */
const RELAXED = ['--offline', '--insecure-ignore-tlog', '--insecure-ignore-sct', '--certificate-identity-regexp', '.*', '--certificate-oidc-issuer-regexp', '.*'];
const EMBEDDED_COMMIT = 'sigstore__gitsign/ac15fa730306fb4cc6839e6345cfd924e1517f7b.commit';
/** Fulcio's issuer extension OID (1.3.6.1.4.1.57264.1.1), DER-encoded: its tag byte is what gets broken. */
const ISSUER_EXT_OID = Buffer.from('060a2b0601040183bf300101', 'hex');

interface Sample {
  name: string;
  type: ObjectType;
  raw: Buffer;
}

function corpusSamples(n: number): Sample[] {
  return signedRows()
    .slice(0, n)
    .map((row) => ({ name: basename(row.file), type: rowType(row), raw: readFileSync(corpusFile(row)) }));
}

/** The malformed objects of the batch, each wrong in a different place. */
function malformedSamples(): Sample[] {
  const raw = readFileSync(corpusFile({ file: EMBEDDED_COMMIT }));
  const { der } = signatureDer('commit', raw);
  // A certificate extension whose OID is an OCTET STRING: describing the certificate throws.
  const badExt = Buffer.from(der);
  badExt[badExt.indexOf(ISSUER_EXT_OID)] = 0x04;
  const garbage = Buffer.alloc(700, 0x5a);
  const cut = raw.indexOf('-----END SIGNED MESSAGE-----');
  return [
    { name: 'certificate extension with a non-OID', type: 'commit', raw: withSignature('commit', raw, badExt) },
    { name: 'CMS that is not DER', type: 'commit', raw: withSignature('commit', raw, garbage) },
    { name: 'CMS cut in half', type: 'commit', raw: withSignature('commit', raw, der.subarray(0, der.length >> 1)) },
    { name: 'object truncated inside its signature', type: 'commit', raw: raw.subarray(0, cut - 300) },
    { name: 'PEM armor around nothing', type: 'commit', raw: Buffer.from(raw.toString('latin1').replace(/gpgsig [^]*?-----END SIGNED MESSAGE-----\n/, `gpgsig ${encodePem('SIGNED MESSAGE', Buffer.alloc(0)).trimEnd().split('\n').join('\n ')}\n`), 'latin1') },
    { name: 'unsigned commit', type: 'commit', raw: Buffer.from('tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor A <a@b> 1 +0000\ncommitter A <a@b> 1 +0000\n\nplain\n') },
  ];
}

describe('finding 6: gitsign verify --stdin with malformed objects among good ones', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  let names: string[];
  let bad: Set<string>;
  before(() => {
    repo = new TempRepo();
    const good = corpusSamples(24);
    const malformed = malformedSamples();
    // Each malformed object between good ones, and a name git does not know.
    const mixed: (Sample | string)[] = [];
    good.forEach((s, i) => {
      mixed.push(s);
      if (i % 4 === 1 && malformed.length) mixed.push(malformed.shift()!);
    });
    mixed.splice(5, 0, 'refs/heads/no-such-branch');
    bad = new Set();
    names = mixed.map((s) => {
      if (typeof s === 'string') return bad.add(s), s;
      const sha = repo.importBytes(s.raw, s.type);
      if (!good.includes(s)) bad.add(sha);
      return sha;
    });
    assert.equal(bad.size, 7);
  });
  after(() => repo?.remove());

  test('--json: one line per object, in order, the good ones verified, the bad ones each with a code', () => {
    const r = repo.gitsign(['verify', '--stdin', '--json', ...RELAXED], `${names.join('\n')}\n`);
    assert.equal(r.stderr, '');
    assert.equal(r.status, 1);
    const lines = parseJsonLines(r.stdout);
    assert.deepEqual(
      lines.map((l) => l.object),
      names,
    );
    for (const l of lines) {
      if (bad.has(l.object)) {
        assert.equal(l.verified, false, JSON.stringify(l));
        assert.match(l.error?.code ?? '', /^[A-Z_]+$/, JSON.stringify(l));
      } else {
        assert.equal(l.verified, true, JSON.stringify(l));
      }
    }
  });

  test('human output: a summary for each good object, one error line for each bad one, and the count', () => {
    const r = repo.gitsign(['verify', '--stdin', ...RELAXED], `${names.join('\n')}\n`);
    assert.equal(r.status, 1);
    const errors = r.stderr.split('\n').filter(Boolean);
    assert.equal(errors.pop(), `${names.length - bad.size} verified, ${bad.size} failed`);
    assert.equal(errors.length, bad.size, r.stderr);
    assert.ok(errors.every((l) => l.startsWith('gitsign: ')), r.stderr);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('gitsign: Good signature from ')).length, names.length - bad.size);
  });

  test('human output with stdout and stderr in one file: each object reported in its place, good and bad (reports are written in batches)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gitsign-batch-order-'));
    const file = join(dir, 'out');
    const fd = openSync(file, 'w');
    try {
      const r = spawnSync(process.execPath, [BIN, 'verify', '--stdin', ...RELAXED], { cwd: repo.dir, env: repo.env, input: `${names.join('\n')}\n`, stdio: ['pipe', fd, fd], timeout: 120_000 });
      assert.equal(r.status, 1);
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(file, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    // The object each line is about: a good one's heading ("commit SHA"), a bad one's error line.
    const reported = text.split('\n').flatMap((l) => {
      const m = /^(?:commit|tag) ([0-9a-f]{40})$/.exec(l) ?? /^gitsign: (?:(?:commit|tag) )?([0-9a-f]{40}|refs\/heads\/no-such-branch)\b/.exec(l);
      return m ? [m[1]] : [];
    });
    assert.deepEqual(reported, names, text);
  });

  test('one malformed object alone (verified in-process) gets its JSON line too', () => {
    const sha = names.find((n) => bad.has(n) && /^[0-9a-f]{40}$/.test(n))!;
    const r = repo.gitsign(['verify', '--json', ...RELAXED, sha]);
    assert.equal(r.status, 1);
    assert.equal(r.stderr, '');
    const [line] = parseJsonLines(r.stdout);
    assert.equal(line.object, sha);
    assert.equal(line.verified, false);
  });
});

/** A pool of the real worker over corpus objects, verifying with the relaxed flags and the public-good root. */
function poolSetup(): WorkerSetup {
  return {
    cfg: loadConfig({}, tmpdir()),
    flags: { offline: true, ignoreTlog: true, ignoreSct: true },
    identity: { kind: 'none' },
    render: { json: true, heading: false },
  };
}

function rawObjects(samples: Sample[]): RawObject[] {
  return samples.map((s) => ({ sha: s.name.replace(/\.(commit|tag)$/, ''), type: s.type, raw: s.raw }));
}

/** The JSON report in a result (output lines, or one string from an older pool). */
function report(r: { out: string[] | string }): { object: string; verified: boolean; error?: { code: string; message: string } } {
  return JSON.parse([r.out].flat().join(''));
}

/** Worker threads as this process starts them; `kill` decides which to terminate on sight. */
function watchWorkers(kill: (n: number) => boolean): { started: () => number; stop: () => void } {
  let n = 0;
  const onWorker = (w: Worker): void => {
    n++;
    if (kill(n)) void w.terminate();
  };
  process.on('worker', onWorker);
  return { started: () => n, stop: () => process.off('worker', onWorker) };
}

describe('finding 6: the verification pool and its worker threads', { skip: sharedMissing() }, () => {
  test('a worker killed while it holds objects is replaced; the objects it held are verified again, in order', async () => {
    const watch = watchWorkers((n) => n === 1);
    const pool = new VerifyPool(2, poolSetup());
    try {
      const objects = rawObjects(corpusSamples(20));
      const results = await within(60_000, Promise.all(objects.map((o) => pool.verify(o))), 'the batch');
      assert.deepEqual(
        results.map((r) => report(r).object),
        objects.map((o) => o.sha),
      );
      assert.deepEqual(
        results.filter((r) => !report(r).verified).map((r) => report(r).error),
        [],
      );
      // At least the killed worker's replacement; one more re-runs its objects one by one when it had been
      // handed some before it died (which depends on how the threads were scheduled: objects go in batches).
      assert.ok(watch.started() >= 3, `${watch.started()} workers started`);
    } finally {
      watch.stop();
      await pool.close();
    }
  });

  test('an object whose worker dies even when it runs alone is reported VERIFIER_FAILED; workers that keep dying are not restarted forever', async () => {
    const watch = watchWorkers(() => true);
    const pool = new VerifyPool(1, poolSetup());
    try {
      const [object, later] = rawObjects(corpusSamples(2));
      const first = report(await within(60_000, pool.verify(object), 'the object'));
      assert.equal(first.object, object.sha);
      assert.equal(first.verified, false);
      assert.equal(first.error?.code, 'VERIFIER_FAILED', JSON.stringify(first));
      assert.doesNotMatch(first.error!.message, /Error|at |undefined/);
      const started = watch.started();
      assert.ok(started <= 8, `${started} workers started`);
      // Workers still die on sight: a later object is answered all the same.
      const second = report(await within(60_000, pool.verify(later), 'an object after the pool gave up'));
      assert.equal(second.error?.code, 'VERIFIER_FAILED');
    } finally {
      watch.stop();
      await pool.close();
    }
  });
});
