import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sha256Hex } from '../../sha256.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';

const MiB = 1024 * 1024;

/** Reads a response body slowly, calling `midway` once about a fifth of it has arrived. */
async function readSlowly(res: Response, midway: () => Promise<void>): Promise<Uint8Array> {
  const reader = res.body!.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  let called = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    if (!called && received >= 4 * MiB) {
      called = true;
      await midway();
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return Buffer.concat(parts);
}

test('a download finishes on the version it started on while the name is overwritten or deleted, and that version is collected after', async () => {
  const cluster = await TestCluster.start({ nodes: 3 });
  try {
    const nodes = ['node1', 'node2', 'node3'];
    const v1 = randomBytesSeeded(64 * MiB, 1);
    const v2 = randomBytesSeeded(12 * MiB, 2);
    await cluster.client.upload('movie.bin', v1);

    const overwritten = await readSlowly(await cluster.client.download('movie.bin'), async () => {
      await cluster.client.upload('movie.bin', v2);
    });
    assert.equal(sha256Hex(overwritten), sha256Hex(v1), 'the reader got the version it started on');
    assert.equal(sha256Hex(new Uint8Array(await (await cluster.client.download('movie.bin')).arrayBuffer())), sha256Hex(v2));
    await waitFor(async () => {
      const copies = await cluster.copiesOnDisk(nodes);
      return chunkIds(cluster.dataDir, v1, 4 * MiB).every((hash) => !copies.has(hash));
    }, 30_000, 'the replaced version collected once its reader finished');

    const deleted = await readSlowly(await cluster.client.download('movie.bin', { range: { start: 0 } }), async () => {
      await cluster.client.delete('movie.bin');
    });
    assert.equal(sha256Hex(deleted), sha256Hex(v2), 'the reader of a deleted file gets all of it');
    await waitFor(async () => (await cluster.copiesOnDisk(nodes)).size === 0, 30_000, 'the deleted version collected once its reader finished');
  } finally {
    await cluster.stop();
  }
});
