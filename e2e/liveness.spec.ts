import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright';
import { launchBrowser } from '../server/testing/browser.ts';
import { waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { FAST_HEARTBEAT, FAST_LIVENESS, openNodeTab, startWebCluster } from '../server/testing/web-cluster.ts';

/**
 * Background tabs get their timers throttled to a tick a minute. Liveness must not need them: the
 * gateway pings, and Chromium's network stack answers without running page JavaScript. Headless
 * Chromium does not throttle background tabs, so a main thread blocked solid stands in for one.
 */
const BLOCK_MS = 20_000;
const { heartbeatMs, offlineAfterMs } = FAST_LIVENESS;

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

/**
 * Stops every process of the browser, as a closed laptop lid would: nothing answers the gateway's
 * pings, yet no socket is closed, so only the missing answers can tell the gateway the node is gone.
 * Resolves with the function that lets the processes run again.
 */
async function freezeBrowser(browser: Browser): Promise<() => void> {
  const cdp = await browser.newBrowserCDPSession();
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  await cdp.detach();
  const pids = processInfo.map((p) => p.id);
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  return () => {
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  };
}

test(`a node tab whose page runs no JavaScript for ${BLOCK_MS / 1000} s stays online, with pings every ${heartbeatMs / 1000} s and offline after ${offlineAfterMs / 1000} s`, async () => {
  const tab = await openNodeTab(await browser!.newContext(), cluster!);
  const seen: string[] = [];
  /** How old the gateway's last ping answer was at each look. */
  const answerAges: number[] = [];
  let blocked = true;
  const watching = (async () => {
    while (blocked) {
      const node = (await cluster!.client.nodes()).find((n) => n.id === tab.id);
      seen.push(node?.status ?? 'missing');
      if (node) answerAges.push(Date.now() - Date.parse(node.lastSeenAt));
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
  const oldestAnswer = Math.max(...answerAges);
  assert.ok(oldestAnswer < 2 * heartbeatMs, `a ping was answered at least every ${heartbeatMs} ms, the oldest answer seen being ${oldestAnswer} ms old`);
  assert.equal(await tab.page.locator('shoal-node-page').getAttribute('state'), 'online');
  // The same session all along: the node never dropped its socket and came back.
  const log = await tab.page.locator('shoal-activity-log').innerText();
  assert.doesNotMatch(log, /disconnected/);

  const thaw = await freezeBrowser(browser!);
  /** How long the gateway had heard nothing from the node when it was seen offline. */
  let silentMs = 0;
  try {
    await waitFor(
      async () => {
        const node = (await cluster!.client.nodes()).find((n) => n.id === tab.id)!;
        silentMs = Date.now() - Date.parse(node.lastSeenAt);
        return node.status === 'offline';
      },
      4 * offlineAfterMs,
      'the frozen tab to be offline',
    );
  } finally {
    thaw();
  }
  // A socket closed by the freeze would have made it offline at once, with its last answer fresh.
  assert.ok(silentMs > offlineAfterMs, `offline when the last answer was ${silentMs} ms old: before it was ${offlineAfterMs} ms overdue`);
  // The gateway looks once per ping, and this test once every 100 ms.
  assert.ok(silentMs <= offlineAfterMs + 2 * heartbeatMs, `offline only when the last answer was ${silentMs} ms old`);
});
