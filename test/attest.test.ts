/**
 * `gitsign attest` and `gitsign verify-attestation` end to end against `gitsign sandbox` (a separate
 * process): gitsign's output and storage read back with plain git, the intoto entry in the log, a log
 * refusing intoto (dsse instead), tampering, wrong subjects, missing refs, and concurrent attests.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { storeAttestation } from '../src/attest/store';
import { TempRepo } from './helpers/gitRepo';
import { BIN } from './helpers/paths';
import { mintToken as mintSandboxToken, sandboxPerFile } from './helpers/signingSandbox';

const EMAIL = 'test@example.com'; // TempRepo's committer, and the identity that attests
const PREDICATE_TYPE = 'https://example.com/predicate/test/v1';

const sb = sandboxPerFile();

function mintToken(subject = EMAIL): string {
  return mintSandboxToken(sb.dir, subject);
}

/** A repository with one commit, whose global git config names the attester (gitsign reads only that). */
function attestingRepo(extra: NodeJS.ProcessEnv = {}): TempRepo {
  const repo = new TempRepo({ ...sb.env, SIGSTORE_ID_TOKEN: mintToken(), ...extra });
  repo.git('config', '--global', 'user.name', 'Alice Attester');
  repo.git('config', '--global', 'user.email', 'alice@example.com');
  repo.git('commit', '-q', '--allow-empty', '-m', 'attested');
  return repo;
}

function writeFile(repo: TempRepo, name: string, content: string): string {
  writeFileSync(join(repo.dir, name), content);
  return name;
}

function attestAsync(repo: TempRepo, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'attest', ...args], { cwd: repo.dir, env: repo.env }, (err, stdout, stderr) =>
      resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface Report {
  object: string;
  type: string;
  verified: boolean;
  identities: string[];
  ref: string;
  name: string;
  predicateType: string | null;
  predicate: unknown;
  tlog: { logIndex: number };
  error?: { code: string; message: string };
}

function verifyJson(repo: TempRepo, args: string[] = []): { status: number | null; reports: Report[]; stderr: string } {
  const r = repo.gitsign(['verify-attestation', '--json', ...args]);
  return { status: r.status, reports: r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Report), stderr: r.stderr };
}

const sha256 = (d: Buffer | string): string => createHash('sha256').update(d).digest('hex');

