import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { randomBytesSeeded, TestCluster } from '../../testing/cluster.ts';

test('/api/stats counts the bytes the file API took in and sent out; clearing repair failures is an admin action', async () => {
  const cluster = await TestCluster.start({ nodes: 2 });
  try {
    const data = randomBytesSeeded(300_000, 9);
    await cluster.client.upload('a.bin', data);
    await (await cluster.client.download('a.bin')).arrayBuffer();
    const stats = await cluster.client.throughput();
    assert.equal(stats.bytesWritten, data.length);
    assert.equal(stats.bytesRead, data.length);
    assert.equal(stats.samples.reduce((sum, s) => sum + s.writtenBytes, 0), data.length);

    const { secret } = await cluster.client.createToken({ name: 'reader', role: 'read' });
    const reader = new ShoalClient(cluster.url, { token: secret });
    assert.equal((await reader.throughput()).bytesWritten, data.length, 'a read token may see the figures');
    await assert.rejects(reader.clearRepairFailures(), { code: 'FORBIDDEN' });
    const repair = await cluster.client.clearRepairFailures();
    assert.equal(repair.failed, 0);
    assert.equal(repair.lastFailure, null);
  } finally {
    await cluster.stop();
  }
});
