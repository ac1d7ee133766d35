import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright';
import { launchPersistentBrowser, type PersistentBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { FAST_HEARTBEAT, logIn, type NodeTab, onlineNodeId, openNodeTab, startWebCluster } from '../server/testing/web-cluster.ts';
import { chunkHashes, downloadThroughPage, sha256, storedHashes, storedManifests, tabChunkCount, uploadThroughPage } from './web-app.ts';

// Issue 4, test 1: a cluster made of nothing but browser tabs, driven through the web app.
const FILE = 'twenty.bin';
const bytes = randomBytesSeeded(20 * 1024 * 1024, 4);

let cluster: TestCluster | undefined;
let browser: PersistentBrowser | undefined;
let tabs: NodeTab[] = [];
let app: Page;

before(async () => {
  cluster = await startWebCluster({ nodes: 0, gatewayArgs: FAST_HEARTBEAT });
  browser = await launchPersistentBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

test('with no nodes online, the files page says why the gateway refuses an upload', async () => {
  app = await browser!.context.newPage();
  await logIn(app, cluster!, '/files');
  await assert.rejects(uploadThroughPage(app, 'refused.bin', bytes.subarray(0, 6 * 1024 * 1024)), /Not enough storage nodes are online[^]*INSUFFICIENT_NODES/);
});

test('three tabs opened with invites become three browser nodes, and a fourth tab shows them online', async () => {
  const { context } = browser!;
  tabs = await Promise.all([1, 2, 3].map(() => openNodeTab(context, cluster!)));
  assert.equal(new Set(tabs.map((t) => t.id)).size, 3, 'each tab is its own node');
  await app.locator('shoal-app nav a[href="/"]').click();
  for (const { id } of tabs) await app.locator(`shoal-node-card[node-id="${id}"][kind="browser"][status="online"]`).waitFor({ timeout: 30_000 });
  assert.equal(await app.locator('shoal-node-card').count(), 3);
});

test('a 20 MiB upload through the files page puts every chunk on two different tabs', async () => {
  await app.locator('shoal-app nav a[href="/files"]').click();
  await uploadThroughPage(app, FILE, bytes);
  const [file] = await cluster!.client.list();
  assert.equal(file?.name, FILE);
  assert.equal(file?.sha256, sha256(bytes));

  const chunks = chunkHashes(cluster!, bytes);
  const held = await Promise.all(tabs.map(storedHashes));
  const manifests = await Promise.all(tabs.map(storedManifests));
  for (const hash of chunks) {
    assert.equal(held.filter((hashes) => hashes.includes(hash)).length, 2, `chunk ${hash.slice(0, 12)} is on exactly two tabs`);
  }
  // The gateway's view and each tab's own counter agree with what is really stored.
  await waitFor(
    async () => {
      const nodes = await cluster!.client.nodes();
      const counts = await Promise.all(tabs.map((t) => tabChunkCount(t.page)));
      const stored = (i: number) => held[i]!.length + manifests[i]!.length;
      return tabs.every((t, i) => nodes.find((n) => n.id === t.id)?.chunkCount === stored(i) && counts[i] === stored(i));
    },
    30_000,
    'the gateway and the tabs to report what the tabs store',
  );
  assert.equal(held.flat().length, chunks.length * 2);
});

test('a download through the files page returns the same bytes', async () => {
  assert.equal(await downloadThroughPage(app, FILE), sha256(bytes));
});

test('a closed node tab shows offline on the dashboard within 15 s, without a reload, and the file still downloads', async () => {
  await app.locator('shoal-app nav a[href="/"]').click();
  await app.evaluate(() => ((window as { notReloaded?: boolean }).notReloaded = true));
  const [gone, ...left] = tabs;
  await gone!.page.close();
  await app.locator(`shoal-node-card[node-id="${gone!.id}"][status="offline"]`).waitFor({ timeout: 15_000 });
  for (const { id } of left) assert.equal(await app.locator(`shoal-node-card[node-id="${id}"]`).getAttribute('status'), 'online');
  assert.equal(await app.evaluate(() => (window as { notReloaded?: boolean }).notReloaded), true, 'the dashboard was not reloaded');

  await app.locator('shoal-app nav a[href="/files"]').click();
  assert.equal(await downloadThroughPage(app, FILE), sha256(bytes));
});

test("the dashboard's 'Add this browser as a node' opens a tab that takes over the closed tab's store", async () => {
  await app.locator('shoal-app nav a[href="/"]').click();
  const [added] = await Promise.all([browser!.context.waitForEvent('page'), app.locator('#add-browser').click()]);
  const [gone] = tabs;
  assert.equal(await onlineNodeId(added), gone!.id);
  tabs[0] = { page: added, id: gone!.id };
  // The button made a single-use invite that expires soon; adopting a known node left it unused.
  const invite = (await cluster!.client.invites()).find((i) => i.label.includes('dashboard'));
  assert.equal(invite?.maxUses, 1);
  assert.equal(invite?.uses, 0);
  assert.ok(Date.parse(invite!.expiresAt!) - Date.now() <= 10 * 60_000, 'it expires within 10 minutes');
  assert.equal(new URL(added.url()).searchParams.get('invite'), null, 'the invite left the address');
  await app.locator(`shoal-node-card[node-id="${gone!.id}"][status="online"]`).waitFor({ timeout: 30_000 });
  await waitFor(async () => (await cluster!.client.list())[0]?.health === 'ok', 30_000, 'the file to be fully replicated again');
  await app.locator('shoal-app nav a[href="/files"]').click();
});

test('deleting the file through the files page empties the list and the tabs', async () => {
  const remove = app.locator(`shoal-file-list li[data-name="${FILE}"] shoal-confirm-button button`);
  await remove.click();
  assert.equal(await remove.innerText(), 'Really delete?');
  await remove.click();
  await app.locator('shoal-file-list').waitFor({ state: 'detached' });
  assert.deepEqual(await cluster!.client.list(), []);
  await waitFor(async () => (await Promise.all(tabs.map(storedHashes))).every((hashes) => hashes.length === 0), 30_000, 'the tabs to drop the chunks');
});
