/**
 * `gitsign audit` starts git rev-list before the subcommands' code loads (src/audit/prefetch.ts):
 * from a guess of the range that is either the range the audit parses or nothing, and which the audit
 * takes over only for the same range and directory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { guessRange, prefetchAudit, takePrefetched } from '../src/audit/prefetch';
import { TempRepo } from './helpers/gitRepo';

describe('the range an audit names, guessed before its arguments are parsed', () => {
  const cases: [string[], string | undefined][] = [
    [[], 'HEAD'],
    [['main~2..main'], 'main~2..main'],
    [['--json', 'a..b', '--keep-going'], 'a..b'],
    [['--html', 'report.html', 'a..b'], 'a..b'],
    [['--html=report.html', '--trust-root', 'v1', '--offline', 'a..b'], 'a..b'],
    [['--ref', 'refs/heads/x', '--policy', 'p.yaml', '--no-cache'], 'HEAD'],
    // Forms it does not read: no guess, the audit reads for itself.
    [['a..b', 'c..d'], undefined],
    [['--keepGoing', 'a..b'], undefined],
    [['--', 'a..b'], undefined],
    [['-x', 'a..b'], undefined],
  ];
  for (const [args, want] of cases) {
    test(`${JSON.stringify(args)} -> ${want ?? 'no guess'}`, () => assert.equal(guessRange(args), want));
  }
});

describe('the listing started early is taken over only by the audit of the same range and directory', () => {
  let repo: TempRepo;
  const home = process.cwd();
  before(() => {
    repo = new TempRepo();
    for (const n of [1, 2, 3]) repo.git('commit', '-q', '--allow-empty', '-m', `c${n}`);
    process.chdir(repo.dir);
  });
  after(() => {
    process.chdir(home);
    repo?.remove();
  });

  test('same range and directory: the listing git gives for it, once', async () => {
    prefetchAudit(['--json', 'main~2..main']);
    const early = takePrefetched('main~2..main', repo.dir);
    assert.ok(early, 'nothing was started');
    const want = repo.git('rev-list', '--topo-order', '--reverse', '--parents', 'main', '^main~2', '--').trim().split('\n');
    assert.deepEqual((await early.listing).toString('utf8').trim().split('\n'), want);
    assert.equal(takePrefetched('main~2..main', repo.dir), null, 'taken over once');
  });

  test('another range, or another directory: not taken over', () => {
    prefetchAudit(['main~2..main']);
    assert.equal(takePrefetched('main~1..main', repo.dir), null);
    prefetchAudit(['main~2..main']);
    assert.equal(takePrefetched('main~2..main', home), null);
  });

  test('a range git refuses starts nothing and throws nothing: the audit reports it itself', () => {
    assert.doesNotThrow(() => prefetchAudit(['no-such-revision..main']));
    assert.equal(takePrefetched('no-such-revision..main', repo.dir), null);
  });
});
