/**
 * The attestation store on its own (no signing): the layout through plain git, names kept as bytes,
 * earlier attestations kept, the same name replaced as gitsign replaces it, and the compare-and-set
 * under concurrency: every attestation lands in one linear history, none is lost.
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

test('attesting a name again replaces it, as gitsign does: one <name> and <name>.sig, the new bytes; the old ones stay in the parent', async () => {
  const before = repo.git('rev-parse', 'refs/attestations/commits').trim();
  const others = files().filter((f) => !f.startsWith(`${head}/first.json`));
  const again = await store({ ...attestation('first.json'), file: Buffer.from('{"again":1}\n'), envelope: Buffer.from('{"sig":"again"}') });
  assert.equal(repo.git('rev-parse', `${again}^`).trim(), before);
  assert.deepEqual(files(), [...others, `${head}/first.json`, `${head}/first.json.sig`].sort());
  assert.equal(repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/first.json`), '{"again":1}\n');
  assert.equal(repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/first.json.sig`), '{"sig":"again"}');
  assert.equal(repo.git('cat-file', 'blob', `${before}:${head}/first.json`), '{"name":"first.json"}\n');
});

test('names that are not one tree entry are refused', () => {
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

test('two concurrent attests of different types (files) both survive; two of one name both land, the later commit\'s replaces the earlier', async () => {
  const tipBefore = repo.git('rev-parse', 'refs/attestations/commits').trim();
  const typed = (name: string, type: string): NewAttestation => ({ ...attestation(name), file: Buffer.from(`{"type":"${type}"}`) });
  const [slsa, sbom] = await Promise.all([store(typed('slsa.json', 'https://slsa.dev/provenance/v1')), store(typed('sbom.json', 'https://spdx.dev/Document'))]);
  assert.deepEqual(repo.git('rev-list', `${tipBefore}..refs/attestations/commits`).trim().split('\n').sort(), [slsa, sbom].sort());
  for (const n of ['slsa.json', 'sbom.json']) assert.ok(files().includes(`${head}/${n}`) && files().includes(`${head}/${n}.sig`), n);

  const mid = repo.git('rev-parse', 'refs/attestations/commits').trim();
  const [a, b] = await Promise.all([store(typed('same.json', 'one')), store({ ...typed('same.json', 'two'), envelope: Buffer.from('{"sig":"two"}') })]);
  const tip = repo.git('rev-parse', 'refs/attestations/commits').trim();
  assert.ok(tip === a || tip === b);
  // Both commits are in the history, one on top of the other: the earlier is kept there, not lost.
  assert.deepEqual(repo.git('rev-list', `${mid}..${tip}`).trim().split('\n').sort(), [a, b].sort());
  assert.equal(files().filter((f) => f.startsWith(`${head}/same.json`)).length, 2);
  const kept = repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/same.json`);
  assert.equal(kept, tip === a ? '{"type":"one"}' : '{"type":"two"}');
  assert.equal(repo.git('rev-list', '--min-parents=2', 'refs/attestations/commits').trim(), '');
});
