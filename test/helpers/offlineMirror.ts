import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { seededPublicGoodRoot } from '../../src/trust/publicGood';
import { type MirrorFiles, mirrorFiles, recordMirror, writeState } from '../../src/trust/tufMirror';

/** A 127.0.0.1 port nothing listens on (taken, then closed): connections to it are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface OfflineMirror {
  files: MirrorFiles;
  /** Makes the cached copy two days old: the next call is the first after a day, and starts a refresh. */
  due(): void;
  /** Waits (bounded) for a background refresh started by a call to end. */
  settled(): Promise<void>;
}

/**
 * The default configuration on a machine without network: the TUF mirror in use (TUF_ROOT, under
 * XDG_CACHE_HOME) is a closed 127.0.0.1 port, its cached trusted root the seeded public-good one.
 */
export async function offlineMirror(env: NodeJS.ProcessEnv): Promise<OfflineMirror> {
  const files = mirrorFiles(env.TUF_ROOT as string, join(env.XDG_CACHE_HOME as string, 'sigstore', 'gitsign-ts'), `http://127.0.0.1:${await closedPort()}/tuf`);
  recordMirror(files.root, files.mirror);
  mkdirSync(files.dir, { recursive: true });
  writeFileSync(files.trustedRoot, JSON.stringify(seededPublicGoodRoot()));
  return {
    files,
    due: () => writeState(files, { lastSuccess: new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString(), failures: 0 }),
    settled: async () => {
      for (let i = 0; i < 400 && existsSync(files.lock); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    },
  };
}
