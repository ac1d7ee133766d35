import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';
import { ScriptedNode } from '../../testing/scripted-node.ts';

const tab = (cluster: TestCluster, id: string, join: string) =>
  ScriptedNode.connect({ gatewayUrl: cluster.url, nodeId: id, token: `token-of-${id}`, join, kind: 'browser', capacityBytes: 1e9 });

test('closed tabs that hold no recorded chunk are forgotten after --forget-tabs-after; a tab holding copies and a stopped disk node stay', async () => {
  const cluster = await TestCluster.start({ nodes: 2, replicas: 2, gatewayArgs: ['--forget-tabs-after', '2s'] });
  const tabs: ScriptedNode[] = [];
  try {
    const { token } = await cluster.client.createInvite({ maxUses: 2 });
    // With one disk node and R=2, the tab online during the upload gets a recorded copy of every chunk.
    await cluster.killNode('node2');
    tabs.push(await tab(cluster, 'tab-holding1', token));
    await tabs[0]!.sendInventory([]);
    // Not merely two online: node2 may still count until the gateway sees its socket close.
    await waitFor(async () => (await cluster.nodeStatus('node2')) === 'offline' && (await cluster.nodeStatus('tab-holding1')) === 'online', 60_000, 'node2 offline and the tab online');
    await cluster.client.upload('kept.bin', randomBytesSeeded(50_000, 1));
    tabs.push(await tab(cluster, 'tab-empty001', token));
    await tabs[1]!.sendInventory([]);
    const before = new Map((await cluster.client.nodes()).map((n) => [n.id, n]));
    assert.ok(before.get('tab-holding1')!.recordedChunks > 0, 'the first tab holds recorded copies');
    assert.equal(before.get('tab-empty001')!.recordedChunks, 0);

    for (const t of tabs) await t.close();
    await waitFor(async () => !(await cluster.client.nodes()).some((n) => n.id === 'tab-empty001'), 60_000, 'the empty closed tab to be forgotten');
    const ids = (await cluster.client.nodes()).map((n) => n.id).sort();
    assert.deepEqual(ids, ['node1', 'node2', 'tab-holding1']);
    const health = await cluster.client.health();
    assert.equal(health.nodesTotal, 3);
    // Only node1 is online: offline nodes' space is not counted as the cluster's capacity.
    assert.equal(health.capacityBytes, 1e9);
  } finally {
    for (const t of tabs) await t.close();
    await cluster.stop();
  }
});
