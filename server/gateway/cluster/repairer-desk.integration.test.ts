import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAST_REPAIR, randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import type { GatewayProcess } from '../../testing/gateway-process.ts';
import { clusterOnPostgres, describeWithPostgres } from '../../testing/postgres-suite.ts';

describeWithPostgres('admin actions and figures through a gateway that does not hold the repair lease', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 3, replicas: 2, gateways: 2, gatewayArgs: FAST_REPAIR });

  test('health there shows the holder\'s repair figures, and rebalance, clearing failures and confirming collection reach the holder', { timeout: 180_000 }, async () => {
    const view = await cluster().gateways[0]!.client.gateways();
    const holderUrl = view.find((g) => g.repairer)!.url;
    const holder = cluster().gateways.find((gateway) => gateway.url === holderUrl)!;
    const other = cluster().gateways.find((gateway) => gateway !== holder)!;
    for (let i = 0; i < 3; i++) await other.client.upload(`f-${i}.bin`, randomBytesSeeded(40_000 + i, 70 + i));

    await cluster().killNode('node1');
    await waitFor(async () => (await holder.client.health()).underReplicatedChunks === 0 && (await holder.client.health()).repair.done > 0, 60_000, 'the holder to repair');
    const done = (await holder.client.health()).repair.done;
    await waitFor(async () => (await other.client.health()).repair.done === done, 30_000, 'the holder\'s figures in the other gateway\'s health');

    const call = async (gateway: GatewayProcess, method: string, path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await gateway.fetch(path, { method });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const rebalance = await call(other, 'POST', '/api/rebalance');
    assert.equal(rebalance.status, 202);
    assert.equal((rebalance.body.repair as { done: number }).done, done, 'answered by the holder, which did the repairs');
    assert.equal((rebalance.body.repair as { rebalancing: boolean }).rebalancing, true);
    const cleared = await call(other, 'DELETE', '/api/repair/failures');
    assert.deepEqual([cleared.status, (cleared.body.repair as { done: number }).done, (cleared.body.repair as { failed: number }).failed], [200, done, 0]);
    const confirmed = await call(other, 'POST', '/api/collection/confirm');
    assert.deepEqual([confirmed.status, confirmed.body], [200, { nodes: [] }]);
  });
});
