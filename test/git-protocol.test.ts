import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSignedData } from '../src/cms/signedData';
import { splitObject, type ObjectType } from '../src/git/rawobj';
import { TempRepo } from './helpers/gitRepo';
import { flipByte, markShallow, parseJsonLines, readCorpus, signatureDer, uniqueOffset } from './helpers/corpus';
import { BIN, sharedMissing } from './helpers/paths';

/**
 * gitsign behind real git (gpg.format=x509, gpg.x509.program=bin/gitsign), offline through
 * GITSIGN_OFFLINE=true: verify-commit, verify-tag, log --show-signature and %G?, plus the raw
 * `--status-fd=1 --verify SIGFILE -` call git makes, and the `gitsign verify` / `verify-tag` commands.
 */

// A run of consecutive offline-mode (embedded entry) commits from sigstore/gitsign, oldest first.
const CHAIN = [
  'a855d30947c31e12cee148da049e46d36e4fc558',
  '58d9abba022e21de32b3425eed0a256d51e62fcd',
  'a336df86075474ca9a3e2c7183cf209cec375ba2',
  '30e099f11647d8f47f25382a730f909e4a1911fd',
  'c7027d11673794d1703b623bcd14a93305b7f16f',
  '200ca8647599a02ce268818bb428eeb686e8d99f',
];
const EMBEDDED = 'ac15fa730306fb4cc6839e6345cfd924e1517f7b'; // tlog index 2341332744
const TAG = 'f6a73d9c2b84ee0b46598600c14007f41fa7a6ac'; // v0.17.1, tlog index 2283146946
const ONLINE = '31e0d52a304ff1af782b4560f2b31e0ff9acce49'; // online mode: its entry is only in Rekor
const DIGICERT = 'd733fda5c62bb4a53c74039c4aca331d1c64fae4';
const WARNING = 'WARNING: git verify-commit does not verify cert claims. Prefer using `gitsign verify` instead.';
/** What git shows for EMBEDDED: signer, issuer, the SET's time and the log index (from the corpus). */
const GOOD_EMBEDDED = 'gitsign: Good signature from billy@chainguard.dev (https://accounts.google.com), logged in Rekor at 2026-08-04 20:25:27 UTC (log index 2341332744)';

const file = (sha: string, type: ObjectType = 'commit') => `sigstore__gitsign/${sha}.${type}`;

/** SHA-1 of the signer's certificate DER, computed here independently of the code under test. */
function leafFingerprint(type: ObjectType, raw: Buffer): string {
  const sd = parseSignedData(signatureDer(type, raw).der);
  assert.equal(sd.certificates.length, 1);
  return createHash('sha1').update(sd.certificates[0]).digest('hex');
}

