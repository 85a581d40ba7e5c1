import type { KeyObject } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { encodePem } from '../../cms/pem';
import { BodyTooLarge, readBody, send, sendJson, type Request, type Router } from '../http/router';
import { spkiOf } from '../x509/build';
import type { CertificateAuthority, IssuedCertificate, Principal } from './ca';
import { authenticate, FULCIO_AUDIENCE, TokenRejected } from './principal';
import { checkKeyStrength, KeyProblem, keyFromCsr, parsePublicKey, verifyProofOfPossession } from './proof';

/**
 * Fulcio's HTTP API as grpc-gateway serves it: v2 signingCert/trustBundle/configuration and the legacy
 * v1 signingCert (201, PEM chain; a detached SCT in the SCT header) and rootCert. Errors are
 * grpc-gateway status bodies with Fulcio's messages and codes: every token problem is InvalidArgument
 * (400) "There was an error processing the identity token"; a bad proof is 400 "The signature
 * supplied in the request could not be verified".
 */
const MAX_BODY = 4 * 1024 * 1024; // Fulcio's maxMsgSize

const GRPC = { invalidArgument: 3, internal: 13 } as const;
const MESSAGES = {
  invalidIdentityToken: 'There was an error processing the identity token',
  invalidSignature: 'The signature supplied in the request could not be verified',
  invalidPublicKey: 'The public key supplied in the request could not be parsed',
  invalidCSR: 'The certificate signing request could not be parsed',
  insecurePublicKey: 'The public key supplied in the request is insecure',
  genericCAError: 'error communicating with CA backend',
} as const;

class FulcioError extends Error {
  constructor(
    readonly grpcCode: number,
    message: string,
  ) {
    super(message);
  }
}

function httpStatus(grpcCode: number): number {
  return grpcCode === GRPC.invalidArgument ? 400 : 500;
}

function sendError(res: ServerResponse, err: FulcioError): void {
  sendJson(res, httpStatus(err.grpcCode), { code: err.grpcCode, message: err.message, details: [] });
}

/** protojson field access: accepts the proto field name or its lowerCamel JSON name. */
function field(obj: unknown, ...names: string[]): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const n of names) if (n in obj) return (obj as Record<string, unknown>)[n];
  return undefined;
}

function bytesField(v: unknown, what: string): Buffer {
  if (v === undefined || v === null) return Buffer.alloc(0);
  if (typeof v !== 'string') throw new FulcioError(GRPC.invalidArgument, `proto: invalid value for bytes field ${what}`);
  const s = v.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new FulcioError(GRPC.invalidArgument, `proto: invalid value for bytes field ${what}: ${JSON.stringify(v).slice(0, 40)}`);
  return Buffer.from(s, 'base64');
}

interface KeyRequest {
  token: string;
  publicKey?: Buffer;
  proof?: Buffer;
  csr?: Buffer;
}

export class FulcioService {
  constructor(
    private readonly ca: CertificateAuthority,
    private readonly issuer: string,
    private readonly tokenKeys: Map<string, KeyObject>,
  ) {}

  mount(router: Router): void {
    router
      .on('POST', '/api/v1/signingCert', (req, res) => this.handle(req, res, 'v1'))
      .on('POST', '/api/v2/signingCert', (req, res) => this.handle(req, res, 'v2'))
      .on('GET', '/api/v2/trustBundle', (_req, res) => sendJson(res, 200, { chains: [{ certificates: this.ca.chain.map((c) => encodePem('CERTIFICATE', c)) }] }))
      .on('GET', '/api/v2/configuration', (_req, res) =>
        sendJson(res, 200, { issuers: [{ issuerUrl: this.issuer, audience: FULCIO_AUDIENCE, challengeClaim: 'email' }] }),
      )
      .on('GET', '/api/v1/rootCert', (_req, res) =>
        send(res, 200, this.ca.chain.map((c) => encodePem('CERTIFICATE', c)).join('\n').trim(), { 'Content-Type': 'application/pem-certificate-chain' }),
      );
  }

