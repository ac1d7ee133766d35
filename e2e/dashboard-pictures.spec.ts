import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright';
import { launchBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { logIn, openNodeTab, startWebCluster } from '../server/testing/web-cluster.ts';

// Issue 15 on the dashboard: pictures that update live, honest stale figures, a tidy node list, and
// an automated accessibility pass (axe-core) over every page.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/**
 * Repair soon after a node goes, slowly enough (small chunks, slow rate) to be seen under way. A node
 * killed or a tab closed is gone when its socket closes; the long silence grace only keeps a loaded
 * machine from judging offline a node the test never stopped.
 */
const GATEWAY_ARGS = ['--repair-after', '1s', '--heartbeat-ms', '500', '--offline-after-ms', '10000', '--chunk-size', '1MiB', '--repair-rate', '1MiB'];

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
let context: BrowserContext;
let page: Page;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  cluster = await startWebCluster({ nodes: 3, gatewayArgs: GATEWAY_ARGS });
  for (let i = 0; i < 3; i++) await cluster.client.upload(`pictures/${i}.bin`, randomBytesSeeded(3 * 1024 * 1024, 40 + i));
  await (await cluster.client.download('pictures/0.bin')).arrayBuffer();
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 1100 } });
  page = await context.newPage();
  await logIn(page, cluster);
  await page.locator('shoal-node-card[status="online"]').nth(2).waitFor();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** Serious and critical axe-core violations on `target`'s page, colour contrast included, as lines. */
