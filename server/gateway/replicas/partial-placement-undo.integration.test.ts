// A failed upload undoes the copies it wrote, but a copy it "wrote" may be the very bytes a node
// already held for a file: an unrecorded copy of a chunk a file needs is kept (collection waits
// for R copies elsewhere before removing one), and the undo must keep it too.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ShoalClient } from '../../../shared/api-client.ts';
import { ShoalError } from '../../../shared/errors.ts';
import { MemoryChunkBackend } from '../../../shared/memory-chunk-store.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, waitFor } from '../../testing/cluster.ts';
import { startMemoryNode } from '../../testing/memory-node.ts';
import { rawUpload } from '../../testing/raw-upload.ts';
import { startGateway } from '../start-gateway.ts';

const MiB = 1024 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A node whose disk is full: every write fails as a real one's would. */
class FullBackend extends MemoryChunkBackend {
  override async write(): Promise<void> {
    throw new ShoalError('NODE_FULL', 'disk is full');
  }
}

test('an upload short of R nodes leaves a copy it rewrote that a file needs and the metadata had forgotten', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'shoal-undo-placement-'));
  const gateway = await startGateway({ port: 0, dataDir, chunkSize: MiB, replicas: 2 });
  const n1 = new MemoryChunkBackend();
  const agents = [startMemoryNode(gateway.url, dataDir, 'n1', n1), startMemoryNode(gateway.url, dataDir, 'n2')];
  cleanups.push(async () => {
    for (const agent of agents) agent.stop();
    await gateway.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'two nodes online');
  const client = new ShoalClient(gateway.url, { token: gateway.adminToken });

  const data = randomBytesSeeded(MiB / 2, 81);
  await client.upload('kept.bin', data);
  const [id] = chunkIds(dataDir, data, MiB) as [string];
  const sealed = (await n1.read(id))!;

  // n1's disk loses the copy and n2 goes away: a read finds n1 without it, and the metadata forgets n1's copy.
  await n1.remove([id]);
  agents[1]!.stop();
  await waitFor(() => gateway.registry.readableLinks().length === 1, 30_000, 'n2 offline');
  await (await client.download('kept.bin').catch(() => null))?.arrayBuffer().catch(() => null);
  // n1's disk is then restored from a backup: it holds kept.bin's only reachable copy, unrecorded.
  await n1.write(id, sealed, 'chunk');

  // A third node joins whose disk is full: the same content uploaded again reaches only n1 of the
  // two nodes R needs, and fails.
  agents.push(startMemoryNode(gateway.url, dataDir, 'n3', new FullBackend()));
  await waitFor(() => gateway.registry.writableLinks().length === 2, 30_000, 'n3 online');
  const answer = await rawUpload(gateway.url, gateway.adminToken, 'again.bin', {}, async (write) => void (await write(data)));
  assert.ok(answer.status >= 500, `${answer.status} ${answer.body}`);
  assert.ok(await n1.read(id), 'the copy kept.bin needs is still on n1');
});
