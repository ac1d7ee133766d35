import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchPersistentBrowser, type PersistentBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { FAST_HEARTBEAT, invitedNodeUrl, logIn, onceNodesReady, onlineNodeId, openNodeTab, startWebCluster, type NodeTab } from '../server/testing/web-cluster.ts';
import { sha256, storedHashes, tabChunkCount } from './web-app.ts';

// Issue 4, test 3 and the rest of a tab's identity: reload, duplicated tab, adoption of a closed tab's store.
const FILE = 'kept.bin';
const bytes = randomBytesSeeded(12 * 1024 * 1024, 3);
const CHUNKS = 3;
/** What a tab counts: the file's chunks and its manifest. */
const STORED = CHUNKS + 1;

let cluster: TestCluster | undefined;
let browser: PersistentBrowser | undefined;
let a: NodeTab;
let b: NodeTab;
let heir: NodeTab;
let copyId = '';

before(async () => {
  cluster = await startWebCluster({ nodes: 0, gatewayArgs: FAST_HEARTBEAT });
  browser = await launchPersistentBrowser();
  [a, b] = await Promise.all([openNodeTab(browser.context, cluster), openNodeTab(browser.context, cluster)]);
  // Two nodes and two replicas: both tabs hold every chunk.
  await onceNodesReady(() => cluster!.client.upload(FILE, bytes));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** The gateway counts every chunk fully replicated: it has the inventory of every node it needs. */
async function fileIsHealthy(): Promise<void> {
  await waitFor(async () => (await cluster!.client.list())[0]?.health === 'ok' && (await cluster!.client.health()).underReplicatedChunks === 0, 30_000, 'the file to be healthy');
}

async function downloadsIntact(): Promise<void> {
  const res = await cluster!.client.download(FILE);
  assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(bytes));
}

test('a reloaded node tab is the same node, still holds its chunks, and the gateway sees its inventory', async () => {
  assert.equal(new URL(a.page.url()).searchParams.get('invite'), null, 'the invite left the address once the node was in');
  await a.page.reload();
  assert.equal(await onlineNodeId(a.page), a.id);
  assert.equal((await storedHashes(a)).length, CHUNKS);
  await waitFor(async () => (await tabChunkCount(a.page)) === STORED, 30_000, 'the tab to count its chunks');
  const node = (await cluster!.client.nodes()).find((n) => n.id === a.id);
  assert.equal(node?.status, 'online');
  assert.equal(node?.chunkCount, STORED);
  await fileIsHealthy();
  await downloadsIntact();
});

test('a duplicated tab copies sessionStorage but never takes the original node: without an invite it is no node', async () => {
  // Records what the copy found in sessionStorage before the app could replace it.
  await browser!.context.addInitScript(() => ((window as { inheritedId?: string | null }).inheritedId = sessionStorage.getItem('shoal.nodeId')));
  const [copy] = await Promise.all([browser!.context.waitForEvent('page'), a.page.evaluate(() => void window.open(location.href))]);
  try {
    assert.equal(await copy.evaluate(() => (window as { inheritedId?: string | null }).inheritedId), a.id, 'the copy starts with the original id');
    await copy.locator('shoal-node-page[state="uninvited"]').waitFor({ timeout: 30_000 });
    assert.match(await copy.locator('shoal-node-page #join-help').innerText(), /invite/);
    assert.equal(await a.page.locator('shoal-node-page').getAttribute('state'), 'online');
    assert.equal((await cluster!.client.nodes()).length, 2, 'no node was registered for the copy');
  } finally {
    await copy.close();
  }
});

test('a duplicated tab with an invite becomes a node of its own, leaving the original alone', async () => {
  const url = await invitedNodeUrl(cluster!);
  const [copy] = await Promise.all([browser!.context.waitForEvent('page'), a.page.evaluate((href) => void window.open(href), url)]);
  try {
    assert.equal(await copy.evaluate(() => (window as { inheritedId?: string | null }).inheritedId), a.id, 'the copy starts with the original id');
    copyId = await onlineNodeId(copy);
    assert.notEqual(copyId, a.id);
    assert.equal(await a.page.locator('shoal-node-page').getAttribute('state'), 'online');
    const nodes = await cluster!.client.nodes();
    assert.equal(nodes.find((n) => n.id === a.id)?.status, 'online');
    assert.equal(nodes.find((n) => n.id === copyId)?.status, 'online');
  } finally {
    await copy.close();
  }
});

test("a closed tab's store is adopted by a new tab opened with ?adopt=1", async () => {
  await b.page.close();
  await waitFor(async () => (await cluster!.client.nodes()).find((n) => n.id === b.id)?.status === 'offline', 30_000, 'the closed tab to go offline');
  // The duplicated tab left an empty store behind too; adoption takes the one holding data. The
  // store's node is enrolled already, so no invite is needed.
  const page = await browser!.context.newPage();
  await page.goto(`${cluster!.url}/node?adopt=1`);
  heir = { page, id: await onlineNodeId(page) };
  assert.equal(heir.id, b.id);
  assert.equal((await storedHashes(heir)).length, CHUNKS);
  await fileIsHealthy();
  await downloadsIntact();
});

test("the node page lists a closed tab's store and deletes it on request", async () => {
  // Deleting a store makes the gateway forget its node: an admin's call, so this browser logs in.
  const dashboard = await browser!.context.newPage();
  await logIn(dashboard, cluster!);
  await dashboard.close();
  const leftBehind = heir.page.locator('shoal-node-page .left-behind li', { hasText: copyId });
  const remove = leftBehind.locator('shoal-confirm-button button');
  await remove.click();
  await remove.click();
  await leftBehind.waitFor({ state: 'detached' });
  const databases = await heir.page.evaluate(async () => (await indexedDB.databases()).map((db) => db.name));
  assert.ok(!databases.includes(`shoal-node-${copyId}`), `${copyId}'s store is gone`);
  assert.ok(databases.includes(`shoal-node-${heir.id}`));
  assert.ok(!(await cluster!.client.nodes()).some((n) => n.id === copyId), 'the gateway forgot the node too');
});

test('a capacity chosen on the page reaches the gateway', async () => {
  const slider = heir.page.locator('shoal-node-page input[type="range"]');
  await slider.evaluate((input: HTMLInputElement) => {
    input.value = String(512 * 1024 * 1024);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    // Applied when the slider is let go.
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  await waitFor(async () => (await cluster!.client.nodes()).find((n) => n.id === heir.id)?.capacityBytes === 512 * 1024 * 1024, 30_000, 'the new capacity');
  assert.equal(await onlineNodeId(heir.page), heir.id);
  await fileIsHealthy();
});
