// Uploads that neither die nor block the cluster, against a real gateway on port 0 with nodes in
// this process: a slow body outlives the server's timeouts, an idle one is ended, a declared size
// that cannot fit is refused before its body, and a failed upload gives its space back at once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { ShoalClient } from '../../../shared/api-client.ts';
import { MemoryChunkStore } from '../../../shared/memory-chunk-store.ts';
import { NodeAgent, type SocketConstructor } from '../../../shared/node-agent.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { rawUpload, type RawAnswer, type WriteBody } from '../../testing/raw-upload.ts';
import { loadJoinSecret } from '../nodes/join-secret.ts';
import { startGateway, type Gateway } from '../start-gateway.ts';
import type { GatewayConfig } from '../config.ts';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A gateway with `nodes` in-memory nodes of `capacity` bytes each, all online, and their `stores`. */
async function cluster(nodes: number, capacity: number, config: Partial<GatewayConfig>): Promise<{ gateway: Gateway; client: ShoalClient; stores: MemoryChunkStore[] }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-upload-limits-'));
  const gateway = await startGateway({ port: 0, dataDir, chunkSize: MiB, ...config });
  const stores = Array.from({ length: nodes }, () => new MemoryChunkStore(capacity));
  const agents = stores.map((store, i) => {
    const agent = new NodeAgent({
      gatewayUrl: gateway.url,
      nodeId: `n${i + 1}`,
      token: `token-of-n${i + 1}`,
      join: loadJoinSecret(dataDir),
      kind: 'disk',
      store,
      WebSocket: WebSocket as unknown as SocketConstructor,
      statsIntervalMs: 100,
    });
    agent.start();
    return agent;
  });
  cleanups.push(async () => {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await waitFor(() => gateway.registry.writableLinks().length === nodes, 30_000, `${nodes} nodes online`);
  return { gateway, client: new ShoalClient(gateway.url, { token: gateway.adminToken }), stores };
}

/** An upload to `gateway` through rawUpload, as its admin. */
function put(gateway: Gateway, name: string, headers: Record<string, string>, send: (write: WriteBody) => Promise<void>): Promise<RawAnswer> {
  return rawUpload(gateway.url, gateway.adminToken, name, headers, send);
}

test('a slow steady upload outlives the server timeouts; one idle past --idle-timeout is ended with 408 UPLOAD_IDLE', async () => {
  // Ten times the gap between writes: this process, which runs the gateway too, can stall for a
  // second on a loaded machine, and the gateway's timer would then run before it reads what came.
  const timeoutMs = 2500;
  const { gateway, client } = await cluster(2, 64 * MiB, { replicas: 2, idleTimeoutMs: timeoutMs, headersTimeoutMs: timeoutMs });
  const data = randomBytesSeeded(40 * 16 * 1024, 5);
  const startedAt = Date.now();
  const slow = await put(gateway, 'slow.bin', {}, async (write) => {
    for (let offset = 0; offset < data.length; offset += 16 * 1024) {
      await write(data.subarray(offset, offset + 16 * 1024));
      await sleep(250);
    }
  });
  assert.equal(slow.status, 201, slow.body);
  assert.ok(Date.now() - startedAt > 3 * timeoutMs, 'the upload took several idle timeouts and header timeouts in all');
  assert.equal((await (await client.download('slow.bin')).arrayBuffer()).byteLength, data.length);

  const idle = await put(gateway, 'idle.bin', {}, async (write) => {
    await write(data.subarray(0, 1000));
    await sleep(20_000);
  });
  assert.equal(idle.status, 408, idle.body);
  assert.equal(JSON.parse(idle.body).error.code, 'UPLOAD_IDLE');
  assert.ok(!(await client.list()).some((file) => file.name === 'idle.bin'));
});

test('a declared size that cannot fit R times is refused with 507 before its body; a failed upload frees its space at once', async () => {
  // 3 nodes of 12 MiB, R = 2: 36 MiB free, room for 18 MiB of files.
  const { gateway, client, stores } = await cluster(3, 12 * MiB, { replicas: 2, gcGraceMs: 60 * 60_000 });
  // Read from the nodes' stores, not their stats reports, which lag and arrive one node at a time.
  const used = async () => (await Promise.all(stores.map((store) => store.stats()))).reduce((sum, stats) => sum + stats.usedBytes, 0);
  const kept = randomBytesSeeded(2 * MiB, 8);
  await client.upload('kept.bin', kept);
  // Acknowledged once durable on R nodes: every copy of kept.bin is in the stores now.
  const keptUsage = await used();
  assert.ok(keptUsage >= 2 * kept.length, `kept.bin's copies: ${keptUsage} bytes`);

  const declared = await put(gateway, 'too-big.bin', { 'content-length': String(40 * MiB) }, async () => {
    await sleep(20_000); // never sends a byte: only an answer before the body ends this
  });
  assert.equal(declared.status, 507, declared.body);
  assert.equal(JSON.parse(declared.body).error.code, 'INSUFFICIENT_STORAGE');

  // Undeclared (chunked), and starting with kept.bin's chunks: it fills the nodes and fails. The
  // copies it wrote go at once, not after --gc-grace, and kept.bin's, which dedup shares, stay.
  const big = new Uint8Array(30 * MiB);
  big.set(kept);
  big.set(randomBytesSeeded(28 * MiB, 9), kept.length);
  const failed = await put(gateway, 'fills.bin', {}, async (write) => {
    for (let offset = 0; offset < big.length; offset += MiB) if (!(await write(big.subarray(offset, offset + MiB)))) return;
  });
  assert.ok(failed.status === 503 || failed.status === 507, `${failed.status} ${failed.body}`);
  await waitFor(async () => (await used()) === keptUsage, 30_000, 'the failed upload to release every copy it wrote');
  assert.deepEqual(new Uint8Array(await (await client.download('kept.bin')).arrayBuffer()), kept);
  // Nodes report their usage up to a second after a change, later on a loaded machine; admission
  // judges by those reports.
  await waitFor(async () => (await client.nodes()).reduce((sum, node) => sum + node.usedBytes, 0) === keptUsage, 30_000, 'the nodes to report the space freed');

  const fits = randomBytesSeeded(8 * MiB, 10);
  const info = await client.upload('fits.bin', fits);
  assert.equal(info.size, fits.length);
  assert.equal((await (await client.download('fits.bin')).arrayBuffer()).byteLength, fits.length);
});

test('past --max-uploads an upload gets 503 TOO_MANY_UPLOADS with Retry-After, and a slot frees when one ends', async () => {
  const { gateway, client } = await cluster(2, 64 * MiB, { replicas: 1, maxUploads: 2 });
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const running = [1, 2].map((i) =>
    put(gateway, `running-${i}.bin`, {}, async (write) => {
      await write(randomBytesSeeded(1000, i));
      await held;
    }),
  );
  await waitFor(async () => {
    const third = await fetch(new URL('/api/files/third.bin', gateway.url), { method: 'PUT', body: 'x', headers: { authorization: `Bearer ${gateway.adminToken}` } });
    const body = (await third.json()) as { error?: { code: string } };
    if (third.status !== 503) return false;
    assert.equal(body.error?.code, 'TOO_MANY_UPLOADS');
    assert.ok(Number(third.headers.get('retry-after')) > 0);
    return true;
  }, 30_000, 'a third upload refused');
  release();
  for (const answer of await Promise.all(running)) assert.equal(answer.status, 201, answer.body);
  assert.equal((await client.upload('after.bin', new Uint8Array([1, 2, 3]))).size, 3);
});
