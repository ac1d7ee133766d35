import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright';
import { build } from 'vite';
import { LAUNCH_OPTIONS } from '../server/testing/browser.ts';

// Chromium keeps an IndexedDB Blob as a file of its own beside the database. One cut short or gone
// (a disk that lost it, a cleaner that removed it) cannot be read at all: the store must count that
// copy as damaged and drop it, as it does bytes that fail their hash, not keep listing a chunk it
// can never serve (the gateway would go on counting it as a replica, and never repair it).
const PAGE_ROOT = fileURLToPath(new URL('./idb-lost-blob-page', import.meta.url));
const ORIGIN = 'http://localhost:4197';
const SIZE = 1024 * 1024;

let outDir = '';
let profile = '';
let context: BrowserContext | undefined;
let page: Page;

before(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'shoal-lost-blob-page-'));
  await build({ root: PAGE_ROOT, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  // The profile's path is the test's to know: the Blob files are damaged in it directly.
  profile = await mkdtemp(join(tmpdir(), 'shoal-lost-blob-chromium-'));
  context = await chromium.launchPersistentContext(profile, LAUNCH_OPTIONS);
  await context.route(`${ORIGIN}/**`, (route) => route.fulfill({ path: join(outDir, new URL(route.request().url()).pathname) }));
  page = await context.newPage();
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => 'idbLostBlob' in window);
});

after(async () => {
  await context?.close().catch(() => {});
  for (const dir of [profile, outDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

async function blobFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? blobFiles(join(dir, e.name)) : [join(dir, e.name)])));
  return nested.flat().filter((path) => path.includes('.indexeddb.blob'));
}

/** Blob files already damaged by an earlier case. */
const seen = new Set<string>();

for (const [how, damage] of [
  ['cut short', (path: string) => truncate(path, 1000)],
  ['gone', (path: string) => rm(path)],
] as const) {
  test(`a large chunk whose Blob file is ${how} is dropped as damaged, not held and listed on`, async () => {
    const hash = await page.evaluate((size) => window.idbLostBlob.put(size), SIZE);
    let damaged = 0;
    // The chunk's file: at least its size (a release that stored bytes let Chromium wrap them with a header).
    for (const path of await blobFiles(profile)) {
      if (seen.has(path) || (await stat(path)).size < SIZE) continue;
      seen.add(path);
      await damage(path);
      damaged++;
    }
    assert.equal(damaged, 1, 'the chunk is one Blob file of its size');
    // A download asks for a whole sealed chunk as a span first and asks for it whole only when
    // what came back does not open, or the node said its copy is damaged or gone; an error of
    // any other kind moves on to the next copy and leaves this one counted as a replica.
    const range = await page.evaluate(([h, size]) => window.idbLostBlob.getRange(h, size), [hash, SIZE] as const);
    assert.ok(['CHUNK_CORRUPT', 'CHUNK_NOT_FOUND'].includes(range.code) || (range.code === 'read' && range.length !== SIZE), `the range read: ${JSON.stringify(range)}`);
    const after = await page.evaluate((h) => window.idbLostBlob.get(h), hash);
    assert.deepEqual(after, { code: 'CHUNK_CORRUPT', held: false, listed: false });
  });
}
