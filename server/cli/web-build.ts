import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WEB_ROOT } from './commands/gateway.ts';
import { isAlive } from '../lib/is-alive.ts';
import { PACKAGE_ROOT } from '../lib/package-root.ts';

const REPO = PACKAGE_ROOT;
/** What the web bundle is made from. */
const SOURCES = ['web', 'shared'].map((dir) => join(REPO, dir));
const STAMP = join(WEB_ROOT, '.source-stamp');
/** Held while one process builds, so test files running side by side never see a half-written dist/web. */
const LOCK = join(dirname(WEB_ROOT), '.web-build.lock');
const LOCK_WAIT_MS = 180_000;

export type WebBuildResult = 'fresh' | 'built' | 'unavailable';

/**
 * Builds the web app into dist/web when it is missing or older than its sources. 'unavailable'
 * means Vite is not installed (a production install): the gateway then serves its placeholder.
 */
export async function ensureWebBuild(log: (line: string) => void = () => {}): Promise<WebBuildResult> {
  // An installed package ships the app built, and not its sources.
  if (!existsSync(SOURCES[0]!)) return existsSync(join(WEB_ROOT, 'index.html')) ? 'fresh' : 'unavailable';
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    const stamp = await sourceStamp();
    if ((await readFile(STAMP, 'utf8').catch(() => '')) === stamp) return 'fresh';
    if (await takeLock()) {
      try {
        return await buildWebApp(stamp, log);
      } finally {
        await rm(LOCK, { recursive: true, force: true });
      }
    }
    if (Date.now() > deadline) throw new Error(`another process has been building the web app for ${LOCK_WAIT_MS / 1000} s (lock ${LOCK})`);
    await sleep(250);
  }
}

async function buildWebApp(stamp: string, log: (line: string) => void): Promise<WebBuildResult> {
  let vite: typeof import('vite');
  try {
    vite = await import('vite');
  } catch {
    return 'unavailable';
  }
  log('building the web app into dist/web ...');
  await vite.build({ configFile: join(REPO, 'web', 'vite.config.ts'), logLevel: 'warn' });
  await writeFile(STAMP, stamp);
  return 'built';
}

/** Newest modification time and file count of the sources: a change, an addition or a removal moves it. */
async function sourceStamp(): Promise<string> {
  let newest = 0;
  let count = 0;
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        newest = Math.max(newest, (await stat(path)).mtimeMs);
        count++;
      }
    }
  };
  for (const dir of SOURCES) await walk(dir);
  return `${newest}:${count}`;
}

/** mkdir is atomic: exactly one process creates the lock. A lock whose owner died is taken over. */
async function takeLock(): Promise<boolean> {
  await mkdir(dirname(LOCK), { recursive: true });
  try {
    await mkdir(LOCK);
    await writeFile(join(LOCK, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number(await readFile(join(LOCK, 'pid'), 'utf8').catch(() => ''));
  if (owner && !isAlive(owner)) await rm(LOCK, { recursive: true, force: true });
  return false;
}