  private async handle(req: Request, res: ServerResponse, api: 'v1' | 'v2'): Promise<void> {
    try {
      let body: unknown;
      try {
        const raw = await readBody(req.raw, MAX_BODY);
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch (err) {
        if (err instanceof BodyTooLarge) throw new FulcioError(GRPC.invalidArgument, 'http: request body too large');
        throw new FulcioError(GRPC.invalidArgument, `proto: syntax error: ${(err as Error).message}`);
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new FulcioError(GRPC.invalidArgument, 'proto: syntax error: expected a JSON object');
      const headerToken = (req.headers.authorization ?? '').replace('Bearer ', '');
      const kr = api === 'v1' ? this.legacyRequest(body, headerToken) : this.v2Request(body, headerToken);
      const { certificate, detachedSct } = this.createCertificate(kr);
      const pems = [certificate, ...this.ca.chain].map((c) => encodePem('CERTIFICATE', c));
      // A detached SCT travels as its add-chain JSON: base64 in the v1 SCT header, protojson bytes in v2.
      const sct = detachedSct && Buffer.from(JSON.stringify(detachedSct)).toString('base64');
      if (api === 'v1') {
        // Legacy API: 201 Created, the PEM blocks joined by newlines and trimmed.
        send(res, 201, pems.join('\n').trim(), { 'Content-Type': 'application/pem-certificate-chain', ...(sct ? { SCT: sct } : {}) });
      } else if (sct) {
        sendJson(res, 200, { signedCertificateDetachedSct: { chain: { certificates: pems }, signedCertificateTimestamp: sct } });
      } else {
        sendJson(res, 200, { signedCertificateEmbeddedSct: { chain: { certificates: pems } } });
      }
    } catch (err) {
      if (err instanceof FulcioError) return sendError(res, err);
      sendError(res, new FulcioError(GRPC.internal, MESSAGES.genericCAError));
    }
  }

  /** v1: {publicKey:{content: b64 key, algorithm}, signedEmailAddress: b64 sig, certificateSigningRequest}. */
  private legacyRequest(body: object, headerToken: string): KeyRequest {
    const csr = bytesField(field(body, 'certificateSigningRequest', 'certificate_signing_request'), 'certificateSigningRequest');
    if (csr.length) return { token: headerToken, csr };
    const pk = field(body, 'publicKey', 'public_key');
    if (!pk) throw new FulcioError(GRPC.invalidArgument, MESSAGES.invalidPublicKey);
    return {
      token: headerToken,
      publicKey: bytesField(field(pk, 'content'), 'content'),
      proof: bytesField(field(body, 'signedEmailAddress', 'signed_email_address'), 'signedEmailAddress'),
    };
  }

  /** v2: {credentials:{oidcIdentityToken}, publicKeyRequest:{publicKey:{algorithm, content: PEM}, proofOfPossession}} or a CSR. */
  private v2Request(body: object, headerToken: string): KeyRequest {
    const creds = field(body, 'credentials');
    const bodyToken = field(creds, 'oidcIdentityToken', 'oidc_identity_token');
    const token = typeof bodyToken === 'string' && bodyToken ? bodyToken : headerToken;
    const csr = bytesField(field(body, 'certificateSigningRequest', 'certificate_signing_request'), 'certificateSigningRequest');
    if (csr.length) return { token, csr };
    const pkr = field(body, 'publicKeyRequest', 'public_key_request');
    const content = field(field(pkr, 'publicKey', 'public_key'), 'content');
    return {
      token,
      publicKey: Buffer.from(typeof content === 'string' ? content : '', 'utf8'),
      proof: bytesField(field(pkr, 'proofOfPossession', 'proof_of_possession'), 'proofOfPossession'),
    };
  }

  private createCertificate(kr: KeyRequest): IssuedCertificate {
    let principal: Principal;
    try {
      principal = authenticate(kr.token, this.issuer, this.tokenKeys);
    } catch (err) {
      if (err instanceof TokenRejected) throw new FulcioError(GRPC.invalidArgument, MESSAGES.invalidIdentityToken);
      throw err;
    }
    let key: KeyObject;
    try {
      if (kr.csr) key = keyFromCsr(kr.csr);
      else {
        key = parsePublicKey(kr.publicKey ?? Buffer.alloc(0));
        checkKeyStrength(key);
        verifyProofOfPossession(key, principal.name, kr.proof ?? Buffer.alloc(0));
      }
    } catch (err) {
      if (err instanceof KeyProblem) throw new FulcioError(GRPC.invalidArgument, MESSAGES[err.kind]);
      throw err;
    }
    return this.ca.issue(spkiOf(key), principal);
  }
}
