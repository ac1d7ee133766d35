import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway } from '../start-gateway.ts';

const CHUNK = 64 * 1024;

test('a download some chunk of which has no copy online is a 503 CHUNK_UNAVAILABLE before the headers, not a 200 that breaks off', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-chunk-unavailable-'));
  const backends = new Map(['n1', 'n2'].map((id) => [id, new MemoryChunkBackend()]));
  const gateway = await startGateway({ port: 0, dataDir, replicas: 1, chunkSize: CHUNK });
  const agents = [...backends].map(([id, backend]) => startMemoryNode(gateway.url, dataDir, id, backend));
  try {
    await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'two nodes online');
    const client = new ShoalClient(gateway.url, { token: gateway.adminToken });
    const data = randomBytesSeeded(20 * CHUNK, 77);
    await client.upload('one-copy.bin', data);

    // The node that does not hold the first chunk: the first read succeeds, a later one cannot.
    const [first] = chunkIds(dataDir, data, CHUNK);
    const id = (await backends.get('n1')!.read(first!)) ? 'n2' : 'n1';
    assert.ok((await backends.get(id)!.scan()).size > 0, `${id} holds some of the file`);
    agents[[...backends.keys()].indexOf(id)]!.stop();
    await waitFor(() => !gateway.registry.readable(id), 30_000, `${id} offline`);

    await assert.rejects(client.download('one-copy.bin'), (err: unknown) => err instanceof ShoalError && err.code === 'CHUNK_UNAVAILABLE');
    const head = await client.download('one-copy.bin', { range: { start: 0, end: CHUNK - 1 } });
    assert.ok(Buffer.from(await head.arrayBuffer()).equals(data.subarray(0, CHUNK)), 'a range whose chunks are online is still served');
  } finally {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
