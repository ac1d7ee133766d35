import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright';
import { launchBrowser } from '../server/testing/browser.ts';
import type { TestCluster } from '../server/testing/cluster.ts';
import { logIn, startWebCluster } from '../server/testing/web-cluster.ts';
import { sha256 } from './web-app.ts';

// Issue 15: a large upload from the files page survives a dropped connection and a reload (tus).
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
const NAME = 'big.bin';
const SIZE = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;
let cdp: CDPSession;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  cluster = await startWebCluster({ nodes: 2 });
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  await logIn(page, cluster, '/files');
  cdp = await context.newCDPSession(page);
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

/**
 * Makes a SIZE-byte file in the page from a seeded generator, the same bytes each time, and drops
 * it on the picker, as a person choosing it would. Resolves with its SHA-256, computed in the page.
 */
async function chooseGeneratedFile(): Promise<string> {
  const input = await page.locator('shoal-file-drop input[type="file"]').elementHandle();
  return page.evaluate(
    async ([input, name, size]) => {
      const bytes = new Uint8Array(size);
      const words = new Uint32Array(bytes.buffer);
      let x = 0x9e3779b9;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      const picker = input as HTMLInputElement;
      const chosen = new DataTransfer();
      chosen.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
      picker.files = chosen.files;
      picker.dispatchEvent(new Event('change'));
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
    },
    [input, NAME, SIZE] as const,
  );
}

/**
 * Uploads at about 12 MB/s, so the test can step in while the upload runs; or no network at all.
 * The page's own emulation outranks the context's, so going offline is said to both.
 */
async function network(mode: 'slow' | 'offline' | 'free'): Promise<void> {
  await context.setOffline(mode === 'offline');
  await cdp.send('Network.emulateNetworkConditions', { offline: mode === 'offline', latency: 0, downloadThroughput: -1, uploadThroughput: mode === 'slow' ? 12 * MiB : -1 });
}

const row = () => page.locator(`shoal-upload-list li[data-name="${NAME}"]`);

async function sentAtLeast(bytes: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Number(await row().getAttribute('data-sent')) < bytes) {
    const state = await row().getAttribute('data-state');
    if (state === 'done' || state === 'failed') throw new Error(`the upload ended (${state}) before ${bytes} bytes were sent`);
    if (Date.now() > deadline) throw new Error(`fewer than ${bytes} bytes sent after a minute`);
    await sleep(50);
  }
}

let expected = '';

test('a dropped connection pauses the upload, which carries on once the browser is back online', async () => {
  await network('slow');
  expected = await chooseGeneratedFile();
  await sentAtLeast(12 * MiB);
  await network('offline');
  await page.locator(`shoal-upload-list li[data-name="${NAME}"][data-state="waiting"]`).waitFor({ timeout: 30_000 });
  assert.match(await row().innerText(), /waiting for the connection/);
  await page.screenshot({ path: join(ARTIFACTS, 'files-upload-waiting.png'), fullPage: true });
  assert.deepEqual((await cluster!.client.listPage({ prefix: NAME })).files, [], 'a half-done upload is not a file');

  await network('slow');
  await page.locator(`shoal-upload-list li[data-name="${NAME}"][data-state="uploading"]`).waitFor({ timeout: 30_000 });
  await sentAtLeast(36 * MiB);
});

test('after a reload the page lists the upload as left, and choosing the file again finishes it with the right SHA-256', async () => {
  await page.reload();
  const left = page.locator(`shoal-upload-list li[data-name="${NAME}"][data-state="left"]`);
  await left.waitFor({ timeout: 30_000 });
  const stored = Number(await left.getAttribute('data-sent'));
  assert.ok(stored > 0 && stored < SIZE, `part of the file is stored (${stored} bytes)`);
  assert.match(await left.innerText(), /choose the file again to carry on/);
  await page.screenshot({ path: join(ARTIFACTS, 'files-upload-left.png'), fullPage: true });
  assert.deepEqual((await cluster!.client.listPage({ prefix: NAME })).files, [], 'still not a file');

  await network('free');
  assert.equal(await chooseGeneratedFile(), expected, 'the same bytes');
  const resumed = page.locator(`shoal-upload-list li[data-name="${NAME}"]`);
  await page.locator(`shoal-upload-list li[data-name="${NAME}"][data-state="done"]`).waitFor({ timeout: 120_000 });
  assert.equal(await resumed.count(), 1, 'the left row gave way to the new one');
  assert.ok(Number(await resumed.getAttribute('data-resumed-from')) >= stored, 'it carried on from what was stored');
  await page.screenshot({ path: join(ARTIFACTS, 'files-upload-done.png'), fullPage: true });

  const [file] = (await cluster!.client.listPage({ prefix: NAME })).files;
  assert.equal(file?.size, SIZE);
  const back = new Uint8Array(await (await cluster!.client.download(NAME)).arrayBuffer());
  assert.equal(sha256(back), expected);
});
