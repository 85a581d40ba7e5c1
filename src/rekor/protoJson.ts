import { quoted } from '../errors';
import { isObject } from '../json';

/**
 * The JSON types of a protobuf message in its JSON form (Sigstore bundles, Rekor v2 answers), checked
 * before the generated decoders read it: they coerce whatever they find (`String({})` is
 * "[object Object]", `null` array items crash them, a number where bytes belong decodes as nothing).
 * A field may be absent or null (the proto default); if present it must have its type. Unknown
 * members are ignored, as protobuf JSON parsers do.
 */
export type Shape = 'string' | 'bytes' | 'int64' | 'enum' | 'bool' | readonly [Shape] | { readonly [field: string]: Shape };

const INT64_MAX = 2n ** 63n - 1n;

/** Standard or URL-safe base64, padding optional; line breaks are ignored, as Go's decoder does. */
const isBase64 = (v: string): boolean => /^[A-Za-z0-9+/_-]*={0,2}$/.test(v.replace(/[\r\n]/g, ''));

/** A protobuf int64: a decimal string, or a JSON integer that a double holds exactly. */
function isInt64(v: unknown): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v);
  if (typeof v !== 'string' || !/^-?[0-9]{1,19}$/.test(v)) return false;
  const n = BigInt(v);
  return n <= INT64_MAX && n >= -INT64_MAX - 1n;
}

const WHAT: Record<string, string> = {
  string: 'a string',
  bytes: 'base64 text',
  int64: 'an integer (int64)',
  enum: 'an enum name or number',
  bool: 'true or false',
};


function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The first field at odds with its shape, as "path is not X (it is Y)", or null when all fit. */
export function shapeProblem(value: unknown, shape: Shape, path: string): string | null {
  if (typeof shape === 'string') {
    const ok =
      shape === 'string' ? typeof value === 'string'
      : shape === 'bytes' ? typeof value === 'string' && isBase64(value)
      : shape === 'int64' ? isInt64(value)
      : shape === 'enum' ? typeof value === 'string' || Number.isSafeInteger(value)
      : typeof value === 'boolean';
    if (ok) return null;
    if (shape === 'bytes' && typeof value === 'string') return `${path} is not valid base64`;
    if (shape === 'int64' && typeof value !== 'object') return `${path} is not ${WHAT[shape]} (it is ${quoted(value, 40)})`;
    return `${path} is not ${WHAT[shape]} (it is ${typeOf(value)})`;
  }
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return `${path} is not a list (it is ${typeOf(value)})`;
    for (let i = 0; i < value.length; i++) {
      if (value[i] === null || value[i] === undefined) return `${path}[${i}] is null`;
      const p = shapeProblem(value[i], shape[0], `${path}[${i}]`);
      if (p) return p;
    }
    return null;
  }
  if (!isObject(value)) return `${path} is not an object (it is ${typeOf(value)})`;
  for (const [name, sub] of Object.entries(shape as Record<string, Shape>)) {
    const v = value[name];
    if (v === undefined || v === null) continue;
    const p = shapeProblem(v, sub, path ? `${path}.${name}` : name);
    if (p) return p;
  }
  return null;
}

/** dev.sigstore.rekor.v1.TransparencyLogEntry. */
export const TLOG_ENTRY_SHAPE: Shape = {
  logIndex: 'int64',
  logId: { keyId: 'bytes' },
  kindVersion: { kind: 'string', version: 'string' },
  integratedTime: 'int64',
  inclusionPromise: { signedEntryTimestamp: 'bytes' },
  inclusionProof: { logIndex: 'int64', rootHash: 'bytes', treeSize: 'int64', hashes: ['bytes'], checkpoint: { envelope: 'string' } },
  canonicalizedBody: 'bytes',
};
