import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { runShoal, TestCluster, waitFor } from '../../testing/cluster.ts';
import { strayNode } from '../../testing/scripted-node.ts';
import { loadJoinSecret } from '../nodes/join-secret.ts';

test('collection deletes at most its share of a node in a grace period, pauses saying why, and goes on once confirmed; a small node is not held up', async () => {
  const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: ['--gc-grace', '1s', '--gc-max-share', '10%'] });
  try {
    const join = loadJoinSecret(cluster.dataDir);
    const [large, small] = await Promise.all([
      strayNode({ gatewayUrl: cluster.url, nodeId: 'large', join, count: 1500 }),
      strayNode({ gatewayUrl: cluster.url, nodeId: 'small', join, count: 40 }),
    ]);
    await waitFor(async () => (await cluster.client.health()).orphans.paused.length > 0, 30_000, 'collection on large to pause');
    await waitFor(() => small.size === 40, 30_000, 'every stray chunk of the small node collected, under the floor of its allowance');

    // Two more grace periods: a pause lasts until an admin confirms, not until the period ends.
    await sleep(2500);
    assert.equal(large.size, 150, '10% of the 1500 chunks the large node holds');
    const { orphans } = await cluster.client.health();
    assert.equal(orphans.pending, 1350);
    assert.deepEqual(orphans.paused.map((p) => p.nodeId), ['large']);
    assert.match(orphans.paused[0]!.reason, /150 chunk\(s\) collected on large in this grace period.*10% of its 1500 chunks.*1350 more due there wait for an admin to confirm/);

    const confirmed = await runShoal(['gc', 'confirm'], { SHOAL_GATEWAY: cluster.url, SHOAL_TOKEN: cluster.token });
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.match(confirmed.stdout, /collection resumed on 1 node: large/);
    await waitFor(() => large.size === 1500, 30_000, 'the rest collected once confirmed');
    await waitFor(async () => (await cluster.client.health()).orphans.pending === 0, 30_000, 'nothing pending');
    assert.deepEqual((await cluster.client.health()).orphans.paused, []);
    assert.match((await runShoal(['gc', 'confirm'], { SHOAL_GATEWAY: cluster.url, SHOAL_TOKEN: cluster.token })).stdout, /collection was not paused on any node/);
  } finally {
    await cluster.stop();
  }
});
