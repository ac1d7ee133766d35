import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { sha256Hex } from '../../sha256.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import type { GatewayConfig } from '../config.ts';

// Resumable uploads outlive the gateway: their sessions and parts are in the metadata's database.
const CHUNK = 64 * 1024;
const TUS = { 'Tus-Resumable': '1.0.0' };
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A gateway with two memory nodes that `restart()` stops and starts again on the same port and data. */
async function restartable(config: Partial<GatewayConfig>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-tus-restart-'));
  const backends = ['n1', 'n2'].map(() => new MemoryChunkBackend());
  let gateway: Gateway = await startGateway({ port: 0, dataDir, replicas: 2, chunkSize: CHUNK, ...config });
  const agents = backends.map((backend, i) => startMemoryNode(gateway.url, dataDir, `n${i + 1}`, backend));
  cleanups.push(async () => {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const online = () => waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'two nodes online');
  await online();
  const tus = (path: string, init: RequestInit & { duplex?: 'half' } = {}) =>
    fetch(`${gateway.url}${path}`, { ...init, headers: { ...TUS, Authorization: `Bearer ${gateway.adminToken}`, ...(init.headers as Record<string, string>) } });
  return {
    backends,
    tus,
    client: () => new ShoalClient(gateway.url, { token: gateway.adminToken }),
    async restart() {
      await gateway.close();
      gateway = await startGateway({ port: gateway.port, dataDir, replicas: 2, chunkSize: CHUNK, ...config });
      await online();
    },
    async create(name: string, length: number): Promise<string> {
      const res = await tus('/api/uploads', { method: 'POST', headers: { 'Upload-Length': String(length), 'Upload-Metadata': `filename ${Buffer.from(name).toString('base64')}` } });
      assert.equal(res.status, 201, await res.text());
      return res.headers.get('location')!;
    },
    async offset(location: string): Promise<number | null> {
      const res = await tus(location, { method: 'HEAD' });
      return res.status === 404 ? null : Number(res.headers.get('upload-offset'));
    },
    patch: (location: string, at: number, body: BodyInit) =>
      tus(location, { method: 'PATCH', headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(at) }, body, duplex: 'half' }),
    copies: async () => (await Promise.all(backends.map(async (b) => (await b.scan()).size))).reduce((a, b) => a + b, 0),
  };
}

test('an upload begun before a gateway restart carries on from the offset HEAD gives after it, and completes whole', async () => {
  const cluster = await restartable({ gcGraceMs: 500 });
  const bytes = randomBytesSeeded(6 * CHUNK + 321, 61);
  const location = await cluster.create('restarted.bin', bytes.length);
  assert.equal((await cluster.patch(location, 0, bytes.subarray(0, 3 * CHUNK + 50))).status, 204);

  await cluster.restart();
  // Past the collection grace: the parts' chunks are pinned again, so collection leaves them.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const at = await cluster.offset(location);
  assert.equal(at, 3 * CHUNK);
  const last = await cluster.patch(location, at!, bytes.subarray(at!));
  assert.equal(last.status, 204, await last.text());
  assert.equal(Number(last.headers.get('upload-offset')), bytes.length);

  const back = new Uint8Array(await (await cluster.client().download('restarted.bin')).arrayBuffer());
  assert.equal(sha256Hex(back), sha256Hex(bytes));
  assert.equal((await cluster.client().stat('restarted.bin')).size, bytes.length);
});

test('an upload left open over a restart expires after it and its chunks are released', async () => {
  // Long enough to outlast the restart on a loaded machine: the upload must still be open after it.
  const cluster = await restartable({ gcGraceMs: 500, uploadExpiryMs: 10_000 });
  const before = await cluster.copies();
  const bytes = randomBytesSeeded(3 * CHUNK, 62);
  const location = await cluster.create('abandoned.bin', bytes.length + 1);
  assert.equal((await cluster.patch(location, 0, bytes)).status, 204);
  assert.equal(await cluster.copies(), before + 3 * 2);

  await cluster.restart();
  assert.equal(await cluster.offset(location), 3 * CHUNK, 'still open after the restart');
  await waitFor(async () => (await cluster.offset(location)) === null, 60_000, 'the upload to expire');
  await waitFor(async () => (await cluster.copies()) === before, 30_000, 'its chunks to leave the nodes');
  assert.deepEqual((await cluster.client().listPage({ prefix: 'abandoned' })).files, []);
});
