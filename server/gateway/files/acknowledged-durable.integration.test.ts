import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskChunkStore } from '../../node/disk-chunk-store.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { TestCluster } from '../../testing/cluster.ts';

/**
 * Group commit gathers concurrent small PUTs into shared fsyncs on the nodes and shared
 * transactions in the metadata, and the nodes append small chunks to packs with shared fsyncs; a 201
 * must still mean the file is committed and every chunk is on R nodes' disks. The gateway and then
 * every node are killed -9 right after a burst of 201s, with more PUTs in flight: everything
 * acknowledged is then in the metadata, in both nodes' storage as they reopen it, and reads back.
 */
test('every small file acknowledged in a concurrent burst survives the gateway and the nodes being killed -9 right after', async () => {
  // Every PUT of the burst streams at once (past --max-uploads they would get 503 and no group forms).
  const cluster = await TestCluster.start({ nodes: 3, replicas: 2, gatewayArgs: ['--max-uploads', '64'], nodeArgs: ['--pack-below', '64KiB'] });
  try {
    const bodies = Array.from({ length: 64 }, () => randomBytes(1024));
    const acknowledged: number[] = [];
    let killed: Promise<void> | null = null;
    await Promise.allSettled(
      bodies.map(async (body, i) => {
        const res = await cluster.fetch(`/api/files/burst/f${i}`, { method: 'PUT', body });
        if (res.status !== 201 || killed) return;
        acknowledged.push(i);
        // Kill as soon as a good part of the burst is acknowledged, with the rest still in flight.
        if (acknowledged.length === 24) killed = cluster.kill(cluster.gateway).then(() => Promise.all(['node1', 'node2', 'node3'].map((id) => cluster.killNode(id)))).then(() => {});
      }),
    );
    await killed;
    assert.ok(acknowledged.length >= 24, `only ${acknowledged.length} PUTs were acknowledged`);

    // Straight from what the dead processes left: each acknowledged file is committed, and each of
    // its chunks is recorded on two nodes whose storage holds it, intact.
    const metadata = SqliteMetadataStore.open(join(cluster.dataDir, 'metadata.db'));
    const stores = new Map<string, DiskChunkStore>();
    for (const id of ['node1', 'node2', 'node3']) stores.set(id, await DiskChunkStore.open(cluster.nodeDir(id), 1e9));
    try {
      for (const i of acknowledged) {
        const file = await metadata.getFile(`burst/f${i}`);
        assert.ok(file, `burst/f${i} was acknowledged but is not in the metadata`);
        const hashes = file.chunks.map((chunk) => chunk.hash);
        const recorded = await metadata.getChunks(hashes);
        for (const hash of hashes) {
          const holders = recorded.get(hash)?.nodeIds ?? [];
          assert.equal(holders.length, 2, `chunk of burst/f${i} recorded on ${holders.length} nodes`);
          for (const id of holders) {
            assert.ok(await stores.get(id)!.has(hash), `chunk of burst/f${i} is not on ${id}'s disk`);
            await stores.get(id)!.get(hash);
          }
        }
      }
    } finally {
      await metadata.close();
      for (const store of stores.values()) await store.close();
    }

    await cluster.startGateway();
    for (const id of ['node1', 'node2', 'node3']) cluster.startNode(id);
    // Three node processes and a gateway starting at once take a while on a loaded machine.
    await cluster.waitForOnline(3, 60_000);
    for (const i of acknowledged) {
      const res = await cluster.client.download(`burst/f${i}`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bodies[i], `burst/f${i} reads back`);
    }
  } finally {
    await cluster.stop();
  }
});
