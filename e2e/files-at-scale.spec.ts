import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright';
import { SqliteMetadataStore } from '../server/gateway/metadata/sqlite-metadata-store.ts';
import { METADATA_FILE } from '../server/gateway/open-metadata.ts';
import { launchBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, type TestCluster } from '../server/testing/cluster.ts';
import { FAST_HEARTBEAT, logIn, startWebCluster } from '../server/testing/web-cluster.ts';
import { downloadThroughPage, sha256 } from './web-app.ts';

// Issue 15: the files page with 20,000 files: folders, search by prefix, pages; a file's chunks and nodes.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
const BULK = 20_000;
const FOLDERS = 100;
const report = randomBytesSeeded(300 * 1024, 15);

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
let page: Page;

/** bulk/batch-07/file-00107.txt: file i sits in folder i % FOLDERS, so each folder holds 200. */
function bulkName(i: number): string {
  return `bulk/batch-${String(i % FOLDERS).padStart(2, '0')}/file-${String(i).padStart(5, '0')}.txt`;
}

/**
 * Records BULK files in the metadata at once, each a copy of one small file uploaded through the
 * API (its chunk and manifest are on the nodes), with the gateway stopped. Uploading them one by
 * one takes about 12 ms each here, four minutes for the lot, for a test about what the page shows.
 */
async function seedBulkFiles(cluster: TestCluster): Promise<void> {
  await cluster.client.upload('seed.txt', new TextEncoder().encode('x'));
  await cluster.kill(cluster.gateway, 'SIGTERM');
  const store = SqliteMetadataStore.open(join(cluster.dataDir, METADATA_FILE));
  try {
    const seed = (await store.getFile('seed.txt'))!;
    const chunks = [...(await store.getChunks(seed.chunks.map((c) => c.hash))).values()];
    const manifest = (await store.listChunks()).find((c) => c.kind === 'manifest')!;
    const version = (await store.largestVersion()) + 1;
    await store.commitFiles(
      Array.from({ length: BULK }, (_, i) => ({ file: { ...seed, name: bulkName(i) }, chunks, manifest: { version: version + i, chunk: manifest } })),
    );
  } finally {
    await store.close();
  }
  await cluster.startGateway();
  await cluster.waitForOnline(2);
}

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  cluster = await startWebCluster({ nodes: 2, gatewayArgs: FAST_HEARTBEAT });
  await cluster.client.upload('report.pdf', report);
  await cluster.client.upload('docs/notes.txt', new TextEncoder().encode('notes'));
  await seedBulkFiles(cluster);
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

const rows = (selector = 'li') => page.locator(`shoal-files-page shoal-file-list ${selector}`);
const names = (selector = 'li.file') => rows(selector).evaluateAll((els) => els.map((el) => el.getAttribute('data-name') ?? el.getAttribute('data-folder')));

test('with 20,000 files stored, the files page shows its first screen as folders and a page of rows, not every file', async () => {
  assert.equal((await cluster!.client.health()).files, BULK + 3);
  await logIn(page, cluster!, '/files');
  await rows('li.folder[data-folder="bulk/"]').waitFor();
  assert.deepEqual(await names('li.folder'), ['bulk/', 'docs/']);
  assert.deepEqual(await names(), ['report.pdf', 'seed.txt']);
  assert.equal(await page.locator('shoal-files-page #shown').innerText(), '2 folders and 2 files');
  await page.screenshot({ path: join(ARTIFACTS, 'files-folders.png'), fullPage: true });
});

test('a folder of 200 files opens as pages of 100, by its name, the breadcrumbs and the address', async () => {
  await rows('li.folder[data-folder="bulk/"] button').click();
  await rows('li.folder[data-folder="bulk/batch-07/"]').waitFor();
  assert.equal(await rows('li.folder').count(), FOLDERS, 'the hundred batch folders, and no file');
  assert.equal(new URL(page.url()).searchParams.get('folder'), 'bulk/');

  await rows('li.folder[data-folder="bulk/batch-07/"] button').click();
  await rows(`li.file[data-name="${bulkName(7)}"]`).waitFor();
  const first = await names();
  assert.equal(first.length, 100, 'one page of rows');
  assert.equal(first[0], bulkName(7));
  await page.locator('shoal-files-page #next-page').click();
  await rows(`li.file[data-name="${bulkName(10_007)}"]`).waitFor();
  const second = await names();
  assert.equal(second.length, 100);
  assert.equal(second.at(-1), bulkName(19_907), 'the last of the folder');
  assert.ok(await page.locator('shoal-files-page #next-page').isDisabled(), 'no page after the last');
  await page.screenshot({ path: join(ARTIFACTS, 'files-folder-page-2.png'), fullPage: true });

  // A reload opens the same folder again, and the breadcrumbs lead back up.
  await page.reload();
  await rows(`li.file[data-name="${bulkName(7)}"]`).waitFor();
  const crumbs = await page.locator('shoal-files-page nav.crumbs li').allInnerTexts();
  assert.deepEqual(crumbs, ['All files', 'bulk', 'batch-07']);
  await page.locator('shoal-files-page nav.crumbs button[data-folder="bulk/"]').click();
  await rows('li.folder[data-folder="bulk/batch-00/"]').waitFor();
  await rows('li.folder[data-folder="bulk/batch-07/"] button').click();
  await rows(`li.file[data-name="${bulkName(7)}"]`).waitFor();
});

