import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright';
import { launchBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { logIn, startWebCluster } from '../server/testing/web-cluster.ts';

// Issue 5 on the dashboard: a lost node healed, a drain, a refused and then a safe removal, a rebalance.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
/**
 * Repair a second after a node goes, which a killed node is once its socket closes; the long silence
 * grace only keeps a loaded machine from judging offline a node the test never stopped. Small chunks
 * and a slow repair rate make healing last a few seconds, long enough for the page to be seen in the
 * middle of it.
 */
const GATEWAY_ARGS = ['--repair-after', '1s', '--heartbeat-ms', '500', '--offline-after-ms', '10000', '--chunk-size', '1MiB', '--repair-rate', '2MiB'];
const FILES = ['a.bin', 'b.bin', 'c.bin'];

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
let page: Page;

before(async () => {
  cluster = await startWebCluster({ nodes: 4, gatewayArgs: GATEWAY_ARGS });
  for (const [i, name] of FILES.entries()) await cluster.client.upload(name, randomBytesSeeded(4 * 1024 * 1024, i + 1));
  browser = await launchBrowser();
  page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 1000 });
  await logIn(page, cluster);
  await page.locator('shoal-node-card[status="online"]').nth(3).waitFor();
  // Set once; if the page ever reloads, it is gone.
  await page.evaluate(() => ((window as unknown as { sameDocument: boolean }).sameDocument = true));
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

const panel = () => page.locator('shoal-repair-panel');
const card = (id: string) => page.locator(`shoal-node-card[node-id="${id}"]`);

async function stat(name: string): Promise<number> {
  return Number(await panel().locator(`[data-stat="${name}"] dd`).innerText());
}

/** Polls what the page shows; Playwright's own waits cannot compare numbers. */
function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  return waitFor(check, timeoutMs, what);
}

async function confirm(button: Locator): Promise<void> {
  await button.click();
  await button.click();
}

/** The online node the gateway records most chunks on. */
async function busiestOnlineNode(): Promise<string> {
  const nodes = (await cluster!.client.nodes()).filter((n) => n.status === 'online').sort((a, b) => b.recordedChunks - a.recordedChunks);
  assert.ok(nodes[0] && nodes[0].recordedChunks > 0, 'some online node holds chunks');
  return nodes[0].id;
}

test('a killed node shows offline, and the repair panel counts its chunks back to 0 without a reload', async () => {
  assert.equal(await panel().getAttribute('state'), 'healthy');
  const victim = await busiestOnlineNode();
  await cluster!.killNode(victim);
  await card(victim).and(page.locator('[status="offline"]')).waitFor({ timeout: 30_000 });
  await until(async () => (await stat('under-replicated')) > 0, 'the panel to count under-replicated chunks');
  assert.match(await panel().getAttribute('state') ?? '', /^(degraded|healing)$/);

  // Pictured while it heals, if the repair is not already over by now.
  await panel().and(page.locator('[state="healing"]')).waitFor({ timeout: 5000 }).catch(() => {});
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-healing.png'), fullPage: true });

  await until(async () => (await stat('under-replicated')) === 0 && (await panel().getAttribute('state')) === 'healthy', 'repair to bring the panel back to healthy');
  assert.ok((await stat('done')) > 0, 'the panel counts the copies repair made');
  assert.match(await panel().locator('#repair-explain').innerText(), /Every chunk has its 2 copies online/);
  assert.equal(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument), true, 'the page was never reloaded');
});

test('Remove is refused while the node holds needed copies; after Drain it is safe and goes', async () => {
  const id = await busiestOnlineNode();
  const node = card(id);
  await confirm(node.locator('shoal-confirm-button#remove button'));
  const problem = node.locator('.problem');
  await problem.waitFor();
  assert.match(await problem.innerText(), /Not removed: some chunks would be left with too few copies/);
  assert.match(await problem.innerText(), /drain it first, or force/, "the gateway's own reason is shown");
  assert.ok(await node.locator('shoal-confirm-button#force-remove').isVisible(), 'removing anyway is offered after the refusal');

  await node.locator('button#drain').click();
  await node.and(page.locator('[status="draining"]')).waitFor({ timeout: 30_000 });
  assert.equal(await node.locator('.problem').count(), 0, 'the refusal is gone once the user acted on it');
  await node.locator('#drain-state', { hasText: 'Drained — safe to remove' }).waitFor({ timeout: 30_000 });

  await confirm(node.locator('shoal-confirm-button#remove button'));
  await node.waitFor({ state: 'detached', timeout: 30_000 });
  assert.equal((await cluster!.client.nodes()).some((n) => n.id === id), false);
});

test('after a node joins, Rebalance shows as running until the gateway has finished moving chunks onto it', async () => {
  await cluster!.addNode('node5');
  await card('node5').and(page.locator('[status="online"]')).waitFor({ timeout: 30_000 });
  const rebalance = panel().locator('button#rebalance');
  await rebalance.click();
  await panel().and(page.locator('[rebalancing]')).waitFor({ timeout: 30_000 });
  assert.equal((await rebalance.innerText()).trim(), 'Rebalancing…');
  await panel().and(page.locator(':not([rebalancing])')).waitFor({ timeout: 30_000 });
  assert.equal((await rebalance.innerText()).trim(), 'Rebalance');
  assert.equal((await cluster!.client.health()).repair.rebalancing, false);
  await until(async () => Number(await card('node5').locator('dd.chunks').innerText()) > 0, 'the new node to show the chunks it was given');
});

test('Scrub now asks every online node to scrub and says so', async () => {
  await panel().locator('button#scrub').click();
  await panel().locator('#scrub-note', { hasText: 'Scrub asked of 3 nodes' }).waitFor({ timeout: 30_000 });
});
