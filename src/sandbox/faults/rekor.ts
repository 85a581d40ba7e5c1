import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { encodePem } from '../../cms/pem';
import { hashedRekordV2Body, keyDetails } from '../../rekor/v2/hashedrekord';
import type { LogEntryAnon, TransparencyLog } from '../rekor/log';
import { canonicalizeProposedEntry } from '../rekor/proposedEntry';
import { delegate } from './delegate';
import type { FaultKind } from './kinds';

/**
 * Rekor's faults, as a faulty view of the log the Rekor services read: v1 entries (every endpoint that
 * returns one: create, get by UUID or index, retrieve) and v2 entries (create) are altered after the
 * log has signed them, so every SET, proof and checkpoint is the log's own, only no longer true.
 */

/** Within the certificate's 10 minutes: only the SET can tell that the time was moved. */
const TIME_SHIFT_SECONDS = 1;

/** A path that no longer leads to the root: one bit of its first hash flipped, or a step added to an empty path. */
function alterProofHashes(hashes: Buffer[]): Buffer[] {
  if (hashes.length === 0) return [createHash('sha256').update('gitsign sandbox fault').digest()];
  const first = Buffer.from(hashes[0]);
  first[first.length - 1] ^= 1;
  return [first, ...hashes.slice(1)];
}

/** The checkpoint note with one bit of its root hash (third line) flipped; the signature lines as signed. */
function alterCheckpoint(note: string): string {
  const lines = note.split('\n');
  const root = Buffer.from(lines[2] ?? '', 'base64');
  if (root.length > 0) root[root.length - 1] ^= 1;
  lines[2] = root.toString('base64');
  return lines.join('\n');
}

/** An entry nobody asked for: a hashedrekord (v1) or hashedrekord 0.0.2 (v2) of random data, signed by a throwaway key. */
function decoy(version: 1 | 2): { body: Buffer; indexKeys: string[] } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const data = randomBytes(32);
  const digest = createHash('sha256').update(data).digest();
  const signature = sign('sha256', data, privateKey);
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  if (version === 2) return { body: hashedRekordV2Body(digest, signature, { publicKey: spki }, keyDetails(publicKey)), indexKeys: [] };
  const { body, indexKeys } = canonicalizeProposedEntry({
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: 'sha256', value: digest.toString('hex') } },
      signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(encodePem('PUBLIC KEY', spki)).toString('base64') } },
    },
  });
  return { body, indexKeys };
}

/** Another entry than `index`: the one before it, else the one after it. */
function anotherIndex(log: TransparencyLog, index: number): number {
  return index > 0 ? index - 1 : log.size > 1 ? 1 : index;
}

type Anon = Omit<LogEntryAnon, 'verification'> & {
  verification: Omit<LogEntryAnon['verification'], 'signedEntryTimestamp'> & { signedEntryTimestamp?: string };
};

function alterV1(entry: LogEntryAnon, kinds: Set<FaultKind>): Anon {
  const e: Anon = structuredClone(entry);
  if (kinds.has('set-dropped')) delete e.verification.signedEntryTimestamp;
  if (kinds.has('integrated-time-moved')) e.integratedTime += TIME_SHIFT_SECONDS;
  const proof = e.verification.inclusionProof;
  if (kinds.has('inclusion-proof-altered')) proof.hashes = alterProofHashes(proof.hashes.map((h) => Buffer.from(h, 'hex'))).map((h) => h.toString('hex'));
  if (kinds.has('checkpoint-altered')) proof.checkpoint = alterCheckpoint(proof.checkpoint);
  return e;
}

/**
 * The log as a faulty Rekor shows it. With entry-for-another-signature, an entry is first appended for
 * real, then answered with another genuine one (a decoy is logged first when there is no other).
 */
export function faultyLog(log: TransparencyLog, version: 1 | 2, kinds: Set<FaultKind>): TransparencyLog {
  if (kinds.size === 0) return log;
  const another = kinds.has('entry-for-another-signature');
  const add: TransparencyLog['add'] = async (...args) => {
    if (log.size === 0) {
      const d = decoy(version);
      await log.add(d.body, d.indexKeys);
    }
    const result = await log.add(...args);
    // v1 answers through entry() below; v2 builds its answer from the index it is given.
    return version === 2 ? { ...result, index: anotherIndex(log, result.index) } : result;
  };
  const entry: TransparencyLog['entry'] = (index) => {
    const answer = log.entry(another ? anotherIndex(log, index) : index);
    return Object.fromEntries(Object.entries(answer).map(([id, e]) => [id, alterV1(e, kinds) as LogEntryAnon]));
  };
  const inclusion: TransparencyLog['inclusion'] = (index) => {
    const p = log.inclusion(index);
    return {
      ...p,
      hashes: kinds.has('inclusion-proof-altered') ? alterProofHashes(p.hashes) : p.hashes,
      checkpoint: kinds.has('checkpoint-altered') ? alterCheckpoint(p.checkpoint) : p.checkpoint,
    };
  };
  return delegate(log, { entry, ...(version === 2 ? { inclusion } : {}), ...(another ? { add } : {}) });
}