test('searching a folder by how names start shows only those names', async () => {
  await page.locator('shoal-files-page #search').fill('file-1');
  await rows(`li.file[data-name="${bulkName(10_007)}"]`).waitFor();
  await rows(`li.file[data-name="${bulkName(7)}"]`).waitFor({ state: 'detached' });
  const found = await names();
  assert.ok(found.length > 0 && found.every((name) => name!.startsWith('bulk/batch-07/file-1')), 'only names starting with the search');
  await page.screenshot({ path: join(ARTIFACTS, 'files-search.png'), fullPage: true });
  await page.locator('shoal-files-page #search').fill('nothing-like-this');
  await page.locator('shoal-files-page .empty').getByText('No names in bulk/batch-07/ start with').waitFor();
});

test("a file's detail shows each chunk on its two nodes, and its buttons are named with the file", async () => {
  await page.locator('shoal-files-page nav.crumbs button[data-folder=""]').click();
  await rows('li.file[data-name="report.pdf"]').waitFor();
  assert.equal(await rows('li.file[data-name="report.pdf"] a.download').getAttribute('aria-label'), 'Download report.pdf');
  assert.equal(await rows('li.file[data-name="report.pdf"] shoal-confirm-button button').getAttribute('aria-label'), 'Delete report.pdf');
  assert.equal(await downloadThroughPage(page, 'report.pdf'), sha256(report));

  await rows('li.file[data-name="report.pdf"] button.name').click();
  const detail = page.locator('shoal-files-page shoal-file-detail');
  await detail.locator('tr.chunk').first().waitFor();
  const copies = await detail.locator('tr.chunk').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('shoal-status.copy')].map((s) => s.getAttribute('status')).join(',')));
  assert.deepEqual(copies, ['online,online'], 'the one chunk of a 300 KiB file, on both nodes');
  assert.equal(await detail.locator('#detail-health').getAttribute('status'), 'ok');
  await page.screenshot({ path: join(ARTIFACTS, 'files-detail.png'), fullPage: true });
});

test('a file whose nodes are all offline says so, names them, and cannot be downloaded', async () => {
  await Promise.all(['node1', 'node2'].map((id) => cluster!.killNode(id)));
  await rows('li.file[data-name="report.pdf"][data-health="unavailable"]').waitFor({ timeout: 30_000 });
  const button = rows('li.file[data-name="report.pdf"] button.download');
  assert.ok(await button.isDisabled(), 'Download is disabled');
  assert.equal(await button.getAttribute('aria-label'), 'Download report.pdf: cannot be read now');
  const detail = page.locator('shoal-files-page shoal-file-detail');
  const reason = await detail.locator('#unreadable').innerText();
  assert.match(reason, /report\.pdf cannot be read now: its only chunk has no copy online, and it waits for node1, node2 to come back online/);
  assert.deepEqual(await detail.locator('shoal-status.copy').evaluateAll((els) => els.map((el) => el.getAttribute('status'))), ['offline', 'offline']);
  await page.screenshot({ path: join(ARTIFACTS, 'files-unavailable.png'), fullPage: true });
});

test('with the gateway gone, the page marks its list and node count as of when it last heard, not live', async () => {
  await cluster!.kill(cluster!.gateway);
  await page.locator('shoal-files-page #stale').waitFor({ timeout: 30_000 });
  assert.match(await page.locator('shoal-files-page #stale').innerText(), /The gateway cannot be reached: the list below is as of \d\d:\d\d/);
  assert.match(await page.locator('shoal-files-page #summary').innerText(), /as of \d\d:\d\d, \d+ nodes? (was|were) online/);
  await page.screenshot({ path: join(ARTIFACTS, 'files-stale.png'), fullPage: true });
});