describe('attest and verify-attestation', () => {
  let repo: TempRepo;
  let head: string;
  let tree: string;
  before(() => {
    repo = attestingRepo();
    head = repo.git('rev-parse', 'HEAD').trim();
    tree = repo.git('rev-parse', 'HEAD^{tree}').trim();
  });
  after(() => repo.remove());

  test('a commit attestation: gitsign output, the stored commit, tree, file and envelope, the intoto log entry', async () => {
    const content = '{"b": 1, "a": ["x<y", 2.5e-7, true, null]}\n';
    const r = repo.gitsign(['attest', '-f', writeFile(repo, 'test.json', content), '--type', PREDICATE_TYPE]);
    assert.equal(r.status, 0, r.stderr);
    const [logLine, entryLine, commitLine, ...rest] = r.stdout.split('\n');
    assert.deepEqual(rest, ['']);
    const m = /^LogEntry ID ([0-9a-f]{64}) (\d+)$/.exec(logLine);
    assert.ok(m, logLine);
    const own = /^tlog entry ([0-9a-f]{64,80}) at log index (\d+) \(intoto\/0\.0\.1\)$/.exec(entryLine);
    assert.ok(own, entryLine);
    assert.equal(own[2], m[2]);
    assert.match(commitLine, /^[0-9a-f]{40}$/);
    assert.equal(repo.git('rev-parse', 'refs/attestations/commits').trim(), commitLine);

    // The attestation commit, byte for byte as go-git writes it: no parent, global identity, no final newline.
    const raw = repo.git('cat-file', 'commit', commitLine);
    assert.match(raw, /^tree [0-9a-f]{40}\nauthor Alice Attester <alice@example.com> (\d+ [+-]\d{4})\ncommitter Alice Attester <alice@example.com> \1\n\nGitsign attest test.json$/);
    assert.equal(repo.git('ls-tree', '-r', '--name-only', 'refs/attestations/commits'), `${head}/test.json\n${head}/test.json.sig\n`);
    assert.equal(repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/test.json`), content);

    // The envelope: Go's json.Marshal of sigstore's DSSE envelope, the statement as protojson's fields.
    const sigText = repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/test.json.sig`);
    const env = JSON.parse(sigText) as { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] };
    assert.deepEqual(Object.keys(env), ['payloadType', 'payload', 'signatures']);
    assert.equal(env.payloadType, 'application/vnd.in-toto+json');
    assert.deepEqual(Object.keys(env.signatures[0]), ['keyid', 'sig']);
    assert.equal(env.signatures[0].keyid, '');
    const payload = Buffer.from(env.payload, 'base64');
    assert.equal(
      payload.toString(),
      `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"gitCommit":"${head}"}}],"predicateType":"${PREDICATE_TYPE}","predicate":{"a":["x<y",2.5e-7,true,null],"b":1}}`,
    );

    // The log entry Rekor keeps: hashes of the envelope and payload, and the certificate.
    const res = await fetch(`${sb.env.GITSIGN_REKOR_URL}/api/v1/log/entries?logIndex=${m[2]}`);
    const [[uuid, entry]] = Object.entries((await res.json()) as Record<string, { body: string; logID: string }>);
    assert.equal(entry.logID, m[1]);
    assert.equal(uuid, own[1], "the printed UUID is the entry's own");
    const body = JSON.parse(Buffer.from(entry.body, 'base64').toString()) as { kind: string; spec: { content: { hash: { value: string }; payloadHash: { value: string } }; publicKey: string } };
    assert.equal(body.kind, 'intoto');
    assert.equal(body.spec.content.hash.value, sha256(sigText));
    assert.equal(body.spec.content.payloadHash.value, sha256(payload));
    assert.match(Buffer.from(body.spec.publicKey, 'base64').toString(), /^-----BEGIN CERTIFICATE-----\n/);
  });

  test('a tree attestation and a second commit attestation: earlier ones kept, parent = previous tip', () => {
    const previous = repo.git('rev-parse', 'refs/attestations/commits').trim();
    const t = repo.gitsign(['attest', '--objtype', 'tree', '-f', writeFile(repo, 'tree.json', '{"tree":true}')]);
    assert.equal(t.status, 0, t.stderr);
    assert.equal(repo.git('ls-tree', '-r', '--name-only', 'refs/attestations/trees'), `${tree}/tree.json\n${tree}/tree.json.sig\n`);
    const s = repo.gitsign(['attest', '-f', writeFile(repo, 'sbom.json', '{"sbom":[]}'), '--type', 'https://example.com/sbom']);
    assert.equal(s.status, 0, s.stderr);
    assert.equal(repo.git('rev-parse', 'refs/attestations/commits^').trim(), previous);
    assert.equal(repo.git('ls-tree', '-r', '--name-only', 'refs/attestations/commits'), `${head}/sbom.json\n${head}/sbom.json.sig\n${head}/test.json\n${head}/test.json.sig\n`);
  });

  test('verify-attestation: every attestation of HEAD and its tree, filters, identity flags', () => {
    const human = repo.gitsign(['verify-attestation']);
    assert.equal(human.status, 0, human.stderr);
    assert.equal(human.stdout.match(/^Validated Rekor entry: true$/gm)?.length, 3);
    assert.match(human.stdout, new RegExp(`^refs/attestations/commits ${head}/test.json: ${PREDICATE_TYPE} \\(Rekor intoto/0.0.1\\)$`, 'm'));
    assert.match(human.stdout, /identity checked: certificate email equals committer email test@example.com/);
    assert.match(human.stdout, /^ {2}"a": \[\n {4}"x<y",/m, 'the predicate is printed');

    const all = verifyJson(repo);
    assert.equal(all.status, 0, all.stderr);
    assert.deepEqual(all.reports.map((x) => [x.ref, x.name, x.verified]).sort(), [
      ['refs/attestations/commits', 'sbom.json', true],
      ['refs/attestations/commits', 'test.json', true],
      ['refs/attestations/trees', 'tree.json', true],
    ]);
    assert.deepEqual(all.reports.find((x) => x.name === 'test.json')?.predicate, { a: ['x<y', 2.5e-7, true, null], b: 1 });
    assert.deepEqual(all.reports.find((x) => x.name === 'tree.json')?.type, 'tree');

    const typed = verifyJson(repo, ['--type', PREDICATE_TYPE]);
    assert.deepEqual(typed.reports.map((x) => x.name), ['test.json']);
    assert.deepEqual(verifyJson(repo, ['--objtype', 'tree']).reports.map((x) => x.name), ['tree.json']);
    const none = repo.gitsign(['verify-attestation', '--type', 'https://example.com/other']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /^gitsign: no attestation of type https:\/\/example.com\/other for commit [0-9a-f]{40} or tree [0-9a-f]{40} /);

    const issuer = sb.env.GITSIGN_OIDC_ISSUER;
    const flags = verifyJson(repo, ['--certificate-identity', EMAIL, '--certificate-oidc-issuer', issuer, '--objtype', 'commit', 'HEAD']);
    assert.equal(flags.status, 0, flags.stderr);
    assert.equal(flags.reports.length, 2);
    const wrong = repo.gitsign(['verify-attestation', '--certificate-identity', 'mallory@example.com', '--certificate-oidc-issuer', issuer, '--type', PREDICATE_TYPE]);
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stdout, '');
    assert.match(wrong.stderr, /^gitsign: refs\/attestations\/commits [0-9a-f]{40}\/test.json: certificate identity \[test@example.com\] does not include the expected "mallory@example.com"\n$/);
  });

  test('attesting a file name again replaces that attestation, as gitsign does; the others stay', () => {
    const previous = repo.git('rev-parse', 'refs/attestations/commits').trim();
    const again = repo.gitsign(['attest', '-f', writeFile(repo, 'test.json', '{"again":true}'), '--type', PREDICATE_TYPE]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(repo.git('rev-parse', 'refs/attestations/commits^').trim(), previous);
    assert.equal(repo.git('ls-tree', '-r', '--name-only', 'refs/attestations/commits'), `${head}/sbom.json\n${head}/sbom.json.sig\n${head}/test.json\n${head}/test.json.sig\n`);
    const typed = verifyJson(repo, ['--type', PREDICATE_TYPE]);
    assert.equal(typed.status, 0, typed.stderr);
    assert.deepEqual(typed.reports.map((x) => [x.name, x.verified, x.predicate]), [['test.json', true, { again: true }]]);
  });

  test('refusals before anything is signed: .sig names, files that are not JSON objects, no HEAD', () => {
    const cases: [string[], number, RegExp][] = [
      [['-f', writeFile(repo, 'x.sig', '{}')], 1, /reserved for signatures/],
      [['-f', writeFile(repo, 'list.json', '[1,2]')], 1, /must hold a JSON object/],
      [['-f', writeFile(repo, 'bad.json', '{')], 1, /is not JSON/],
      [['-f', 'missing.json'], 1, /cannot read "missing.json": no such file \(ENOENT\)/],
      [[], 1, /-f\/--filepath/],
      [['--objtype', 'blob', '-f', 'test.json'], 1, /"blob" is not a valid --objtype for gitsign attest: choose commit, tree/],
    ];
    for (const [args, status, err] of cases) {
      const r = repo.gitsign(['attest', ...args]);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, err, args.join(' '));
    }
    const empty = new TempRepo({ ...sb.env });
    try {
      writeFile(empty, 'a.json', '{}');
      const r = empty.gitsign(['attest', '-f', 'a.json']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, /^gitsign: error getting repository head: /);
    } finally {
      empty.remove();
    }
  });
});

