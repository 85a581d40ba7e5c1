import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { requirePeer } from './peers';

/**
 * Debian's headless Chromium driven by playwright-core: a real browser for the login tests. Flags as
 * this machine needs them (no sandbox as root, no background network in a closed network), and a
 * fresh profile (--user-data-dir, which playwright takes as launchPersistentContext's argument).
 * /usr/bin/chromium unless CHROMIUM names another; when it is missing this fails at once, naming the
 * package that installs it (./peers), before anything is started.
 */
export async function launchChromium(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const executablePath = requirePeer('chromium');
  const profile = mkdtempSync(join(tmpdir(), 'gitsign-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      // Bounded: a browser that never comes up is an error, not a wait.
      timeout: 60_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
