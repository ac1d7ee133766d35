import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import type { NodeAgent } from '../../../shared/node-agent.ts';
import { sha256Hex } from '../../sha256.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';

/** A node's storage whose removals wait at a gate the test opens, so a trim can be caught mid-way. */
class GatedRemovals extends MemoryChunkBackend {
  removing: string[] = [];
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => (this.#open = resolve));

  open(): void {
    this.#open();
  }

  override async remove(hashes: string[]): Promise<void> {
    this.removing.push(...hashes);
    await this.#gate;
    await super.remove(hashes);
  }
}

test('a trim removing a surplus copy holds the chunk: an upload of the same chunk places it only after the removal is done', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-trim-race-'));
  const backends = ['n1', 'n2', 'n3'].map(() => new GatedRemovals());
  const agents: NodeAgent[] = [];
  let gateway: Gateway = await startGateway({ port: 0, dataDir, replicas: 3, heartbeatMs: 500, offlineAfterMs: 15_000 });
  try {
    backends.forEach((backend, i) => agents.push(startMemoryNode(gateway.url, dataDir, `n${i + 1}`, backend)));
    await waitFor(() => gateway.registry.writableLinks().length === 3, 30_000, 'three nodes online');
    const data = randomBytesSeeded(100_000, 7);
    const hash = chunkIds(dataDir, data, 4 * 1024 * 1024)[0]!;
    await new ShoalClient(gateway.url, { token: gateway.adminToken }).upload('first.bin', data);

    // The same cluster with R = 2: the chunk now has one surplus copy, which repair trims.
    const port = gateway.port;
    await gateway.close();
    gateway = await startGateway({ port, dataDir, replicas: 2, heartbeatMs: 500, offlineAfterMs: 15_000 });
    const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
    await waitFor(() => backends.some((b) => b.removing.includes(hash)), 30_000, 'the trim to start removing the surplus copy');

    let uploaded = false;
    const second = client.upload('second.bin', data).then((info) => {
      uploaded = true;
      return info;
    });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(uploaded, false, 'the upload placed the chunk while a removal of it was under way');

    for (const backend of backends) backend.open();
    assert.equal((await second).sha256, sha256Hex(data));
    for (const name of ['first.bin', 'second.bin']) {
      assert.equal(sha256Hex(new Uint8Array(await (await client.download(name)).arrayBuffer())), sha256Hex(data), name);
    }
    const holders = backends.filter((b) => !b.removing.includes(hash));
    assert.equal(holders.length, 2, 'exactly one surplus copy was removed');
    for (const backend of holders) assert.ok(await backend.read(hash), 'a kept copy is really there');
  } finally {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
