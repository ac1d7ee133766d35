import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import type { NodeAgent } from '../../../shared/node-agent.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { SqliteMetadataStore } from '../metadata/sqlite-metadata-store.ts';
import { METADATA_FILE } from '../open-metadata.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A cluster in this process: a gateway and memory nodes whose agents and storage the test can reach. */
async function withCluster(
  backends: Map<string, MemoryChunkBackend>,
  body: (c: { gateway: Gateway; client: ShoalClient; agents: NodeAgent[]; dataDir: string }) => Promise<void>,
  options: { chunkSize?: number } = {},
): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-sealed-reads-'));
  const gateway = await startGateway({ port: 0, dataDir, replicas: 2, heartbeatMs: 200, offlineAfterMs: 5000, ...options });
  const agents = [...backends].map(([id, backend]) => startMemoryNode(gateway.url, dataDir, id, backend));
  try {
    await waitFor(() => gateway.registry.writableLinks().length === backends.size, 30_000, 'nodes online');
    await body({ gateway, client: new ShoalClient(gateway.url, { token: gateway.adminToken }), agents, dataDir });
  } finally {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const bytesServed = (agents: NodeAgent[]) => agents.reduce((sum, agent) => sum + agent.bytesOut, 0);

test('a 1-byte range moves one sealed segment from a node, not the 4 MiB chunk, and reads the right byte', async () => {
  await withCluster(new Map([['a', new MemoryChunkBackend()], ['b', new MemoryChunkBackend()]]), async ({ client, agents }) => {
    const data = randomBytesSeeded(4 * MiB, 31);
    await client.upload('big.bin', data);
    for (const at of [0, 3 * MiB + 12_345, 4 * MiB - 1]) {
      const before = bytesServed(agents);
      const res = await client.download('big.bin', { range: { start: at, end: at } });
      assert.equal(res.status, 206);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), data.subarray(at, at + 1), `byte ${at}`);
      const moved = bytesServed(agents) - before;
      assert.ok(moved > 0 && moved <= 64 * KiB + 16, `byte ${at}: the nodes sent ${moved} bytes`);
    }
    const before = bytesServed(agents);
    const span = await client.download('big.bin', { range: { start: MiB - 10, end: MiB + 10 } });
    assert.deepEqual(new Uint8Array(await span.arrayBuffer()), data.subarray(MiB - 10, MiB + 11));
    assert.ok(bytesServed(agents) - before <= 2 * (64 * KiB + 16), 'a range across a segment boundary moves the two segments');
  });
});

/** A node whose reads never answer until it is let go: a replica as slow as can be. */
class StalledReads extends MemoryChunkBackend {
  reads = 0;
  #release!: () => void;
  readonly #released = new Promise<void>((resolve) => (this.#release = resolve));

  override async read(hash: string): Promise<Uint8Array | undefined> {
    this.reads++;
    await this.#released;
    return super.read(hash);
  }

  release(): void {
    this.#release();
  }
}

test('a download reads ahead from the replica that answers: a stalled one gets a read or two, not every other chunk', async () => {
  const stalled = new StalledReads();
  await withCluster(
    new Map<string, MemoryChunkBackend>([['fast', new MemoryChunkBackend()], ['stalled', stalled]]),
    async ({ client }) => {
      const data = randomBytesSeeded(16 * 256 * KiB, 32);
      await client.upload('movie.bin', data);
      try {
        const res = await client.download('movie.bin');
        assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
        assert.ok(stalled.reads <= 3, `the stalled replica was asked for ${stalled.reads} of 16 chunks`);
      } finally {
        stalled.release();
      }
    },
    { chunkSize: 256 * KiB },
  );
});

test('chunks stored in plaintext by the previous release stay readable and are encrypted in the background', async () => {
  const backends = new Map([['a', new MemoryChunkBackend()], ['b', new MemoryChunkBackend()]]);
  const marker = Buffer.from('PLAINTEXT-MARKER-written-before-encryption');
  const data = Buffer.concat([marker, randomBytesSeeded(300 * KiB, 33), marker]);
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-reseal-'));
  let gateway = await startGateway({ port: 0, dataDir, replicas: 2, heartbeatMs: 200, offlineAfterMs: 5000 });
  const agents = [...backends].map(([id, backend]) => startMemoryNode(gateway.url, dataDir, id, backend));
  try {
    await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'nodes online');
    const port = gateway.port;
    await gateway.close();

    // What the previous release left: the file's one chunk stored as it is, under its plain
    // SHA-256, on both nodes, and recorded without a key.
    const hash = sha256Hex(data);
    for (const backend of backends.values()) await backend.write(hash, data, 'chunk');
    const metadata = SqliteMetadataStore.open(join(dataDir, METADATA_FILE));
    await metadata.commitFile(
      { name: 'old.txt', size: data.length, sha256: hash, chunkSize: 4 * MiB, chunks: [{ hash, size: data.length }], replicas: 2, createdAt: '2025-01-01T00:00:00.000Z' },
      [{ hash, size: data.length, nodeIds: ['a', 'b'] }],
    );
    await metadata.close();

    gateway = await startGateway({ port, dataDir, replicas: 2, heartbeatMs: 200, offlineAfterMs: 5000 });
    await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'nodes back');
    const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
    assert.ok(Buffer.from(await (await client.download('old.txt')).arrayBuffer()).equals(data), 'read back as it was stored');
    const holdsPlaintext = async () => {
      for (const backend of backends.values()) {
        for (const id of (await backend.scan()).keys()) if (Buffer.from((await backend.read(id))!).includes(marker)) return true;
      }
      return false;
    };
    await waitFor(async () => !(await holdsPlaintext()), 30_000, 'the plaintext copies replaced by sealed ones');
    const [chunk] = (await client.fileDetail('old.txt')).chunks;
    assert.notEqual(chunk!.hash, hash, 'the file now names its sealed chunk');
    const info = await client.stat('old.txt');
    assert.equal(info.sha256, hash, 'same content, same digest');
    assert.ok(Buffer.from(await (await client.download('old.txt')).arrayBuffer()).equals(data), 'read back encrypted');
  } finally {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
