import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { randomBytesSeeded, TestCluster } from '../../testing/cluster.ts';

test('/api/stats counts the bytes the file API took in and sent out; clearing repair failures is an admin action', async () => {
  // Chunks of 64 KiB: a file of several is streamed to the client, one of a single chunk sent whole.
  const cluster = await TestCluster.start({ nodes: 2, gatewayArgs: ['--chunk-size', '64KiB'] });
  try {
    const data = randomBytesSeeded(300_000, 9);
    await cluster.client.upload('a.bin', data);
    await cluster.client.upload('small.bin', data.subarray(0, 1000));
    assert.deepEqual(new Uint8Array(await (await cluster.client.download('a.bin')).arrayBuffer()), data);
    const range = await cluster.client.download('a.bin', { range: { start: 60_000, end: 140_000 } });
    assert.equal(range.status, 206);
    assert.deepEqual(new Uint8Array(await range.arrayBuffer()), data.subarray(60_000, 140_001));
    await (await cluster.client.download('small.bin')).arrayBuffer();
    const stats = await cluster.client.throughput();
    const written = data.length + 1000;
    assert.equal(stats.bytesWritten, written);
    assert.equal(stats.bytesRead, data.length + 80_001 + 1000);
    assert.equal(stats.samples.reduce((sum, s) => sum + s.writtenBytes, 0), written);

    const { secret } = await cluster.client.createToken({ name: 'reader', role: 'read' });
    const reader = new ShoalClient(cluster.url, { token: secret });
    assert.equal((await reader.throughput()).bytesWritten, written, 'a read token may see the figures');
    await assert.rejects(reader.clearRepairFailures(), { code: 'FORBIDDEN' });
    const repair = await cluster.client.clearRepairFailures();
    assert.equal(repair.failed, 0);
    assert.equal(repair.lastFailure, null);
  } finally {
    await cluster.stop();
  }
});
