import type { TransparencyLogEntry } from '@sigstore/bundle';
import { GitsignError } from '../errors';
import { type Field, readFields, writeFields } from './protobuf';

/**
 * dev.sigstore.rekor.v1.TransparencyLogEntry in protobuf binary form, as gitsign embeds it in the CMS
 * (unsigned attribute 1.3.6.1.4.1.57264.3.1). The canonicalized body is always left out by gitsign;
 * verifiers rebuild it from the signature.
 */
export type LogEntry = TransparencyLogEntry;

function bad(what: string): GitsignError {
  return new GitsignError('MALFORMED_SIGNATURE', `malformed embedded log entry: ${what}`);
}

const bytesOf = (fields: Field[], num: number): Buffer | undefined => {
  const f = fields.filter((x) => x.num === num);
  if (f.length > 1 && num !== 4) throw bad(`field ${num} repeated`);
  const last = f[f.length - 1];
  if (last && last.wire !== 2) throw bad(`field ${num} has the wrong type`);
  return last?.value as Buffer | undefined;
};
const intOf = (fields: Field[], num: number): bigint => {
  const f = fields.filter((x) => x.num === num);
  if (f.length > 1) throw bad(`field ${num} repeated`);
  if (f[0] && f[0].wire !== 0) throw bad(`field ${num} has the wrong type`);
  return f[0] ? BigInt.asIntN(64, f[0].value as bigint) : 0n;
};

export function decodeLogEntry(bytes: Buffer): LogEntry {
  const f = readFields(bytes);
  const logIdMsg = bytesOf(f, 2);
  const kvMsg = bytesOf(f, 3);
  if (!logIdMsg || !kvMsg) throw bad('missing log ID or kind');
  const keyId = bytesOf(readFields(logIdMsg), 1) ?? Buffer.alloc(0);
  const kv = readFields(kvMsg);
  const promiseMsg = bytesOf(f, 5);
  const proofMsg = bytesOf(f, 6);
  const logIndex = intOf(f, 1);
  const integratedTime = intOf(f, 4);
  const version = bytesOf(kv, 2)?.toString('utf8') ?? '';
  // Rekor v2 (0.0.2) entries have no integrated time: a timestamp dates them.
  if (logIndex < 0n || integratedTime < 0n || (integratedTime === 0n && version !== '0.0.2')) throw bad('negative log index or missing integrated time');
  const entry: LogEntry = {
    logIndex: logIndex.toString(),
    logId: { keyId },
    kindVersion: { kind: bytesOf(kv, 1)?.toString('utf8') ?? '', version },
    integratedTime: integratedTime.toString(),
    inclusionPromise: promiseMsg ? { signedEntryTimestamp: bytesOf(readFields(promiseMsg), 1) ?? Buffer.alloc(0) } : undefined,
    inclusionProof: undefined,
    canonicalizedBody: bytesOf(f, 7) ?? Buffer.alloc(0),
  };
  if (proofMsg) {
    const p = readFields(proofMsg);
    const cp = bytesOf(p, 5);
    entry.inclusionProof = {
      logIndex: intOf(p, 1).toString(),
      rootHash: bytesOf(p, 2) ?? Buffer.alloc(0),
      treeSize: intOf(p, 3).toString(),
      hashes: p.filter((x) => x.num === 4 && x.wire === 2).map((x) => x.value as Buffer),
      checkpoint: cp ? { envelope: bytesOf(readFields(cp), 1)?.toString('utf8') ?? '' } : undefined,
    };
  }
  return entry;
}

const bytesField = (num: number, value: Buffer | string): Field => ({ num, wire: 2, value: Buffer.from(value) });
const intField = (num: number, value: string): Field[] => (BigInt(value) === 0n ? [] : [{ num, wire: 0, value: BigInt(value) }]);
const msgField = (num: number, fields: Field[]): Field => bytesField(num, writeFields(fields));

/** Encodes like Go's proto.Marshal: field-number order, zero values omitted, body left out. */
export function encodeLogEntry(e: LogEntry): Buffer {
  const fields: Field[] = [
    ...intField(1, e.logIndex),
    msgField(2, [bytesField(1, e.logId.keyId)]),
    msgField(3, [bytesField(1, e.kindVersion.kind), bytesField(2, e.kindVersion.version)]),
    ...intField(4, e.integratedTime),
  ];
  if (e.inclusionPromise) fields.push(msgField(5, [bytesField(1, e.inclusionPromise.signedEntryTimestamp)]));
  if (e.inclusionProof) {
    const p = e.inclusionProof;
    const proof: Field[] = [...intField(1, p.logIndex), bytesField(2, p.rootHash), ...intField(3, p.treeSize)];
    for (const h of p.hashes) proof.push(bytesField(4, h));
    if (p.checkpoint) proof.push(msgField(5, [bytesField(1, p.checkpoint.envelope)]));
    fields.push(msgField(6, proof));
  }
  return writeFields(fields);
}
