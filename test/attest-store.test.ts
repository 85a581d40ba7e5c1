/**
 * The attestation store on its own (no signing): the layout through plain git, names kept as bytes,
 * earlier attestations kept, and the compare-and-set under concurrency: every attestation lands, and
 * two of the same name end with one stored and one clean refusal.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkAttestationName, storeAttestation, type NewAttestation } from '../src/attest/store';
import { TempRepo } from './helpers/gitRepo';

let repo: TempRepo;
let head: string;
before(() => {
  repo = new TempRepo();
  repo.git('commit', '-q', '--allow-empty', '-m', 'attested');
  head = repo.git('rev-parse', 'HEAD').trim();
});
after(() => repo.remove());

const author = { name: 'Store Tester', email: 'store@example.com' };

function attestation(name: string, sha = head): NewAttestation {
  return { kind: 'commit', sha, name, file: Buffer.from(`{"name":"${name}"}\n`), envelope: Buffer.from(`{"sig":"${name}"}`), author, now: new Date(1_700_000_000_000) };
}

const store = (a: NewAttestation): Promise<string> => storeAttestation(a, { cwd: repo.dir, env: repo.env });
const files = (): string[] => repo.git('ls-tree', '-r', '-z', '--name-only', 'refs/attestations/commits').split('\0').filter(Boolean).sort();

test('the first attestation: a root commit with <sha>/<name> and <sha>/<name>.sig; then a child keeping it', async () => {
  const first = await store(attestation('first.json'));
  assert.equal(repo.git('rev-parse', 'refs/attestations/commits').trim(), first);
  const raw = repo.git('cat-file', 'commit', first);
  assert.match(raw, /^tree [0-9a-f]{40}\nauthor Store Tester <store@example.com> 1700000000 [+-]\d{4}\ncommitter Store Tester <store@example.com> 1700000000 [+-]\d{4}\n\nGitsign attest first.json$/);
  assert.deepEqual(files(), [`${head}/first.json`, `${head}/first.json.sig`]);
  assert.equal(repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/first.json`), '{"name":"first.json"}\n');
  assert.equal(repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/first.json.sig`), '{"sig":"first.json"}');
  const other = 'f'.repeat(40);
  const second = await store(attestation('é ü.json', other));
  assert.equal(repo.git('rev-parse', `${second}^`).trim(), first);
  assert.deepEqual(files(), [`${head}/first.json`, `${head}/first.json.sig`, `${other}/é ü.json`, `${other}/é ü.json.sig`].sort());
});

test('an existing attestation is never replaced; names that are not one tree entry are refused', async () => {
  await assert.rejects(store(attestation('first.json')), /already holds an attestation [0-9a-f]{40}\/first.json/);
  for (const bad of ['', '.', '..', '.git', '.GIT', 'a/b', 'x.json.sig']) assert.throws(() => checkAttestationName(bad), { code: 'USAGE' }, bad);
});

test('12 concurrent attestations all land on one linear history', async () => {
  const before = Number(repo.git('rev-list', '--count', 'refs/attestations/commits').trim());
  const names = Array.from({ length: 12 }, (_, i) => `concurrent-${i}.json`);
  await Promise.all(names.map((n) => store(attestation(n))));
  assert.equal(Number(repo.git('rev-list', '--count', 'refs/attestations/commits').trim()), before + 12);
  assert.equal(repo.git('rev-list', '--min-parents=2', 'refs/attestations/commits').trim(), '');
  const all = files();
  for (const n of names) assert.ok(all.includes(`${head}/${n}`) && all.includes(`${head}/${n}.sig`), n);
});

test('two concurrent attestations of one name: one is stored, the other refused, none lost', async () => {
  const results = await Promise.allSettled([store(attestation('same.json')), store({ ...attestation('same.json'), envelope: Buffer.from('{"sig":"other"}') })]);
  const ok = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(ok.length, 1);
  assert.equal(refused.length, 1);
  assert.match((refused[0].reason as Error).message, /already holds an attestation/);
  const tip = repo.git('rev-parse', 'refs/attestations/commits').trim();
  assert.equal(tip, (ok[0] as PromiseFulfilledResult<string>).value);
});