describe('git protocol through real git', { skip: sharedMissing() }, () => {
  let repo: TempRepo;
  let tampered: string;
  const raws = new Map<string, Buffer>();

  before(() => {
    repo = new TempRepo({ GITSIGN_OFFLINE: 'true' });
    repo.git('config', 'gpg.format', 'x509');
    repo.git('config', 'gpg.x509.program', BIN);
    const commits: Array<[string, string]> = [
      ...CHAIN.map((s): [string, string] => [s, file(s)]),
      [EMBEDDED, file(EMBEDDED)],
      [ONLINE, `sigstore__fulcio/${ONLINE}.commit`],
      [DIGICERT, `other/sigstore__fulcio__${DIGICERT}.commit`],
    ];
    for (const [sha, f] of commits) {
      const raw = readCorpus(f);
      raws.set(sha, raw);
      assert.equal(repo.importBytes(raw, 'commit'), sha);
    }
    raws.set(TAG, readCorpus(file(TAG, 'tag')));
    assert.equal(repo.importBytes(raws.get(TAG)!, 'tag'), TAG);
    repo.git('update-ref', 'refs/tags/v0.17.1', TAG);
    // The embedded-entry commit with one letter of its message changed (the signature is untouched).
    const raw = raws.get(EMBEDDED)!;
    tampered = repo.importBytes(flipByte(raw, uniqueOffset(raw, 'Add hidden', 'message'), 0x20), 'commit');
    // The corpus holds no trees or ancestors: cut history at the commits whose parents are absent.
    markShallow(repo, [CHAIN[0], EMBEDDED, ONLINE, DIGICERT, tampered]);
  });

  after(() => repo?.remove());

  test('git verify-commit: exit 0, one line naming signer, issuer, log time and index, and the WARNING; GOODSIG names the signer in --raw', () => {
    const fpr = leafFingerprint('commit', raws.get(EMBEDDED)!);
    const r = repo.gitResult(['verify-commit', EMBEDDED]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, [`${GOOD_EMBEDDED}`, WARNING, ''].join('\n'));
    const raw = repo.gitResult(['verify-commit', '--raw', EMBEDDED]);
    assert.equal(raw.status, 0);
    assert.ok(raw.stderr.includes(`[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG ${fpr} billy@chainguard.dev\n[GNUPG:] TRUST_FULLY 0 shell\n`), raw.stderr);
  });

  test('git verify-commit fails (exit 1) on a payload-tampered commit and on an online-mode commit offline', () => {
    const bad = repo.gitResult(['verify-commit', tampered]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /message digest differs/);
    assert.doesNotMatch(bad.stderr, /Good signature/);
    const online = repo.gitResult(['verify-commit', ONLINE]);
    assert.equal(online.status, 1);
    assert.match(online.stderr, /no transparency log entry is embedded/);
  });

  test('git verify-tag on the v0.17.1 tag: by name and by object ID', () => {
    for (const name of ['v0.17.1', TAG]) {
      const r = repo.gitResult(['verify-tag', name]);
      assert.equal(r.status, 0, r.stderr);
      const good = 'gitsign: Good signature from billy@chainguard.dev (https://accounts.google.com), logged in Rekor at 2026-07-29 21:00:13 UTC (log index 2283146946)';
      assert.equal(r.stderr, `${good}\n${WARNING}\n`);
    }
  });

  test('git log --show-signature -1 shows two lines above the commit: the good signature and the WARNING', () => {
    const out = repo.git('log', '--show-signature', '-1', EMBEDDED);
    assert.ok(out.startsWith(`commit ${EMBEDDED}\n${GOOD_EMBEDDED}\n${WARNING}\nAuthor: Billy Lynch <billy@chainguard.dev>\n`), out);
  });

  test('%G? is G for embedded-entry objects, B for a changed payload, E for what cannot be checked', () => {
    const status = (sha: string) => repo.git('log', '--format=%G?', '-1', sha).trim();
    for (const sha of [...CHAIN, EMBEDDED]) assert.equal(status(sha), 'G', sha);
    assert.equal(status(tampered), 'B');
    assert.equal(status(ONLINE), 'E', 'online mode without network: no log entry to check');
    assert.equal(status(DIGICERT), 'E', 'DigiCert S/MIME: not a Sigstore signature');
    // %GK is the leaf certificate's SHA-1, %GS its identity, %GT the trust git read.
    const fields = repo.git('log', '--format=%G?|%GK|%GS|%GT|', '-1', EMBEDDED).trim();
    assert.equal(fields, `G|${leafFingerprint('commit', raws.get(EMBEDDED)!)}|billy@chainguard.dev|fully|`);
  });

  describe('bin/gitsign --status-fd=1 --verify SIGFILE - (what git runs)', () => {
    function direct(type: ObjectType, raw: Buffer, name: string): { stdout: string; stderr: string; status: number | null } {
      const { payload, signature } = splitObject(type, raw);
      const sigFile = join(repo.dir, `${name}.sig`);
      writeFileSync(sigFile, signature!);
      return repo.gitsign(['--status-fd=1', '--verify', sigFile, '-'], payload);
    }

    test('good commit and tag: exactly NEWSIG, GOODSIG <fpr> <identity>, TRUST_FULLY 0 shell', () => {
      for (const [type, sha] of [['commit', EMBEDDED], ['tag', TAG]] as const) {
        const raw = raws.get(sha)!;
        const r = direct(type, raw, sha);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `[GNUPG:] NEWSIG\n[GNUPG:] GOODSIG ${leafFingerprint(type, raw)} billy@chainguard.dev\n[GNUPG:] TRUST_FULLY 0 shell\n`);
        assert.ok(r.stderr.endsWith(`\n${WARNING}\n`), r.stderr);
      }
    });

    test('tampered payload: NEWSIG then BADSIG, exit 1; online mode offline: ERRSIG, exit 1', () => {
      const raw = raws.get(EMBEDDED)!;
      const fpr = leafFingerprint('commit', raw);
      const bad = direct('commit', flipByte(raw, uniqueOffset(raw, 'Add hidden', 'message'), 0x20), 'bad');
      assert.equal(bad.status, 1);
      assert.equal(bad.stdout, `[GNUPG:] NEWSIG\n[GNUPG:] BADSIG ${fpr} \n`);
      assert.match(bad.stderr, /^gitsign: signature does not match the signed data/);
      const online = direct('commit', raws.get(ONLINE)!, 'online');
      assert.equal(online.status, 1);
      const lines = online.stdout.split('\n');
      assert.equal(lines[0], '[GNUPG:] NEWSIG');
      assert.match(lines[1], new RegExp(`^\\[GNUPG:\\] ERRSIG ${leafFingerprint('commit', raws.get(ONLINE)!)} `));
      assert.doesNotMatch(online.stdout, /GOODSIG/);
    });
  });

  describe('gitsign verify / verify-tag in the same repository', () => {
    test('A..B verifies every commit of the range (exit 0), in rev-list order', () => {
      const range = `${CHAIN[0]}..${CHAIN[CHAIN.length - 1]}`;
      const r = repo.gitsign(['verify', '--json', range]);
      assert.equal(r.status, 0, r.stderr);
      const lines = parseJsonLines(r.stdout);
      assert.deepEqual(lines.map((l) => l.object), CHAIN.slice(1).reverse());
      for (const l of lines) {
        assert.equal(l.verified, true, `${l.object}: ${l.error?.message}`);
        assert.equal(l.tlog?.source, 'embedded');
      }
      const text = repo.gitsign(['verify', range]);
      assert.equal(text.status, 0);
      assert.equal(text.stdout.match(/^commit [0-9a-f]{40}$/gm)?.length, 5);
      assert.equal(text.stdout.match(/^Validated Certificate claims: true$/gm)?.length, 5);
    });

    test('a range with one unsigned commit (made by real git on top) exits 1 and names it', () => {
      const emptyTree = repo.git('hash-object', '-w', '-t', 'tree', '/dev/null').trim();
      const head = repo.git('commit-tree', emptyTree, '-p', CHAIN[CHAIN.length - 1], '-m', 'unsigned on top').trim();
      const r = repo.gitsign(['verify', '--json', `${CHAIN[0]}..${head}`]);
      assert.equal(r.status, 1);
      const lines = parseJsonLines(r.stdout);
      assert.equal(lines.length, 6);
      assert.deepEqual(lines.filter((l) => !l.verified).map((l) => [l.object, l.error?.code]), [[head, 'NOT_SIGNED']]);
      assert.equal(lines.filter((l) => l.verified).length, 5);
    });

    test('single commit and HEAD: gitsign\'s summary on stdout, exit 0', () => {
      const fpr = leafFingerprint('commit', raws.get(EMBEDDED)!);
      const r = repo.gitsign(['verify', EMBEDDED]);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(
        r.stdout.startsWith(
          [
            'tlog index: 2341332744',
            `gitsign: Signature made using certificate ID 0x${fpr} | CN=sigstore-intermediate,O=sigstore.dev`,
            'gitsign: Good signature from [billy@chainguard.dev](https://accounts.google.com)',
            'Validated Git signature: true',
            'Validated Rekor entry: true',
            'Validated Certificate claims: true',
          ].join('\n'),
        ),
        r.stdout,
      );
      repo.git('update-ref', 'refs/heads/main', EMBEDDED);
      const head = repo.gitsign(['verify']);
      assert.equal(head.status, 0, head.stderr);
      assert.ok(head.stdout.startsWith('tlog index: 2341332744\n'));
    });

    test('verify-tag v0.17.1 exits 0; a missing tag or a lightweight tag exits 1', () => {
      const r = repo.gitsign(['verify-tag', 'v0.17.1']);
      assert.equal(r.status, 0, r.stderr);
      assert.ok(r.stdout.startsWith('tlog index: 2283146946\n'), r.stdout);
      assert.ok(r.stdout.includes('Validated Certificate claims: true\n'));
      const missing = repo.gitsign(['verify-tag', 'v9.9.9']);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /v9\.9\.9/);
      repo.git('update-ref', 'refs/tags/light', EMBEDDED);
      const light = repo.gitsign(['verify-tag', 'light']);
      assert.equal(light.status, 1);
      assert.equal(light.stdout, '');
    });

    test('the tampered commit and the online-mode commit fail gitsign verify offline (exit 1)', () => {
      const r = repo.gitsign(['verify', '--json', tampered, ONLINE, EMBEDDED]);
      assert.equal(r.status, 1);
      assert.deepEqual(
        parseJsonLines(r.stdout).map((l) => l.error?.code ?? 'VERIFIED'),
        ['CONTENT_MISMATCH', 'TLOG_MISSING', 'VERIFIED'],
      );
    });
  });
});

test('an unknown command (cobra\'s words) or option (ours) is a usage error, exit 1 as in gitsign, never node:util\'s message as an internal error', () => {
  const repo = new TempRepo();
  try {
    const command = repo.gitsign(['frobnicate', '--mirror', 'x']);
    assert.equal(command.status, 1);
    assert.equal(command.stderr, 'gitsign: unknown command "frobnicate" for "gitsign"\nRun \'gitsign --help\' for usage.\n');
    const option = repo.gitsign(['--status-fd=1', '--bogus']);
    assert.equal(option.status, 1);
    assert.match(option.stderr, /^gitsign: unknown option "--bogus" \(git calls gitsign with/);
    assert.doesNotMatch(command.stderr + option.stderr, /internal error|positional argument/);
  } finally {
    repo.remove();
  }
});
