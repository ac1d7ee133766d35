import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright';
import { launchPersistentBrowser, type PersistentBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, runShoal, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { logIn, type NodeTab, onceNodesReady, openNodeTab, startWebCluster } from '../server/testing/web-cluster.ts';
import { chunkHashes, sha256, storedHashes, storedManifests } from './web-app.ts';

// Issue 4, tests 2 and 4: a disk node and two tabs side by side, used through the CLI, then pictured.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
const bytes = randomBytesSeeded(24 * 1024 * 1024, 2);

let cluster: TestCluster | undefined;
let browser: PersistentBrowser | undefined;
let tabs: NodeTab[] = [];
let work = '';

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'shoal-mixed-'));
  await writeFile(join(work, 'mixed.bin'), bytes);
  cluster = await startWebCluster({ nodes: 1 });
  browser = await launchPersistentBrowser();
  tabs = await Promise.all([1, 2].map(() => openNodeTab(browser!.context, cluster!)));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function shoal(...args: string[]): Promise<void> {
  const run = await runShoal([...args, '--gateway', cluster!.url, '--token', cluster!.token]);
  if (run.code !== 0) throw new Error(`shoal ${args.join(' ')} exited with ${run.code}: ${run.stderr}`);
}

async function downloadWithCli(as: string): Promise<string> {
  await shoal('download', 'mixed.bin', '-o', join(work, as));
  return sha256(await readFile(join(work, as)));
}

test('the CLI uploads to a disk node and two tabs, and every chunk has a copy in a tab', async () => {
  await onceNodesReady(() => shoal('upload', join(work, 'mixed.bin')));
  const held = (await Promise.all(tabs.map(storedHashes))).flat();
  // A disk node can hold one copy of a chunk at most, so with two copies each, one is in a tab.
  for (const hash of chunkHashes(cluster!, bytes)) assert.ok(held.includes(hash), `chunk ${hash.slice(0, 12)} has a copy in a tab`);
  assert.equal(await downloadWithCli('back.bin'), sha256(bytes));
});

/** The value a dashboard or node page tile shows. */
function tile(page: Page, id: string): Promise<string | null> {
  return page.locator(`shoal-stat#${id}`).getAttribute('value');
}

test('the dashboard, files page and a node page show the cluster, and are pictured in test-artifacts/', async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await shoal('upload', join(work, 'mixed.bin'), '--name', 'photos/holiday-2024.tar');
  const page = await browser!.context.newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  await logIn(page, cluster!);
  await page.locator('shoal-node-card[status="online"]').nth(2).waitFor();
  await waitFor(async () => (await tile(page, 'files')) === '2', 30_000, 'the dashboard to count both files');
  const cards = await page.locator('shoal-node-card').evaluateAll((els) => els.map((el) => `${el.getAttribute('kind')} ${el.getAttribute('node-id')} ${el.getAttribute('status')}`));
  assert.deepEqual(cards, ['disk node1 online', ...tabs.map((t) => `browser ${t.id} online`).sort()], 'the disk node first, then both tabs');
  assert.equal(await tile(page, 'nodes-online'), '3 of 3');
  assert.equal(await page.locator('shoal-stat#nodes-online shoal-status').getAttribute('status'), 'ok');
  assert.equal(await tile(page, 'under-replicated'), '0');
  assert.equal(await page.locator('shoal-dashboard-page .live').innerText(), 'Live');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });

  await page.locator('shoal-app nav a[href="/files"]').click();
  // Names with a '/' are in folders: the top shows the folder, and the file inside it.
  await page.locator('shoal-file-list li[data-folder="photos/"]').waitFor();
  const files = await page.locator('shoal-file-list li.file').evaluateAll((els) => els.map((el) => `${el.getAttribute('data-name')} ${el.getAttribute('data-health')}`));
  assert.deepEqual(files, ['mixed.bin ok']);
  assert.ok(await page.locator('shoal-dashboard-page').isHidden(), 'only the files page is on screen');
  await page.screenshot({ path: join(ARTIFACTS, 'files.png'), fullPage: true });

  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('shoal-app nav a[href="/"]').click();
  await page.locator('shoal-dashboard-page').waitFor();
  assert.ok(await page.locator('shoal-files-page').isHidden(), 'the dashboard is back on screen');
  assert.equal(await page.locator('shoal-dashboard-page shoal-node-card').count(), 3);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0, 'nothing is wider than a phone screen');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true });

  const node = tabs[0]!;
  await node.page.setViewportSize({ width: 1280, height: 860 });
  assert.equal(await node.page.locator('shoal-node-page #state').getAttribute('status'), 'online');
  assert.equal(await tile(node.page, 'node-id'), node.id);
  const held = (await storedHashes(node)).length + (await storedManifests(node)).length;
  assert.ok(held > 0, 'the tab holds chunks');
  await waitFor(async () => (await tile(node.page, 'chunks')) === String(held), 30_000, `the node page to count the ${held} chunks in its store`);
  await node.page.screenshot({ path: join(ARTIFACTS, 'node.png'), fullPage: true });
  await page.close();
});

test('with the disk node gone, the CLI downloads the file from the tabs alone', async () => {
  await cluster!.killNode('node1');
  await waitFor(async () => (await cluster!.nodeStatus('node1')) === 'offline', 30_000, 'the disk node to go offline');
  assert.equal(await downloadWithCli('from-tabs.bin'), sha256(bytes));
});
