// Convergent encryption makes identical content the same chunk id: an upload that fails must not
// delete the copies of a chunk that a concurrent upload of the same content is counting on.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import type { ChunkKind } from '../../../shared/chunk-store.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { rawUpload, type RawAnswer, type WriteBody } from '../../testing/raw-upload.ts';
import { startGateway } from '../start-gateway.ts';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A node's chunks in memory, counting the writes of each id, so the test can tell when an upload has stored one. */
class CountingBackend extends MemoryChunkBackend {
  readonly writes = new Map<string, number>();

  override async write(hash: string, data: Uint8Array, kind: ChunkKind): Promise<void> {
    await super.write(hash, data, kind);
    this.writes.set(hash, (this.writes.get(hash) ?? 0) + 1);
  }
}

function later(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('an upload that fails while another of the same content is under way leaves that one whole', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-dedup-race-'));
  const gateway = await startGateway({ port: 0, dataDir, chunkSize: MiB, replicas: 2, maxUploads: 2 });
  const backends = [new CountingBackend(), new CountingBackend()];
  const agents = backends.map((backend, i) => startMemoryNode(gateway.url, dataDir, `n${i + 1}`, backend));
  cleanups.push(async () => {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'two nodes online');
  const put = (name: string, send: (write: WriteBody) => Promise<void>): Promise<RawAnswer> => rawUpload(gateway.url, gateway.adminToken, name, {}, send);

  const shared = randomBytesSeeded(MiB, 71);
  const tail = randomBytesSeeded(MiB + 5000, 72);
  const [id] = chunkIds(dataDir, shared, MiB);
  const writesOf = (): number => backends.reduce((sum, backend) => sum + (backend.writes.get(id!) ?? 0), 0);

  // A stores the shared first chunk on both nodes, then hangs on.
  const failA = later();
  const a = put('a.bin', async (write) => {
    await write(shared);
    await write(randomBytesSeeded(5000, 73));
    await failA.promise;
    throw new Error('the client went away');
  }).catch((err: Error) => err);
  await waitFor(() => writesOf() >= 2, 30_000, 'A stored the shared chunk');

  // B, of the same first chunk, stores it again (A committed nothing, so no copy is recorded yet).
  const finishB = later();
  const b = put('b.bin', async (write) => {
    await write(shared);
    await write(tail.subarray(0, 5000));
    await finishB.promise;
    await write(tail.subarray(5000));
  });
  await waitFor(() => writesOf() >= 4, 30_000, 'B stored the shared chunk too');

  // A fails; its slot is free (so its failure is fully handled) once another upload is admitted.
  failA.resolve();
  await a;
  await waitFor(async () => (await put('probe.bin', async (write) => void (await write(Buffer.from('probe'))))).status === 201, 30_000, 'A ended');
  for (const backend of backends) assert.ok(await backend.read(id!), 'B\'s copy of the shared chunk is kept');

  finishB.resolve();
  assert.equal((await b).status, 201, (await b).body);
  const got = Buffer.from(await (await new ShoalClient(gateway.url, { token: gateway.adminToken }).download('b.bin')).arrayBuffer());
  assert.ok(got.equals(Buffer.concat([shared, tail])), 'b.bin reads back whole');
});
