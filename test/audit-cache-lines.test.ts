/**
 * How the audit's cache lines are read back (issue 14, warm re-runs): a verified result's signer part
 * and a path list are parsed and checked once and then looked up, and each line still reads as a
 * whole-line decode reads it, or is a miss: its own time and log index, its own parent, nothing a
 * malformed line could slip past the checks because a well-formed line with the same part came first.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { decodeFacts, encodeFacts } from '../src/audit/cacheEntry';
import { CacheStore } from '../src/audit/cacheStore';
import { pathCache } from '../src/audit/pathCache';
import type { SignatureFacts } from '../src/audit/types';

const ISSUER = 'https://issuer.example';
const FP = 'ab'.repeat(20);
const unread = (): null => null;

function verified(time: string, logIndex: number | null, identity = 'alice@example.com'): SignatureFacts {
  return {
    state: 'verified',
    signer: { identities: [identity], issuer: ISSUER, claim: () => undefined },
    time: new Date(time),
    timeSource: 'tlog',
    logIndex,
    notChecked: [],
    certificateFingerprint: FP,
  };
}

const lineOf = (f: SignatureFacts): string => encodeFacts(f) as string;

function readBack(json: string): { time: string; logIndex: number | null; identities: readonly string[]; issuer: string } | null {
  const f = decodeFacts(json, unread);
  if (f === null) return null;
  assert.equal(f.state, 'verified');
  if (f.state !== 'verified') return null;
  return { time: f.time.toISOString(), logIndex: f.logIndex, identities: f.signer.identities, issuer: f.signer.issuer };
}

describe('result cache lines', () => {
  test('lines of one signer read back with their own time and log index (the signer part is shared, nothing else)', () => {
    const first = lineOf(verified('2026-01-02T03:04:05.000Z', 7));
    const second = lineOf(verified('2026-01-02T03:04:06.000Z', 8));
    const unlogged = lineOf(verified('2026-01-02T03:04:07.000Z', null));
    assert.match(first, /^\{"s":"v","id":\["alice@example.com"\],"iss":"https:\/\/issuer.example","fp":"(ab)+","t":"2026-01-02T03:04:05.000Z","ts":"tlog","li":7,"nc":\[\]\}$/);
    assert.deepEqual(readBack(first), { time: '2026-01-02T03:04:05.000Z', logIndex: 7, identities: ['alice@example.com'], issuer: ISSUER });
    assert.deepEqual(readBack(second), { time: '2026-01-02T03:04:06.000Z', logIndex: 8, identities: ['alice@example.com'], issuer: ISSUER });
    assert.deepEqual(readBack(unlogged), { time: '2026-01-02T03:04:07.000Z', logIndex: null, identities: ['alice@example.com'], issuer: ISSUER });
    assert.deepEqual(readBack(lineOf(verified('2026-01-02T03:04:05.000Z', 7, 'bob@example.com')))?.identities, ['bob@example.com'], 'another signer is another part');
  });

  test('a line whose time, log index or signer part does not check is a miss, before and after a good line with the same part was read', () => {
    const good = lineOf(verified('2026-01-02T03:04:05.000Z', 7));
    const bad = [
      good.replace('"t":"2026-01-02T03:04:05.000Z"', '"t":"2026-13-02T03:04:05.000Z"'),
      good.replace('"t":"2026-01-02T03:04:05.000Z"', '"t":"yesterday"'),
      good.replace('"li":7', '"li":-7'),
      good.replace('"li":7', '"li":7.5'),
      good.replace('"li":7', '"li":"7"'),
      good.replace('"li":7', '"li":123456789012345678'),
      good.replace('"li":7', '"li":07'),
      good.replace('"fp":"', '"fp":"x'),
      good.replace('"ts":"tlog"', '"ts":"claimed"'),
      good.replace('"id":["alice@example.com"]', '"id":"alice@example.com"'),
      good.replace('"nc":[]', '"nc":[],"extra":1'),
      good.replace('"nc":[]', '"nc":[1]'),
      good.slice(0, -1),
    ];
    for (const line of bad) assert.equal(decodeFacts(line, unread), null, line);
    assert.ok(readBack(good));
    for (const line of bad) assert.equal(decodeFacts(line, unread), null, `after a good line: ${line}`);
    assert.ok(readBack(good), 'a bad line leaves the good part as it was');
  });

  test('a line with a time or log index given twice reads as JSON reads it (the last), never the first', () => {
    const good = lineOf(verified('2026-01-02T03:04:05.000Z', 7));
    assert.ok(readBack(good));
    const twiceTime = good.replace('"nc":[]}', '"nc":[],"t":"2027-01-01T00:00:00.000Z"}');
    assert.equal(readBack(twiceTime)?.time, '2027-01-01T00:00:00.000Z');
    const twiceIndex = good.replace('"nc":[]}', '"nc":[],"li":9}');
    assert.equal(readBack(twiceIndex)?.logIndex, 9);
  });

  test('unsigned and failed results read back as before', () => {
    assert.deepEqual(decodeFacts(lineOf({ state: 'unsigned' }), unread), { state: 'unsigned' });
    const failed: SignatureFacts = { state: 'error', code: 'CERT_CHAIN', message: 'no chain', identities: ['x@example.com'], issuer: ISSUER };
    assert.deepEqual(decodeFacts(lineOf(failed), unread), failed);
  });
});

/** A real store of path lists holding exactly these lines (MACed with a key of this test), opened afresh. */
function storeWith(lines: Record<string, string>): CacheStore {
  const gitDir = mkdtempSync(join(tmpdir(), 'gitsign-path-lines-'));
  dirs.push(gitDir);
  const key = randomBytes(32);
  const writer = CacheStore.open(gitDir, 'e'.repeat(32), key, 'audit-paths') as CacheStore;
  for (const [object, json] of Object.entries(lines)) writer.put(object, json);
  writer.flush();
  return CacheStore.open(gitDir, 'e'.repeat(32), key, 'audit-paths') as CacheStore;
}
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Turns of the event loop, for the lines decoded ahead. */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
};

