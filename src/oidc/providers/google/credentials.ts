import { createSign } from 'node:crypto';
import { join } from 'node:path';
import { homeDirectory } from '../../../config/home';
import { GitsignError, quoted } from '../../../errors';
import { type AnswerLimit, OIDC_TOKEN } from '../../../net/answerLimits';
import { httpCall, parseJson, serviceError } from '../../../net/http';
import { headerValue } from '../headerValue';
import { readSmallFile, statable } from '../smallFile';
import { isOnGCE, metadataGet } from './metadata';

/**
 * Google's Application Default Credentials, found where golang.org/x/oauth2/google looks: the file
 * named by GOOGLE_APPLICATION_CREDENTIALS, else gcloud's well-known file
 * (~/.config/gcloud/application_default_credentials.json), else the metadata server of a GCE machine.
 * Of the file types, a service account key and a gcloud user login (authorized_user) are supported;
 * the others (workload identity federation, impersonation chains) are refused by name.
 */
export type GoogleCredentials = { kind: 'file'; path: string; json: Record<string, unknown> } | { kind: 'metadata' };

const CREDENTIALS_FILE: AnswerLimit = { bytes: 64 * 1024, what: 'a credentials file' };
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

function wellKnownFile(env: NodeJS.ProcessEnv): string | undefined {
  const name = 'application_default_credentials.json';
  if (process.platform === 'win32') return env.APPDATA ? join(env.APPDATA, 'gcloud', name) : undefined;
  const home = homeDirectory(env);
  return home ? join(home, '.config', 'gcloud', name) : undefined;
}

function parseFile(path: string): GoogleCredentials {
  const text = readSmallFile(path, CREDENTIALS_FILE, 'the Google credentials file');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GitsignError('CONFIG', `the Google credentials file ${quoted(path, 200)} is not JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new GitsignError('CONFIG', `the Google credentials file ${quoted(path, 200)} is not a JSON object`);
  return { kind: 'file', path, json: json as Record<string, unknown> };
}

/** The ambient credentials, or a TOKEN sentence when there are none (as Go: a named file must be readable). */
export async function findCredentials(env: NodeJS.ProcessEnv): Promise<GoogleCredentials> {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return parseFile(env.GOOGLE_APPLICATION_CREDENTIALS);
  // Absent is the usual case; present but unreadable or malformed is an error, as in Go.
  const known = wellKnownFile(env);
  if (known && statable(known)) return parseFile(known);
  if (await isOnGCE(env)) return { kind: 'metadata' };
  throw new GitsignError('TOKEN', 'no Google credentials here: GOOGLE_APPLICATION_CREDENTIALS is not set, there is no gcloud application default credentials file, and this is not a Google Compute Engine machine');
}

/** A string field of a credentials file, or a CONFIG sentence naming it. */
function field(creds: { path: string; json: Record<string, unknown> }, name: string): string {
  const v = creds.json[name];
  if (typeof v !== 'string' || !v) throw new GitsignError('CONFIG', `the Google credentials file ${quoted(creds.path, 200)} has no "${name}"`);
  return v;
}

/** The file's token_uri (service account keys name one), else Google's. */
function tokenUrlOf(creds: { json: Record<string, unknown> }): string {
  return typeof creds.json.token_uri === 'string' && creds.json.token_uri ? creds.json.token_uri : GOOGLE_TOKEN_URL;
}

/** POSTs a form to an OAuth token endpoint and returns the named field of the answer. */
async function tokenRequest(url: string, form: Record<string, string>, want: 'access_token' | 'id_token'): Promise<string> {
  const service = 'Google OAuth token endpoint';
  const res = await httpCall(url, {
    service,
    method: 'POST',
    limit: OIDC_TOKEN,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (res.status !== 200) throw serviceError(service, res);
  const value = parseJson<Record<string, unknown> | null>(service, res)?.[want];
  if (typeof value !== 'string' || !value) throw new GitsignError('TOKEN', `${service} answered without an ${want}`);
  return value;
}

/**
 * A service account key's JWT-bearer grant (RFC 7523), signed RS256 with the key by node:crypto:
 * with `scope` the answer is an access token, with `target_audience` an ID token (Google's variant).
 */
export function serviceAccountGrant(creds: { path: string; json: Record<string, unknown> }, claim: { scope: string } | { target_audience: string }): Promise<string> {
  const tokenUrl = tokenUrlOf(creds);
  const iat = Math.floor(Date.now() / 1000) - 10; // as golang.org/x/oauth2/jws: room for clock skew
  const header = { alg: 'RS256', typ: 'JWT', ...(typeof creds.json.private_key_id === 'string' ? { kid: creds.json.private_key_id } : {}) };
  const claims = { iss: field(creds, 'client_email'), aud: tokenUrl, iat, exp: iat + 3600, ...claim };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  let signature: string;
  try {
    signature = createSign('RSA-SHA256').update(input).sign(field(creds, 'private_key'), 'base64url');
  } catch (err) {
    if (err instanceof GitsignError) throw err;
    throw new GitsignError('CONFIG', `the private key in the Google credentials file ${quoted(creds.path, 200)} cannot sign (not an RSA key in PEM)`);
  }
  const want = 'scope' in claim ? 'access_token' : 'id_token';
  return tokenRequest(tokenUrl, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: `${input}.${signature}` }, want);
}

/** The file's type, refused by name when gitsign-ts does not handle it. */
function fileType(creds: { path: string; json: Record<string, unknown> }): 'service_account' | 'authorized_user' {
  const type = creds.json.type;
  if (type === 'service_account' || type === 'authorized_user') return type;
  throw new GitsignError('CONFIG', `the Google credentials file ${quoted(creds.path, 200)} is of type ${quoted(type)}: gitsign-ts uses only "service_account" and "authorized_user" credentials`);
}

/** An OAuth access token for the cloud-platform scope, from the ambient credentials (for IAM Credentials calls). */
export async function accessToken(env: NodeJS.ProcessEnv): Promise<string> {
  const creds = await findCredentials(env);
  let token: string;
  if (creds.kind === 'metadata') {
    const res = await metadataGet(env, `instance/service-accounts/default/token?scopes=${encodeURIComponent(CLOUD_PLATFORM_SCOPE)}`, OIDC_TOKEN);
    const value = parseJson<Record<string, unknown> | null>('GCE metadata server', res)?.access_token;
    if (typeof value !== 'string' || !value) throw new GitsignError('TOKEN', 'GCE metadata server answered without an access_token');
    token = value;
  } else if (fileType(creds) === 'service_account') {
    token = await serviceAccountGrant(creds, { scope: CLOUD_PLATFORM_SCOPE });
  } else {
    // A gcloud login's refresh token; its token_uri when it names one (as Google's Python library reads these files).
    token = await tokenRequest(tokenUrlOf(creds), { client_id: field(creds, 'client_id'), client_secret: field(creds, 'client_secret'), refresh_token: field(creds, 'refresh_token'), grant_type: 'refresh_token' }, 'access_token');
  }
  return headerValue(token, 'the access token Google issued', 'TOKEN');
}
