import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { randomBytesSeeded, TestCluster } from '../../testing/cluster.ts';

const MiB = 1024 * 1024;

/**
 * Upload chunk buffers are pooled and used again once every put of a chunk settles (NodeLink.put
 * settles only once its socket wrote the bytes). Many uploads at once share the few buffers of the
 * pool while a node is killed -9 under them: puts fail mid-send, copies go elsewhere, buffers are
 * refilled for the next chunk. Every upload acknowledged must read back byte for byte, and none
 * may be acknowledged with another upload's bytes.
 */
test('concurrent uploads through the shared chunk buffers stay byte-exact while a node is killed -9 under them', async () => {
  const cluster = await TestCluster.start({ nodes: 3, replicas: 2, gatewayArgs: ['--max-uploads', '16'] });
  try {
    const bodies = Array.from({ length: 8 }, (_, i) => randomBytesSeeded(12 * MiB + 1234 * i, 7000 + i));
    let killed: Promise<void> | null = null;
    const answers = await Promise.all(
      bodies.map(async (body, i) => {
        // Kill while the uploads are mid-stream: some chunks' sends to node1 are still in its socket.
        if (i === 3) killed = new Promise((resolve) => setTimeout(resolve, 300)).then(() => cluster.killNode('node1'));
        const res = await cluster.fetch(`/api/files/pool/f${i}`, { method: 'PUT', body });
        return res.status;
      }),
    );
    await killed;
    const acknowledged = answers.flatMap((status, i) => (status === 201 ? [i] : []));
    assert.ok(acknowledged.length > 0, `no upload was acknowledged: ${answers.join(', ')}`);
    for (const i of acknowledged) {
      const res = await cluster.client.download(`pool/f${i}`);
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(bodies[i]!).digest('hex'), `pool/f${i} reads back as it was sent`);
    }

    // The killed node's copies, as it reopens its disk, verify too (a node checks every put's hash).
    cluster.startNode('node1');
    await cluster.waitForOnline(3, 60_000);
    for (const i of acknowledged) {
      const res = await cluster.client.download(`pool/f${i}`);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(bodies[i]!), `pool/f${i} reads back with node1 back`);
    }
  } finally {
    await cluster.stop();
  }
});
