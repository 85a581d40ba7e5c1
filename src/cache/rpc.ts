import type { Config } from '../config/config';
import type { StructValue } from './gob/decoder';
import type { GobEncoder } from './gob/encoder';
import type { StructType } from './gob/types';

/**
 * Go gitsign's credential-cache protocol: Go's net/rpc over the Unix socket, values in gob. A call
 * is a header (rpc.Request: the method and a sequence number) followed by the argument; the reply
 * is a header (rpc.Response: the same method and number, and an error text) followed by the result,
 * or by an empty struct when the error text is set. A connection may carry any number of calls.
 * The types are gitsign's internal/cache/api and internal/config, declared as gob sees them: same
 * names, same fields in the same order, same field types.
 */
export const GET_CREDENTIAL = 'Service.GetCredential';
export const STORE_CREDENTIAL = 'Service.StoreCredential';

export const REQUEST_HEADER: StructType = {
  name: 'Request',
  fields: [
    { name: 'ServiceMethod', kind: 'string' },
    { name: 'Seq', kind: 'uint' },
  ],
};

export const RESPONSE_HEADER: StructType = {
  name: 'Response',
  fields: [
    { name: 'ServiceMethod', kind: 'string' },
    { name: 'Seq', kind: 'uint' },
    { name: 'Error', kind: 'string' },
  ],
};

/** api.Credential: PEM of the private key, of the leaf certificate, and of the rest of the chain. */
export const CREDENTIAL: StructType = {
  name: 'Credential',
  fields: [
    { name: 'PrivateKey', kind: 'bytes' },
    { name: 'Cert', kind: 'bytes' },
    { name: 'Chain', kind: 'bytes' },
  ],
};

/** config.Config's exported fields (the client secret file is unexported and never travels). */
export const CONFIG: StructType = {
  name: 'Config',
  fields: [
    { name: 'Fulcio', kind: 'string' },
    { name: 'FulcioRoot', kind: 'string' },
    { name: 'Rekor', kind: 'string' },
    { name: 'RekorMode', kind: 'string' },
    { name: 'EnableSigstoreGo', kind: 'bool' },
    { name: 'RekorVersion', kind: 'uint' },
    { name: 'ClientID', kind: 'string' },
    { name: 'RedirectURL', kind: 'string' },
    { name: 'Issuer', kind: 'string' },
    { name: 'ConnectorID', kind: 'string' },
    { name: 'TokenProvider', kind: 'string' },
    { name: 'TimestampURL', kind: 'string' },
    { name: 'TimestampCert', kind: 'string' },
    { name: 'LogPath', kind: 'string' },
    { name: 'CommitterName', kind: 'string' },
    { name: 'CommitterEmail', kind: 'string' },
    { name: 'MatchCommitter', kind: 'bool' },
    { name: 'Autoclose', kind: 'bool' },
    { name: 'AutocloseTimeout', kind: 'int' },
    { name: 'URLOpener', kind: 'string' },
  ],
};

/** api.GetCredentialRequest: with a Config, a daemon may log in on a miss (Go gitsign since its PR #211). */
export const GET_CREDENTIAL_REQUEST: StructType = {
  name: 'GetCredentialRequest',
  fields: [
    { name: 'ID', kind: 'string' },
    { name: 'Config', kind: CONFIG },
  ],
};

export const STORE_CREDENTIAL_REQUEST: StructType = {
  name: 'StoreCredentialRequest',
  fields: [
    { name: 'ID', kind: 'string' },
    { name: 'Credential', kind: CREDENTIAL },
  ],
};

/** net/rpc's invalidRequest (struct{}{}), the body after every error reply. */
export const EMPTY: StructType = { name: '', fields: [] };

export interface WireCredential {
  privateKey: Buffer;
  cert: Buffer;
  chain: Buffer;
}

/** The Config a client sent, as decoded: strings, booleans, and integers as bigint. */
export type GoConfig = { [field: string]: string | boolean | bigint };

export function credentialFrom(v: StructValue): WireCredential {
  return { privateKey: v.PrivateKey as Buffer, cert: v.Cert as Buffer, chain: v.Chain as Buffer };
}

export function credentialValue(c: WireCredential): StructValue {
  return { PrivateKey: c.privateKey, Cert: c.cert, Chain: c.chain };
}

/** Our configuration in gitsign's Config: what a Go daemon needs to log in on a miss. */
export function goConfig(cfg: Config): GoConfig {
  return {
    Fulcio: cfg.fulcio,
    FulcioRoot: cfg.fulcioRoot,
    Rekor: cfg.rekor,
    RekorMode: cfg.rekorMode,
    EnableSigstoreGo: cfg.enableSigstoreGo,
    RekorVersion: BigInt(cfg.rekorVersion),
    ClientID: cfg.clientID,
    RedirectURL: cfg.redirectURL,
    Issuer: cfg.issuer,
    ConnectorID: cfg.connectorID,
    TokenProvider: cfg.tokenProvider,
    TimestampURL: cfg.timestampURL,
    TimestampCert: cfg.timestampCert,
    LogPath: cfg.logPath,
    CommitterName: cfg.committerName,
    CommitterEmail: cfg.committerEmail,
    MatchCommitter: cfg.matchCommitter,
    Autoclose: cfg.autoclose,
    AutocloseTimeout: BigInt(cfg.autocloseTimeout),
    URLOpener: cfg.urlOpener,
  };
}

/** A call as Go's net/rpc client writes it: the header, then the argument. */
export function encodeCall(enc: GobEncoder, method: string, seq: bigint, argType: StructType, arg: StructValue): Buffer {
  return Buffer.concat([enc.encode(REQUEST_HEADER, { ServiceMethod: method, Seq: seq }), enc.encode(argType, arg)]);
}

export type Reply = { credential: WireCredential | null } | { error: string };

/** A reply as Go's net/rpc server writes it: the header, then the result (an empty Credential for null), or the empty struct after an error. */
export function encodeReply(enc: GobEncoder, method: string, seq: bigint, reply: Reply): Buffer {
  const error = 'error' in reply ? reply.error : '';
  const header = enc.encode(RESPONSE_HEADER, { ServiceMethod: method, Seq: seq, Error: error });
  if ('error' in reply) return Buffer.concat([header, enc.encode(EMPTY, {})]);
  return Buffer.concat([header, enc.encode(CREDENTIAL, reply.credential ? credentialValue(reply.credential) : {})]);
}

/** Go's %q of a string, as gitsign's daemon quotes an ID in "not found" (JSON's escapes are Go's for text). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
