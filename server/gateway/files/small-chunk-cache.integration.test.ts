import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomBytesSeeded, TestCluster } from '../../testing/cluster.ts';
import { clusterOnPostgres, describeWithPostgres } from '../../testing/postgres-suite.ts';

const bytesOf = async (res: Response): Promise<Uint8Array> => new Uint8Array(await res.arrayBuffer());

test('--read-cache: a small file reads back without its nodes, always the version the metadata names now', { timeout: 180_000 }, async () => {
  const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: ['--read-cache', '1MiB'] });
  try {
    const [v1, v2, other] = [1, 2, 3].map((seed) => randomBytesSeeded(1024, seed));
    await cluster.client.upload('note.txt', v1!);
    assert.deepEqual(await bytesOf(await cluster.client.download('note.txt')), v1);
    await cluster.client.upload('note.txt', v2!);
    assert.deepEqual(await bytesOf(await cluster.client.download('note.txt')), v2, 'the overwrite, not the cached first version');
    const range = await cluster.client.download('note.txt', { range: { start: 100, end: 199 } });
    assert.equal(range.status, 206);
    assert.deepEqual(await bytesOf(range), v2!.subarray(100, 200));
    await cluster.client.upload('other.txt', other!);
    await cluster.client.delete('note.txt');
    assert.equal((await cluster.fetch('/api/files/note.txt')).status, 404, 'a deleted file is gone, cached or not');

    await Promise.all(['node1', 'node2'].map((id) => cluster.killNode(id)));
    assert.deepEqual(await bytesOf(await cluster.client.download('other.txt')), other, 'served from the gateway\'s memory');
  } finally {
    await cluster.stop();
  }
});

describeWithPostgres('--read-cache on two gateways over one PostgreSQL database', (postgres) => {
  const cluster = clusterOnPostgres(postgres, { nodes: 2, gateways: 2, gatewayArgs: ['--read-cache', '1MiB'] });

  test('an overwrite through one gateway is what the other serves at once', { timeout: 120_000 }, async () => {
    const [a, b] = cluster().gateways;
    const [v1, v2] = [4, 5].map((seed) => randomBytesSeeded(2048, seed));
    await a!.client.upload('shared.txt', v1!);
    assert.deepEqual(await bytesOf(await a!.client.download('shared.txt')), v1);
    await b!.client.upload('shared.txt', v2!);
    assert.deepEqual(await bytesOf(await a!.client.download('shared.txt')), v2);
    await b!.client.delete('shared.txt');
    assert.equal((await a!.fetch('/api/files/shared.txt')).status, 404);
  });
});