describe('path cache lines', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const P = 'c'.repeat(40);
  const line = (parent: string | null, paths: unknown): string => JSON.stringify({ parent, paths });

  for (const when of ['as soon as opened (decoded when asked)', 'after the lines were decoded ahead']) {
    test(`a list is used only for the first parent it was computed against; lists shared by commits read the same: ${when}`, async () => {
      const cache = pathCache(storeWith({ [A]: line(P, ['src/a.ts', 'docs/b.md']), [B]: line(P, ['src/a.ts', 'docs/b.md']), [P]: line(null, ['README.md']) }));
      if (when.startsWith('after')) await turns(3);
      assert.deepEqual(cache.get(A, P), ['src/a.ts', 'docs/b.md']);
      assert.deepEqual(cache.get(B, P), ['src/a.ts', 'docs/b.md']);
      assert.equal(cache.get(A, B), undefined, 'another first parent');
      assert.equal(cache.get(A, null), undefined, 'a root commit is not a commit with a parent');
      assert.deepEqual(cache.get(P, null), ['README.md']);
      assert.equal(cache.get(P, A), undefined);
    });

    test(`a list that does not check is a miss, before and after the same text was read as part of a good line: ${when}`, async () => {
      const cache = pathCache(storeWith({ [A]: line(P, ['src/a.ts', '']), [B]: line(P, ['src/a.ts', 7]), [P]: line(null, ['src/a.ts']) }));
      if (when.startsWith('after')) await turns(3);
      assert.equal(cache.get(A, P), undefined);
      assert.equal(cache.get(B, P), undefined);
      assert.deepEqual(cache.get(P, null), ['src/a.ts']);
      assert.equal(cache.get(A, P), undefined);
      const odd = pathCache(
        storeWith({
          [A]: `${line(P, ['x']).slice(0, -1)},"paths":["y"]}`,
          [B]: `${line(P, ['x']).slice(0, -1)},"more":1}`,
          [P]: line(P.toUpperCase(), ['x']),
        }),
      );
      if (when.startsWith('after')) await turns(3);
      assert.deepEqual(odd.get(A, P), ['y'], 'a key given twice reads as JSON reads it');
      assert.equal(odd.get(B, P), undefined, 'a line with another key');
      assert.equal(odd.get(P, P), undefined, 'a parent written otherwise is another parent');
    });
  }
});
