import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomBytesSeeded, runShoal, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { launchPersistentBrowser, type PersistentBrowser } from './browser.ts';
import { chunkHashes, onceNodesReady, openNodeTab, sha256, startWebCluster, storedHashes, type NodeTab } from './web-cluster.ts';

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
  tabs = await Promise.all([1, 2].map(() => openNodeTab(browser!.context, cluster!.url)));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function shoal(...args: string[]): Promise<void> {
  const run = await runShoal([...args, '--gateway', cluster!.url]);
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
  for (const hash of chunkHashes(bytes)) assert.ok(held.includes(hash), `chunk ${hash.slice(0, 12)} has a copy in a tab`);
  assert.equal(await downloadWithCli('back.bin'), sha256(bytes));
});

test('the dashboard, files page and a node page are pictured in test-artifacts/', async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  await shoal('upload', join(work, 'mixed.bin'), '--name', 'photos/holiday-2024.tar');
  const page = await browser!.context.newPage();
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.goto(cluster!.url);
  await page.locator('shoal-node-card[status="online"]').nth(2).waitFor();
  await waitFor(async () => (await page.locator('shoal-stat#files').getAttribute('value')) === '2', 5000, 'the dashboard to count both files');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  await page.locator('shoal-app nav a[href="/files"]').click();
  await page.locator('shoal-file-list li[data-name="photos/holiday-2024.tar"]').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'files.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator('shoal-app nav a[href="/"]').click();
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow.png'), fullPage: true });
  await tabs[0]!.page.setViewportSize({ width: 1280, height: 860 });
  await tabs[0]!.page.screenshot({ path: join(ARTIFACTS, 'node.png'), fullPage: true });
  await page.close();
});

test('with the disk node gone, the CLI downloads the file from the tabs alone', async () => {
  await cluster!.killNode('node1');
  await waitFor(async () => (await cluster!.nodeStatus('node1')) === 'offline', 20_000, 'the disk node to go offline');
  assert.equal(await downloadWithCli('from-tabs.bin'), sha256(bytes));
});