async function accessibilityProblems(target: Page): Promise<string[]> {
  // Evaluated rather than added as a script tag: the app's CSP rightly refuses inline scripts.
  await target.evaluate(await readFile(AXE, 'utf8'));
  const violations = await target.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }> }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`));
}

async function shot(target: Page, name: string): Promise<void> {
  await target.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
}

test('live: the throughput chart and every node on one fill scale, with no serious accessibility problem', async () => {
  const chart = page.locator('shoal-throughput-chart svg[role="img"]');
  await chart.waitFor({ timeout: 30_000 });
  assert.match((await chart.getAttribute('aria-label'))!, /Throughput over the last \d+ minutes/);
  const bars = page.locator('shoal-node-fill-chart li');
  await waitFor(async () => (await bars.count()) === 3, 30_000, 'a fill bar per node');
  // The bars come from the first snapshot; "Live" only once the event stream is open, which on a
  // loaded machine can come after them.
  await waitFor(async () => (await page.locator('shoal-dashboard-page #live').innerText()) === 'Live', 30_000, 'the page to say Live');
  // Sizes are read out in words, not as raw byte counts.
  assert.match(await page.locator('shoal-stat#capacity shoal-size .spoken').first().innerText(), /^[\d.]+ (kilo|mega|giga)bytes$/);
  assert.match(await page.locator('shoal-node-card button#drain').first().getAttribute('aria-label').then(String), /^Drain node\d$/);
  await shot(page, 'dashboard-live.png');
  assert.deepEqual(await accessibilityProblems(page), []);
});

test('the files page and the node page pass the accessibility pass too; a new tab offers to reuse a closed tab\'s store', async () => {
  await page.goto(new URL('/files', cluster!.url).href);
  await page.locator('shoal-files-page').waitFor();
  await page.locator('shoal-file-list').waitFor();
  assert.deepEqual(await accessibilityProblems(page), []);

  const tab = await openNodeTab(context, cluster!);
  await tab.page.locator('shoal-node-page #pause').waitFor();
  assert.equal((await tab.page.locator('shoal-node-page #pause').innerText()).trim(), `Pause ${tab.id}`);
  // Enough chunks that placement gives the tab some, so closing it leaves a store worth reusing.
  for (let i = 0; i < 6 && (await tab.page.locator('shoal-node-page').getAttribute('chunks')) === '0'; i++) {
    await cluster!.client.upload(`pictures/tab-${i}.bin`, randomBytesSeeded(3 * 1024 * 1024, 60 + i));
  }
  assert.notEqual(await tab.page.locator('shoal-node-page').getAttribute('chunks'), '0', 'the tab holds chunks');
  await tab.page.close();

  // A tab opened with an invite offers the closed tab's store before making a new node.
  const { token } = await cluster!.client.createInvite({ label: 'second tab', maxUses: 1 });
  const next = await context.newPage();
  await next.goto(new URL(`/node?invite=${token}`, cluster!.url).href);
  await next.locator('shoal-node-page[state="choosing"]').waitFor({ timeout: 30_000 });
  await shot(next, 'node-page-reuse-offer.png');
  assert.deepEqual(await accessibilityProblems(next), []);
  await next.locator(`shoal-node-page button[aria-label="Reuse ${tab.id}"]`).click();
  await next.locator(`shoal-node-page[state="online"][node-id="${tab.id}"]`).waitFor({ timeout: 30_000 });
  await shot(next, 'node-page.png');
  assert.deepEqual(await accessibilityProblems(next), []);
  await next.close();
  await page.goto(cluster!.url);
  await page.locator('shoal-node-card').first().waitFor();
});

test('healing: the self-healing panel shows its progress as a bar with the time left', async () => {
  // The tab closed last holds copies: they are made again on disk nodes first, so no chunk's only
  // copies are on the tab and node3.
  await waitFor(
    async () => {
      const health = await cluster!.client.health();
      return health.nodesOnline === 3 && health.underReplicatedChunks === 0 && health.repair.queued + health.repair.active === 0;
    },
    30_000,
    'the closed tab\'s copies to be made again',
  );
  await cluster!.killNode('node3');
  const progress = page.locator('shoal-repair-panel #repair-progress');
  await progress.waitFor({ timeout: 30_000 });
  await waitFor(async () => / left$/.test(await page.locator('shoal-repair-panel #time-left').innerText()), 30_000, 'a time-left estimate');
  await shot(page, 'dashboard-healing-eta.png');
  await page.locator('shoal-repair-panel[state="healthy"]').waitFor({ timeout: 60_000 });
});

test('offline nodes can be hidden, and those safe to remove (node3 once healed, the closed tab) are removed at once', async () => {
  await page.locator('shoal-node-card[node-id="node3"][status="offline"]').waitFor();
  // The capacity tile counts nodes online only.
  const health = await cluster!.client.health();
  assert.equal(health.capacityBytes, 2e9);
  // Offline cards step back without fading below AA contrast.
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.locator('shoal-dashboard-page #hide-offline').check();
  await page.locator('shoal-node-card[node-id="node3"]').waitFor({ state: 'detached' });
  await shot(page, 'dashboard-offline-hidden.png');
  assert.deepEqual(await accessibilityProblems(page), []);
  await page.locator('shoal-dashboard-page #hide-offline').uncheck();
  const remove = page.locator('shoal-dashboard-page #remove-safe button');
  await waitFor(async () => /^Remove 2 offline nodes safe to remove$/.test(await remove.innerText().catch(() => '')), 30_000, 'node3 and the closed tab to be safe to remove').catch(async (err: unknown) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(await cluster!.client.nodes())} ${await page.locator('shoal-dashboard-page .offline-tools').innerText()}`);
  });
  await remove.click();
  await remove.click();
  await waitFor(async () => (await cluster!.client.nodes()).every((n) => n.status === 'online'), 30_000, 'node3 and the closed tab removed');
});

test('stale: with the gateway gone every figure says "as of" and nothing is shown as current', async () => {
  await cluster!.kill(cluster!.gateway, 'SIGTERM');
  const banner = page.locator('shoal-dashboard-page #stale');
  await banner.waitFor({ timeout: 30_000 });
  assert.match(await banner.innerText(), /as of \d\d:\d\d, not live/);
  const text = await page.locator('shoal-dashboard-page').innerText();
  assert.doesNotMatch(text, /cluster ok|Healthy|\bLive\b/);
  assert.match(await page.locator('shoal-repair-panel #repair-state span').innerText(), /unknown since \d\d:\d\d/);
  assert.equal(await page.locator('shoal-repair-panel').getAttribute('state'), 'stale');
  assert.match(await page.locator('shoal-throughput-chart svg').getAttribute('aria-label').then(String), /before \d\d:\d\d: at \d\d:\d\d reading/);
  for (const status of await page.locator('shoal-node-card shoal-status span').allInnerTexts()) assert.match(status, / at \d\d:\d\d$/);
  await shot(page, 'dashboard-stale.png');
  assert.deepEqual(await accessibilityProblems(page), []);
});
