import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BIN, CONFORMANCE } from './helpers/paths';

/**
 * Sigstore's client conformance cases for bundle verification (../shared/conformance/bundle-verify),
 * each run through `gitsign verify-bundle` as the conformance suite runs a client. A case named *_fail
 * must be rejected for the reason its README gives, so each has the pattern its one-line error must
 * match; every other case must verify, from the file and from its sha256:<hex> digest.
 */
const DEFAULT_IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';

const REJECTED_FOR: Record<string, RegExp> = {
  'bundle-empty-certificate-chain_fail': /invalid bundle: its certificate chain is empty/,
  'bundle-from-wrong-instance_fail': /its log \(ID 0y8wo8Mt[^)]*\) is not in the trusted root/,
  'bundle-invalid-base64-signature_fail': /invalid bundle: messageSignature\.signature is not valid base64/,
  'bundle-malformed-json_fail': /invalid bundle: not valid JSON/,
  'bundle-negative-log-index_fail': /invalid bundle: transparency log entry 0 has a negative log index/,
  'bundle-unknown-version_fail': /invalid bundle: unsupported media type .*version=99\.9/,
  'bundle-with-root-cert_fail': /certificate chain includes a root certificate/,
  'checkpoint-bad-keyhint_fail': /checkpoint is not signed by the transparency log rekor\.sigstore\.dev \(key c0d23d6a\)/,
  'checkpoint-wrong-roothash_fail': /the inclusion proof's root hash differs from its checkpoint's/,
  'dsse-invalid-sig_fail': /the signature does not verify with the signing certificate's key/,
  'dsse-mismatch-envelope_fail': /log entry does not match the signature: it records another DSSE payload/,
  'dsse-mismatch-sig_fail': /log entry does not match the signature: it records another signature/,
  'inclusion-proof-corrupted-hash_fail': /the inclusion proof does not verify \(calculated root hash/,
  'incorrect-public-key_fail': /log entry does not match the signature: it names another signing certificate/,
  'integrated-time-in-future_fail': /certificate is not valid at 2026-05-07T15:34:11\.000Z/,
  'intoto-expired-certificate_fail': /certificate is not valid at 2023-02-01T00:00:00\.000Z \(valid 2030-01-01/,
  'intoto-log-entry-mismatch_fail': /log entry does not match the signature: it records another signature/,
  'intoto-missing-inclusion-proof_fail': /invalid bundle: transparency log entry 0 has no inclusion proof/,
  'intoto-set-outside-signing-cert-validity_fail': /certificate is not valid at 2023-02-02T00:00:00\.000Z/,
  'intoto-tsa-timestamp-outside-cert-validity_fail': /certificate is not valid at 2023-02-02T00:00:00\.000Z/,
  'invalid-checkpoint-signature_fail': /the checkpoint signature of rekor\.sigstore\.dev does not verify with the log's key/,
  'invalid-ct-key_fail': /certificate transparency SCT does not verify/,
  'invalid-inclusion-proof_fail': /the inclusion proof does not verify/,
  'managed-key-no-key_fail': /signed with a managed key .*give that public key with --key/,
  'managed-key-wrong-key_fail': /key\.pub is not a usable public key/,
  'message-digest-mismatch_fail': /is not the one signed: its digest differs from the bundle's message digest/,
  'rekor2-checkpoint-missing-log-signature_fail': /malformed checkpoint: the note has no signature/,
  'rekor2-checkpoint-missing-origin_fail': /malformed checkpoint: it needs an origin, a tree size and a root hash line/,
  'rekor2-checkpoint-missing-root-hash_fail': /malformed checkpoint: it needs an origin, a tree size and a root hash line/,
  'rekor2-checkpoint-missing-size_fail': /malformed checkpoint: it needs an origin, a tree size and a root hash line/,
  'rekor2-checkpoint-no-matching-signature_fail': /checkpoint is not signed by the transparency log log2025-alpha1\.rekor\.sigstage\.dev .*by log2025-alpha1\.rekor\.github\.dev/,
  'rekor2-dsse-invalid-sig_fail': /the signature does not verify with the signing certificate's key/,
  'rekor2-dsse-mismatch-envelope_fail': /log entry does not match the signature: it records another DSSE envelope \(the digest of its PAE differs\)/,
  'rekor2-dsse-mismatch-sig_fail': /log entry does not match the signature: it records another signature/,
  'rekor2-no-inclusion-proof_fail': /invalid bundle: transparency log entry 0 has no inclusion proof/,
  'rekor2-no-timestamp_fail': /has no signed entry timestamp \(SET\).*and no RFC 3161 timestamp dates it/,
  'rekor2-timestamp-outside-trust-root-tsa-validity_fail': /timestamp does not verify: its time .* is outside its timestamp authority's validity in the trusted root/,
  'rekor2-timestamp-outside-tsa-cert-validity_fail': /timestamp does not verify: the timestamp authority's certificate chain is not valid at/,
  'rekor2-timestamp-payload-mismatch_fail': /timestamp does not verify: it is not over this signature/,
  'rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail': /timestamp does not verify: it was not issued by a trusted timestamp authority/,
  'rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail': /timestamp does not verify: it was not issued by a trusted timestamp authority/,
  'rekor2-timestamp-with-incorrect-time_fail': /certificate is not valid at 2025-07-15T10:33:31\.000Z \(valid 2025-06-12/,
  'set-invalid-signature_fail': /the signed entry timestamp \(SET\) does not verify with the log's key/,
  'signature-mismatch_fail': /the signature does not verify with the signing certificate's key/,
  'trust-root-tlog-missing-validity-start_fail': /invalid trusted root .*tlogs\[1\] \(https:\/\/log2025-alpha1\.rekor\.sigstage\.dev\) public key has a validity period without its required start/,
  'wrong-hashedrekord-artifact_fail': /log entry does not match the signature: it records the digest of another artifact/,
  'wrong-hashedrekord-cert-and-sig_fail': /log entry does not match the signature: it names another signing certificate/,
  'wrong-hashedrekord-entry_fail': /log entry does not match the signature: it records the digest of another artifact/,
  'wrong-material_fail': /the artifact \(sha256:1fa70528[0-9a-f]*\) is not the one signed/,
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function gitsign(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    // SIGSTORE_NO_CACHE: the public-good root is the seeded one, whatever a TUF refresh left in the cache.
    const env = { ...process.env, SIGSTORE_NO_CACHE: '1' };
    execFile(process.execPath, [BIN, 'verify-bundle', ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

function optional(dir: string, name: string): string | undefined {
  const path = join(dir, name);
  return existsSync(path) ? path : undefined;
}

/** The conformance suite's call for a case: its key or identity, its trusted root, its artifact (or that artifact's digest). */
function argsFor(name: string, byDigest: boolean): string[] {
  const dir = join(CONFORMANCE, name);
  const args = ['--bundle', join(dir, 'bundle.sigstore.json')];
  const key = optional(dir, 'key.pub');
  if (key) {
    args.push('--key', key);
  } else {
    const text = (file: string, fallback: string): string => {
      const path = optional(dir, file);
      return path ? readFileSync(path, 'utf8').trim() : fallback;
    };
    args.push('--certificate-identity', text('identity', DEFAULT_IDENTITY), '--certificate-oidc-issuer', text('issuer', DEFAULT_ISSUER));
  }
  const root = optional(dir, 'trusted_root.json');
  if (root) args.push('--trusted-root', root);
  const artifact = optional(dir, 'artifact') ?? join(CONFORMANCE, 'a.txt');
  args.push(byDigest ? `sha256:${createHash('sha256').update(readFileSync(artifact)).digest('hex')}` : artifact);
  return args;
}

const missing = existsSync(CONFORMANCE) ? false : `../shared/conformance/bundle-verify is absent (expected at ${CONFORMANCE})`;
const cases = missing ? [] : readdirSync(CONFORMANCE).filter((n) => statSync(join(CONFORMANCE, n)).isDirectory()).sort();
const failing = cases.filter((n) => n.endsWith('_fail'));
const passing = cases.filter((n) => !n.endsWith('_fail'));

describe('Sigstore conformance: bundle-verify', { skip: missing, concurrency: 4 }, () => {
  test('every _fail case has its expected reason, and every reason its case', (t) => {
    assert.deepEqual(Object.keys(REJECTED_FOR).sort(), failing);
    t.diagnostic(`${cases.length} cases: ${failing.length} to reject, ${passing.length} to verify`);
  });

  for (const name of failing) {
    test(`rejects ${name}`, async () => {
      const r = await gitsign(argsFor(name, false));
      assert.equal(r.code, 1, `exit ${r.code}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^gitsign: [^\n]+\n$/, 'one line on stderr');
      assert.match(r.stderr, REJECTED_FOR[name]);
    });
  }

  for (const name of passing) {
    for (const byDigest of [false, true]) {
      test(`verifies ${name}${byDigest ? ' by digest' : ''}`, async () => {
        const r = await gitsign(argsFor(name, byDigest));
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^Verified OK: /);
        assert.equal(r.stderr, '');
      });
    }
  }
});
