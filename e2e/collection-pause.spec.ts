import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright';
import { loadJoinSecret } from '../server/gateway/nodes/join-secret.ts';
import { launchBrowser } from '../server/testing/browser.ts';
import { waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { strayNode } from '../server/testing/scripted-node.ts';
import { logIn, startWebCluster } from '../server/testing/web-cluster.ts';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
let page: Page;

before(async () => {
  cluster = await startWebCluster({ nodes: 2, gatewayArgs: ['--gc-grace', '1s'] });
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 1000 });
  await logIn(page, cluster);
  await page.locator('shoal-repair-panel[state="healthy"]').waitFor();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

test('collection paused at its limit says why on the repair panel, and Confirm collection lets it go on', async () => {
  const deleted = await strayNode({ gatewayUrl: cluster!.url, nodeId: 'stray', join: loadJoinSecret(cluster!.dataDir), count: 1500 });
  const paused = page.locator('shoal-repair-panel #collection-paused');
  await paused.waitFor({ timeout: 30_000 });
  assert.match(await paused.innerText(), /Collection paused/);
  assert.match(await paused.locator('li[data-node="stray"]').innerText(), /150 chunk\(s\) collected on stray in this grace period/);
  assert.match(await page.locator('shoal-repair-panel [data-stat="orphans"] dd').innerText(), /150\s+1350 pending, paused/);
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-collection-paused.png'), fullPage: true });

  const button = paused.locator('shoal-confirm-button#confirm-collection button');
  await button.click();
  assert.equal((await button.innerText()).trim(), 'Delete them?');
  await button.click();
  await paused.waitFor({ state: 'detached', timeout: 30_000 });
  await waitFor(() => deleted.size === 1500, 30_000, 'the rest collected once confirmed');
});
