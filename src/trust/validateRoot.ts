import { GitsignError } from '../errors';
import { isObject } from '../json';

/**
 * A trusted root is checked before anything trusts it, not only decoded. @sigstore/verify reads a
 * missing validity start as "since the beginning of time", so a log or CA key with a malformed period
 * would vouch for anything ever signed; the Sigstore trust root spec makes TimeRange.start required
 * (both bounds are inclusive, an absent or null end is open). Keys and certificates must be present.
 */
type Json = Record<string, unknown>;

const MEDIA_TYPE = /^application\/vnd\.dev\.sigstore\.trustedroot(\+json;version=0\.1|\.v0\.[0-9]+\+json)$/;


function fail(source: string, where: string, problem: string): GitsignError {
  return new GitsignError('TRUST_ROOT', `invalid trusted root (${source}): ${where} ${problem}`);
}

function checkTime(value: unknown, source: string, where: string): number {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw fail(source, where, `is not an RFC 3339 time (${JSON.stringify(value)})`);
  return Date.parse(value);
}

/** TimeRange: start required, end optional (null counts as absent) and not before start. */
function checkValidFor(validFor: unknown, source: string, where: string): void {
  if (!isObject(validFor)) throw fail(source, where, 'has no validity period (validFor)');
  if (validFor.start === undefined || validFor.start === null) throw fail(source, where, 'has a validity period without its required start');
  const start = checkTime(validFor.start, source, `${where} validity start`);
  if (validFor.end !== undefined && validFor.end !== null && checkTime(validFor.end, source, `${where} validity end`) < start) {
    throw fail(source, where, 'has a validity period that ends before it starts');
  }
}

function checkBytes(value: unknown, source: string, where: string): void {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(value.replace(/[\r\n]/g, ''))) throw fail(source, where, 'is missing or not base64');
}

function list(root: Json, key: string, source: string): Json[] {
  const v = root[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isObject)) throw fail(source, key, 'is not a list of objects');
  return v;
}

/** Transparency and CT logs: a key, its log ID, and the period the key may be trusted. */
function checkLog(log: Json, source: string, where: string): void {
  const name = typeof log.baseUrl === 'string' && log.baseUrl ? `${where} (${log.baseUrl})` : where;
  const key = log.publicKey;
  if (!isObject(key)) throw fail(source, name, 'has no public key');
  checkBytes(key.rawBytes, source, `${name} public key`);
  checkValidFor(key.validFor, source, `${name} public key`);
  if (!isObject(log.logId)) throw fail(source, name, 'has no log ID');
  checkBytes(log.logId.keyId, source, `${name} log ID`);
}

/** Certificate and timestamp authorities: a non-empty chain and the period it may be trusted. */
function checkAuthority(ca: Json, source: string, where: string): void {
  const name = typeof ca.uri === 'string' && ca.uri ? `${where} (${ca.uri})` : where;
  const certs = isObject(ca.certChain) ? ca.certChain.certificates : undefined;
  if (!Array.isArray(certs) || certs.length === 0) throw fail(source, name, 'has no certificate chain');
  certs.forEach((c, i) => checkBytes(isObject(c) ? c.rawBytes : undefined, source, `${name} certificate ${i}`));
  checkValidFor(ca.validFor, source, name);
}

export function validateTrustedRoot(root: unknown, source: string): void {
  if (!isObject(root)) throw fail(source, 'the document', 'is not a JSON object');
  if (root.mediaType !== undefined && (typeof root.mediaType !== 'string' || !MEDIA_TYPE.test(root.mediaType))) {
    throw fail(source, 'mediaType', `${JSON.stringify(root.mediaType)} is not a Sigstore trusted root`);
  }
  for (const key of ['tlogs', 'ctlogs']) list(root, key, source).forEach((log, i) => checkLog(log, source, `${key}[${i}]`));
  for (const key of ['certificateAuthorities', 'timestampAuthorities']) list(root, key, source).forEach((ca, i) => checkAuthority(ca, source, `${key}[${i}]`));
}