describe('tampering and missing data: exit 1, one line', () => {
  let repo: TempRepo;
  let envelope: string;
  let file: string;
  before(() => {
    repo = attestingRepo();
    const r = repo.gitsign(['attest', '-f', writeFile(repo, 'good.json', '{"good":true}')]);
    assert.equal(r.status, 0, r.stderr);
    const head = repo.git('rev-parse', 'HEAD').trim();
    envelope = repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/good.json.sig`);
    file = repo.git('cat-file', 'blob', `refs/attestations/commits:${head}/good.json`);
  });
  after(() => repo.remove());

  /** A new commit whose only attestation is the given (file, envelope), stored as gitsign stores it. */
  async function commitWith(name: string, fileContent: string, envelopeContent: string): Promise<string> {
    repo.git('commit', '-q', '--allow-empty', '-m', name);
    const sha = repo.git('rev-parse', 'HEAD').trim();
    await storeAttestation(
      { kind: 'commit', sha, name, file: Buffer.from(fileContent), envelope: Buffer.from(envelopeContent), author: { name: 'M', email: 'm@example.com' }, now: new Date() },
      { cwd: repo.dir, env: repo.env },
    );
    return sha;
  }

  function oneLineError(rev: string): string {
    const r = repo.gitsign(['verify-attestation', rev]);
    assert.equal(r.status, 1, r.stdout);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 2, r.stderr);
    return r.stderr;
  }

  test('an edited envelope (payload changed, signature kept) has no log entry', async () => {
    const env = JSON.parse(envelope) as { payload: string };
    const statement = Buffer.from(env.payload, 'base64').toString().replace('"good":true', '"good":false');
    const forged = JSON.stringify({ ...env, payload: Buffer.from(statement).toString('base64') });
    const sha = await commitWith('forged.json', '{"good":false}', forged);
    assert.match(oneLineError(sha), /forged.json: no transparency log entry at \S+ records this envelope \(sha256 [0-9a-f]{64}\): it was changed after signing, or never logged\n$/);
  });

  test("another commit's attestation copied under this commit: wrong subject", async () => {
    const sha = await commitWith('copied.json', file, envelope);
    assert.match(oneLineError(sha), new RegExp(`copied.json: the attestation is about gitCommit [0-9a-f]{40}, not gitCommit ${sha}\\n$`));
  });

  test('a stored file edited in place with plain git (temporary index, commit-tree, update-ref)', () => {
    const original = repo.git('rev-list', '--max-parents=0', 'HEAD').trim();
    const git = (args: string[], input?: string, extra: NodeJS.ProcessEnv = {}): string =>
      execFileSync('git', args, { cwd: repo.dir, env: { ...repo.env, ...extra }, input, encoding: 'utf8' }).trim();
    const index = { GIT_INDEX_FILE: join(repo.dir, '.git', 'tamper-index') };
    const blob = git(['hash-object', '-w', '--stdin'], '{"good":"edited"}');
    git(['read-tree', 'refs/attestations/commits'], undefined, index);
    git(['update-index', '--cacheinfo', `100644,${blob},${original}/good.json`], undefined, index);
    const tree = git(['write-tree'], undefined, index);
    git(['update-ref', 'refs/attestations/commits', git(['commit-tree', tree, '-p', 'refs/attestations/commits', '-m', 'tamper'])]);
    assert.match(oneLineError(original), new RegExp(`^gitsign: refs/attestations/commits ${original}/good.json: the stored file good.json differs from the signed predicate\n$`));
  });

  test('no attestation refs at all; a revision without attestations; an unknown revision', () => {
    const bare = new TempRepo({ ...sb.env });
    try {
      bare.git('commit', '-q', '--allow-empty', '-m', 'x');
      const r = bare.gitsign(['verify-attestation']);
      assert.equal(r.status, 1);
      assert.equal(r.stderr, 'gitsign: no attestations in this repository: refs/attestations/commits and refs/attestations/trees do not exist (gitsign attest creates them)\n');
    } finally {
      bare.remove();
    }
    repo.git('commit', '-q', '--allow-empty', '-m', 'unattested');
    assert.match(oneLineError('HEAD'), /^gitsign: no attestation for commit [0-9a-f]{40} or tree [0-9a-f]{40} \(in refs\/attestations\/commits\)\n$/);
    assert.match(oneLineError('nope'), /^gitsign: unknown revision nope\n$/);
  });
});

/** A Rekor in front of the sandbox's that refuses intoto entries, as a log offering only dsse would. */
function dsseOnlyRekor(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && req.url === '/api/v1/log/entries' && (JSON.parse(body.toString()) as { kind?: string }).kind === 'intoto') {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: 400, message: 'error processing entry: kind intoto is not enabled on this log' }));
        return;
      }
      const up = request(new URL(req.url ?? '/', target), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

test('a log that refuses intoto gets a dsse 0.0.1 entry, which verify-attestation accepts', async () => {
  const proxy = await dsseOnlyRekor(sb.env.GITSIGN_REKOR_URL);
  const repo = attestingRepo({ GITSIGN_REKOR_URL: proxy.url });
  try {
    const r = await attestAsync(repo, ['-f', writeFile(repo, 'via-dsse.json', '{"kind":"dsse"}')]);
    assert.equal(r.status, 0, r.stderr);
    const index = /^LogEntry ID [0-9a-f]{64} (\d+)$/m.exec(r.stdout)?.[1];
    const res = await fetch(`${sb.env.GITSIGN_REKOR_URL}/api/v1/log/entries?logIndex=${index}`);
    const entry = Object.values((await res.json()) as Record<string, { body: string }>)[0];
    assert.equal((JSON.parse(Buffer.from(entry.body, 'base64').toString()) as { kind: string }).kind, 'dsse');
    const v = await new Promise<string>((resolve) =>
      execFile(process.execPath, [BIN, 'verify-attestation'], { cwd: repo.dir, env: repo.env }, (err, stdout, stderr) => resolve(err ? `failed: ${stderr}` : stdout)),
    );
    assert.match(v, /via-dsse.json: \(no predicate type\) \(Rekor dsse\/0.0.1\)\n/);
  } finally {
    repo.remove();
    proxy.server.close();
  }
});

test('four attests at once on one repository: all four kept on one linear history', async () => {
  const repo = attestingRepo();
  try {
    const names = [0, 1, 2, 3].map((i) => writeFile(repo, `parallel-${i}.json`, `{"n":${i}}`));
    const results = await Promise.all(names.map((n) => attestAsync(repo, ['-f', n])));
    for (const r of results) assert.equal(r.status, 0, r.stderr);
    const head = repo.git('rev-parse', 'HEAD').trim();
    const stored = repo.git('ls-tree', '-r', '--name-only', 'refs/attestations/commits').split('\n').filter(Boolean);
    assert.deepEqual(stored, names.flatMap((n) => [`${head}/${n}`, `${head}/${n}.sig`]));
    assert.equal(repo.git('rev-list', '--count', 'refs/attestations/commits').trim(), '4');
    const printed = results.map((r) => r.stdout.trim().split('\n')[2]).sort();
    assert.deepEqual(repo.git('rev-list', 'refs/attestations/commits').trim().split('\n').sort(), printed);
    assert.equal(verifyJson(repo).reports.filter((x) => x.verified).length, 4);
  } finally {
    repo.remove();
  }
});
