/**
 * The target of a request our servers receive (the login's loopback listener, the sandbox) as a URL, or
 * null when it is not one: `GET //[` or `GET http://[` make `new URL` throw, which must become a 400
 * answer, never an exception that takes the server down.
 */
export function requestTarget(raw: string | undefined): URL | null {
  try {
    return new URL(raw ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}
