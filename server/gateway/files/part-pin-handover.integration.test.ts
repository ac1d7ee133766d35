// A part's chunks, between being written by FileWriter.storeChunks and recorded by UploadParts,
// must stay pinned: a failed upload of identical content (convergent encryption: the same chunk
// id) discarding its copies at that moment would otherwise delete the part's copies too. The race
// is made deterministic by composing the gateway's own primitives around a real node server and
// real nodes, and running the failed upload exactly in that gap.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { BrowserOrigins } from '../browser-origin.ts';
import { loadClusterIdentity } from '../cluster-identity.ts';
import { gatewayConfig } from '../config.ts';
import { BulkTransfers } from '../nodes/bulk-transfers.ts';
import { MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX, ManifestSeal } from '../metadata/manifest.ts';
import { openMetadata } from '../open-metadata.ts';
import { UnreferencedCopies } from '../replicas/unreferenced-copies.ts';
import { UploadsInFlight } from '../replicas/uploads-in-flight.ts';
import { openS3Stores } from '../s3/open-s3-stores.ts';
import { loadSecret } from '../secret-file.ts';
import { connectNodes, serveGateway, startGateway } from '../start-gateway.ts';
import { ChunkCipher } from './chunk-cipher.ts';
import { CryptoWorkers } from './crypto-workers.ts';
import { loadDataKey } from './data-key.ts';
import { FileWriter } from './file-writer.ts';
import { UploadParts } from './upload-parts.ts';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A body of `data` that then ends, or breaks off when `fail`. */
function streamOf(data: Uint8Array, fail: boolean): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream({
    pull(controller) {
      if (!sent) controller.enqueue(data);
      else if (fail) controller.error(new Error('the client went away'));
      else controller.close();
      sent = true;
    },
  });
}

test('a part stored while a failed upload of the same content discards its copies keeps them until recorded', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-part-pins-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  // A first start lays out the data directory: cluster identity, keys, metadata.
  await (await startGateway({ port: 0, dataDir, chunkSize: MiB, replicas: 2 })).close();

  const config = gatewayConfig({ port: 0, dataDir, chunkSize: MiB, replicas: 2 });
  const metadata = await openMetadata(dataDir);
  const { events, registry, replicas, nodeServer } = connectNodes(config, metadata, new UnreferencedCopies(), {
    clusterId: loadClusterIdentity(dataDir).id,
    maxChunkBytes: 2 * MiB,
    origins: new BrowserOrigins(config),
    bulk: new BulkTransfers(),
    onForeignCluster: () => {},
  });
  const { server, url } = await serveGateway(() => new Response(null, { status: 404 }), config, nodeServer);
  const backends = [new MemoryChunkBackend(), new MemoryChunkBackend()];
  const agents = backends.map((backend, i) => startMemoryNode(url, dataDir, `n${i + 1}`, backend));
  cleanups.push(async () => {
    for (const agent of agents) agent.stop();
    nodeServer.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await metadata.close();
  });
  await waitFor(() => registry.writableLinks().length === 2, 30_000, 'two nodes online');

  const seal = new ManifestSeal(loadSecret(dataDir, MANIFEST_KEY_FILE, MANIFEST_KEY_PREFIX));
  const dataKey = await loadDataKey(dataDir, metadata);
  const cipher = new ChunkCipher(dataKey);
  const crypto = new CryptoWorkers(cipher, dataKey);
  const writer = new FileWriter(replicas, new UploadsInFlight({ chunkBuffers: 8 }), registry, metadata, events, { seal, cipher, crypto, lastVersion: await metadata.largestVersion() }, config);
  const parts = new UploadParts(writer, replicas, openS3Stores(metadata)!.parts);

  const data = randomBytesSeeded(MiB, 91);
  const [id] = chunkIds(dataDir, data, MiB);
  const session = await parts.begin();
  const stored = await writer.storeChunks(streamOf(data, false));
  // The gap: stored, not yet recorded. The failed upload writes the same chunk to the same nodes, then discards what it wrote.
  await assert.rejects(writer.storeChunks(streamOf(data, true)));
  for (const backend of backends) assert.ok(await backend.read(id!), 'the part\'s copy of the chunk is kept');
  await parts.record(session, 1, stored);

  await parts.complete(session, 'whole.bin', [1]);
  for (const backend of backends) assert.ok(await backend.read(id!), 'the file\'s copy of the chunk is there');

  // Handed over, not leaked: once an aborted session lets go of its part, nothing pins the chunk,
  // so a failed upload of the same content deletes the copies it wrote at once.
  const other = randomBytesSeeded(MiB, 92);
  const [otherId] = chunkIds(dataDir, other, MiB);
  const aborted = await parts.begin();
  await parts.put(aborted, 1, streamOf(other, false));
  await parts.abort(aborted);
  await assert.rejects(writer.storeChunks(streamOf(other, true)));
  for (const backend of backends) assert.equal(await backend.read(otherId!), undefined, 'no pin is left on the aborted part\'s chunk');
});
