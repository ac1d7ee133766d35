import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CDPSession, Page } from 'playwright';
import { build } from 'vite';
import { launchPersistentBrowser, type PersistentBrowser } from '../server/testing/browser.ts';
import { chunkStoreContract } from '../shared/chunk-store.contract.ts';

const PAGE_ROOT = fileURLToPath(new URL('./idb-contract-page', import.meta.url));
/** Nothing listens here: requests are answered from the built page by Playwright, and localhost is a secure context. */
const ORIGIN = 'http://localhost:4199';

let outDir = '';
let browser: PersistentBrowser | undefined;
let page: Page;
let cdp: CDPSession;

before(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'shoal-idb-contract-'));
  await build({ root: PAGE_ROOT, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  browser = await launchPersistentBrowser();
  const { context } = browser;
  await context.route(`${ORIGIN}/**`, (route) => route.fulfill({ path: join(outDir, new URL(route.request().url()).pathname) }));
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await page.goto(`${ORIGIN}/index.html`);
  await page.waitForFunction(() => 'idbContract' in window);
});

after(async () => {
  await browser?.close();
  if (outDir) await rm(outDir, { recursive: true, force: true });
});

// The cases' names are known without a browser; their bodies run in the page.
for (const { name } of chunkStoreContract(() => Promise.reject(new Error('names only')))) {
  test(`IdbChunkStore in Chromium: ${name}`, () => page.evaluate((n) => window.idbContract.run(n), name));
}

test('IdbChunkStore in Chromium: the browser refusing space is NODE_FULL, and what was stored still counts', async () => {
  // Chromium ignores CDP quota overrides and its real limit is gigabytes away, so the refusal is injected.
  assert.deepEqual(await page.evaluate(() => window.idbContract.fill('quota', 1024 ** 3, 2, 1024)), { stored: 2 });
  const refused = await page.evaluate(() => window.idbContract.fillOverQuota('quota', 1024 ** 3, 1, 1024));
  assert.equal(refused.code, 'NODE_FULL', JSON.stringify(refused));
  const inventory = await page.evaluate(() => window.idbContract.inventory('quota', 1024 ** 3));
  assert.equal(inventory.hashes.length, 2);
  assert.equal(inventory.chunkCount, 2);
  assert.equal(inventory.usedBytes, 2048);
});

test('IdbChunkStore in Chromium: chunks a release before Blobs wrote as bytes are listed, counted, read and served in ranges', async () => {
  const sizes = [100, 70_000, 1024 * 1024];
  const old = await page.evaluate((s) => window.idbContract.readOldFormat('old-format', s), sizes);
  assert.deepEqual(old, { listed: 3, usedBytes: sizes.reduce((a, b) => a + b), intact: 3, rangesIntact: 3 });
});

test('IdbChunkStore in Chromium: a large chunk is kept as a Blob, read whole and in part, and a damaged Blob is dropped', async () => {
  const large = await page.evaluate(() => window.idbContract.largeChunks('large', 1024 * 1024));
  assert.deepEqual(large, { storedAs: ['Blob', 'Blob'], intact: 2, rangesIntact: 2, afterDamage: 'CHUNK_CORRUPT', stillHeld: false });
});

test('IdbChunkStore in Chromium: a store the browser evicted reports an honest, empty inventory', async () => {
  const filled = await page.evaluate(() => window.idbContract.fill('evicted', 1024 ** 3, 3, 64 * 1024));
  assert.equal(filled.stored, 3);
  assert.equal((await page.evaluate(() => window.idbContract.inventory('evicted', 1024 ** 3))).hashes.length, 3);
  await cdp.send('Storage.clearDataForOrigin', { origin: ORIGIN, storageTypes: 'indexeddb' });
  const left = await page.evaluate(() => window.idbContract.inventory('evicted', 1024 ** 3));
  assert.deepEqual(left, { hashes: [], usedBytes: 0, chunkCount: 0 });
});
