import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadJoinSecret } from '../server/gateway/nodes/join-secret.ts';
import { launchBrowser } from '../server/testing/browser.ts';
import { randomBytesSeeded, waitFor } from '../server/testing/cluster.ts';
import { ScriptedNode } from '../server/testing/scripted-node.ts';
import { logIn, startWebCluster } from '../server/testing/web-cluster.ts';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts', import.meta.url));

test('a node quarantined for serving wrong bytes shows why on its card, and Clear quarantine trusts it again', async () => {
  const cluster = await startWebCluster({ nodes: 2 });
  const browser = await launchBrowser();
  try {
    // Ranked first for every chunk by its claimed capacity, so it holds a copy of each; every read
    // of one is wrong until the operator has dealt with it, then it admits it holds nothing.
    let lying = true;
    const liar = await ScriptedNode.connect({
      gatewayUrl: cluster.url,
      nodeId: 'liar',
      token: 'token-of-the-lying-node',
      join: loadJoinSecret(cluster.dataDir),
      capacityBytes: 2 ** 52,
      answer: ({ header }) => {
        if (header.type !== 'get') return { type: 'ok' };
        return lying ? { type: 'data', payload: randomBytes(1000) } : { type: 'error', code: 'CHUNK_NOT_FOUND' };
      },
    });
    await liar.sendInventory([]);
    await cluster.waitForOnline(3);
    for (let i = 0; i < 30; i++) await cluster.client.upload(`f-${i}.bin`, randomBytesSeeded(1000, i + 1));
    // Each read asks the liar or an honest node at random; the liar's wrong copies are dropped as it is caught.
    await waitFor(
      async () => {
        for (let i = 0; i < 30; i++) await (await cluster.client.download(`f-${i}.bin`)).arrayBuffer();
        return (await cluster.client.nodes()).some((n) => n.id === 'liar' && n.quarantine !== null);
      },
      30_000,
      'the liar quarantined',
    );

    const page = await browser.newPage();
    await page.setViewportSize({ width: 1280, height: 1000 });
    await logIn(page, cluster);
    const card = page.locator('shoal-node-card[node-id="liar"][quarantined]');
    await card.waitFor({ timeout: 30_000 });
    assert.match(await card.locator('#quarantine-reason').innerText(), /wrong bytes/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-quarantine.png'), fullPage: true });

    lying = false;
    await card.locator('button#trust').click();
    await page.locator('shoal-node-card[node-id="liar"]:not([quarantined])').waitFor({ timeout: 30_000 });
    assert.equal((await cluster.client.nodes()).find((n) => n.id === 'liar')?.quarantine, null);
    await liar.close();
  } finally {
    await browser.close();
    await cluster.stop();
  }
});
