import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright';
import type { TestCluster } from '../server/testing/cluster.ts';
import { launchBrowser } from './browser.ts';
import { FAST_HEARTBEAT, openNodeTab, startWebCluster } from './web-cluster.ts';

/**
 * Background tabs get their timers throttled to a tick a minute. Liveness must not need them: the
 * gateway pings, and Chromium's network stack answers without running page JavaScript. Headless
 * Chromium does not throttle background tabs, so a main thread blocked solid stands in for one.
 */
const BLOCK_MS = 20_000;

let cluster: TestCluster | undefined;
let browser: Browser | undefined;

before(async () => {
  cluster = await startWebCluster({ nodes: 0, gatewayArgs: FAST_HEARTBEAT });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

test(`a node tab whose page runs no JavaScript for ${BLOCK_MS / 1000} s stays online, with pings every second and offline after 3 s`, async () => {
  const tab = await openNodeTab(await browser!.newContext(), cluster!.url);
  const seen: string[] = [];
  let blocked = true;
  const watching = (async () => {
    while (blocked) {
      const node = (await cluster!.client.nodes()).find((n) => n.id === tab.id);
      seen.push(node?.status ?? 'missing');
      await sleep(250);
    }
  })();
  const ticks = await tab.page.evaluate((ms) => {
    let timerTicks = 0;
    const timer = setInterval(() => timerTicks++, 100);
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // Nothing else runs on this thread meanwhile: no timers, no socket handlers.
    }
    clearInterval(timer);
    return timerTicks;
  }, BLOCK_MS);
  blocked = false;
  await watching;

  assert.equal(ticks, 0, 'the page ran no timer while blocked');
  assert.ok(seen.length >= BLOCK_MS / 500, `polled the gateway ${seen.length} times`);
  assert.deepEqual([...new Set(seen)], ['online'], `statuses seen: ${seen.join(' ')}`);
  assert.equal(await tab.page.locator('shoal-node-page').getAttribute('state'), 'online');
  // The same session all along: the node never dropped its socket and came back.
  const log = await tab.page.locator('shoal-activity-log').innerText();
  assert.doesNotMatch(log, /disconnected/);
});
