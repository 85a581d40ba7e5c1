import { join } from 'node:path';
import type { Router } from '../http/router';
import { send, sendJson } from '../http/router';
import { readOwnFile } from '../state/fsutil';

/**
 * Serves DIR/tuf under /tuf/ as a TUF mirror: only the names a client asks for (N.root.json,
 * root.json, timestamp.json, [N.]snapshot.json, [N.]targets.json, targets/<sha256>.trusted_root.json),
 * read from disk at each request so `rotate-tuf` in another process is served at once.
 * Anything else, and a version not there (how a client learns there is no newer root), is a 404.
 */
export const TUF_PATH = '/tuf';

const FILE = /^\/tuf\/((?:[1-9]\d{0,8}\.)?(?:root|targets|snapshot)\.json|timestamp\.json|targets\/[0-9a-f]{64}\.trusted_root\.json)$/;

export function mountTufRepository(router: Router, repo: string): void {
  router.on('GET', FILE, (req, res) => {
    const data = readOwnFile(join(repo, req.params[0]));
    if (!data) return sendJson(res, 404, { code: 404, message: 'Not Found' });
    send(res, 200, data, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  });
}
