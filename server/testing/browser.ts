import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type LaunchOptions } from 'playwright';

/**
 * The one way Shoal's tests and benchmarks start Chromium: the system build (Playwright's own
 * download is not available here), without the background traffic and GPU a test does not need.
 */
export const LAUNCH_OPTIONS: LaunchOptions = {
  executablePath: process.env.CHROMIUM_PATH || (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined),
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

export function launchBrowser(): Promise<Browser> {
  return chromium.launch(LAUNCH_OPTIONS);
}

export interface PersistentBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A browser with a real profile on disk. `browser.newContext()` keeps IndexedDB in memory and
 * refuses writes past about 1.3 GB, so anything that stores real amounts of data uses this.
 */
export async function launchPersistentBrowser(): Promise<PersistentBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'shoal-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, LAUNCH_OPTIONS);
    return {
      context,
      async close() {
        await context.close().catch(() => {});
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}
