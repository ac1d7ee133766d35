import assert from 'node:assert/strict';
import { mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import type { NodeAgent } from '../../../shared/node-agent.ts';
import { assertAllIntact, FAST_REPAIR, fullyReplicated, randomBytesSeeded, TestCluster, uploadSet, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { sha256Hex } from '../../sha256.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { startGateway } from '../start-gateway.ts';

const MiB = 1024 * 1024;

describe('health is honest', () => {
  test('chunk files deleted behind a node: its scrub reports them missing, repair restores R, and losing another node loses nothing', async () => {
    const cluster = await TestCluster.start({ nodes: 3, gatewayArgs: FAST_REPAIR, nodeArgs: ['--scrub-rate', '256MiB'] });
    try {
      const files = await uploadSet(cluster, 3, 5 * MiB, 900);
      const nodes = ['node1', 'node2', 'node3'];
      const deleted = await cluster.chunkFiles('node1');
      assert.ok(deleted.length >= 2, `node1 holds ${deleted.length} chunks`);
      for (const path of deleted) await unlink(path);
      const repairedBefore = (await cluster.client.health()).repair.done;

      await cluster.client.scrub();
      await waitFor(
        async () => (await cluster.client.health()).repair.done - repairedBefore >= deleted.length && (await fullyReplicated(cluster)),
        30_000,
        'every copy deleted behind node1 reported and rebuilt',
      );
      const copies = await cluster.copiesOnDisk(nodes);
      for (const path of deleted) assert.equal(copies.get(path.slice(-64)), 2, `copies of ${path.slice(-64, -52)} on disk`);

      await cluster.killNode('node2');
      await waitFor(async () => (await cluster.nodeStatus('node2')) === 'offline', 30_000, 'node2 offline');
      await assertAllIntact(cluster, files);
    } finally {
      await cluster.stop();
    }
  });

  test('a trim reads back the copies it keeps: draining a node whose chunks sit beside missing copies deletes none of its real ones', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'shoal-trim-verify-'));
    const backends = new Map(['a', 'b', 'd'].map((id) => [id, new MemoryChunkBackend()]));
    const agents: NodeAgent[] = [];
    // Nothing here waits for a node to go offline: a long grace keeps a loaded machine from judging them so.
    const gateway = await startGateway({ port: 0, dataDir, replicas: 2, heartbeatMs: 500, offlineAfterMs: 15_000 });
    try {
      for (const [id, backend] of backends) agents.push(startMemoryNode(gateway.url, dataDir, id, backend));
      await waitFor(() => gateway.registry.writableLinks().length === 3, 30_000, 'three nodes online');
      const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
      // One chunk a file; about a third of them land on a and d together, so files are stored until
      // 8 have (40 files fell short about once in 30 runs).
      const files = new Map<string, string>();
      const [a, b, d] = ['a', 'b', 'd'].map((id) => backends.get(id)!);
      const ids: string[] = [];
      const beside: string[] = [];
      for (let i = 0; i < 200 && beside.length < 8; i++) {
        const data = randomBytesSeeded(20_000, 1000 + i);
        await client.upload(`f${i}.bin`, data);
        files.set(`f${i}.bin`, sha256Hex(data));
        const chunks = chunkIds(dataDir, data, 4 * 1024 * 1024);
        ids.push(...chunks);
        for (const hash of chunks) if ((await a!.read(hash)) && (await d!.read(hash))) beside.push(hash);
      }
      assert.ok(beside.length >= 8, `${beside.length} chunks on both a and d`);
      // a's copies of them vanish without a word: still recorded, still on an online node.
      await a!.remove(beside);

      await client.drainNode('d');
      await waitFor(
        async () => {
          const health = await client.health();
          const drained = (await client.nodes()).find((n) => n.id === 'd')?.recordedChunks === 0;
          return drained && health.underReplicatedChunks === 0 && health.repair.queued + health.repair.active === 0;
        },
        30_000,
        'd drained',
      );
      for (const hash of ids) {
        const held = [(await a!.read(hash)) !== undefined, (await b!.read(hash)) !== undefined].filter(Boolean).length;
        assert.equal(held, 2, `real copies of ${hash.slice(0, 12)} on a and b once d is drained`);
      }
      await client.removeNode('d');
      for (const [name, digest] of files) assert.equal(sha256Hex(new Uint8Array(await (await client.download(name)).arrayBuffer())), digest, name);
    } finally {
      for (const agent of agents) agent.stop();
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
