import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchPersistentBrowser, type PersistentBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor, type TestCluster } from '../server/testing/cluster.ts';
import { postgresUnavailable, startPostgres, type PostgresServer } from '../server/testing/postgres-server.ts';
import { FAST_HEARTBEAT, FAST_LIVENESS, openNodeTab, startWebCluster } from '../server/testing/web-cluster.ts';
import { sha256 } from './web-app.ts';

const unavailable = postgresUnavailable();
if (unavailable) {
  console.log(unavailable);
  test('a tab links to every gateway', { skip: unavailable }, () => {});
} else {
  describe('a tab opened on gateway A of two', () => {
    let server: PostgresServer;
    let browser: PersistentBrowser;
    const clusters: TestCluster[] = [];
    const startCluster = async (gateways: number) => {
      const cluster = await startWebCluster({ nodes: 0, replicas: 1, metadata: await server.createDatabase(), gateways, gatewayArgs: FAST_HEARTBEAT });
      clusters.push(cluster);
      return cluster;
    };

    before(async () => {
      server = await startPostgres();
      browser = await launchPersistentBrowser();
    });

    after(async () => {
      await browser?.close();
      for (const cluster of clusters) await cluster.stop();
      await server?.stop();
    });

    test('serves gateway B too: with A killed, it stays online on B, which stores on it and reads from it', async () => {
      const cluster = await startCluster(2);
      const [a, b] = cluster.gateways;
      const tab = await openNodeTab(browser.context, cluster);
      await waitFor(async () => (await b!.client.nodes()).some((node) => node.id === tab.id && node.status === 'online'), 30_000, 'B shows the tab online');
      await tab.page.locator('shoal-stat#gateways[value="2"]').waitFor({ timeout: 30_000 });
      await cluster.kill(a!.child);
      // Past the time A's word counts: online on B now means B hears the tab itself.
      await new Promise((resolve) => setTimeout(resolve, FAST_LIVENESS.offlineAfterMs + 1000));
      assert.equal((await b!.client.nodes()).find((node) => node.id === tab.id)?.status, 'online');
      assert.equal(await tab.page.locator('shoal-node-page').getAttribute('state'), 'online');
      const bytes = randomBytesSeeded(2 * 1024 * 1024, 9);
      await b!.client.upload('through-b.bin', bytes);
      const res = await b!.fetch(b!.client.fileUrl('through-b.bin'));
      assert.equal(sha256(new Uint8Array(await res.arrayBuffer())), sha256(bytes));
    });

    // The page's policy (connect-src) names only the gateways A knew of when it served the page,
    // so a gateway that joins later is blocked until the page reloads: the tab never linked to it.
    test('links to a gateway B that joins after the page loaded', async () => {
      const cluster = await startCluster(1);
      const tab = await openNodeTab(browser.context, cluster);
      const b = await cluster.addGateway();
      await tab.page.locator('shoal-stat#gateways[value="2"]').waitFor({ timeout: 30_000 });
      await waitFor(async () => (await b.client.nodes()).find((node) => node.id === tab.id)?.linked === true, 30_000, 'B links to the tab itself');
      assert.equal(await tab.page.locator('shoal-node-page').getAttribute('node-id'), tab.id, 'the same node after the reload');
    });
  });
}
