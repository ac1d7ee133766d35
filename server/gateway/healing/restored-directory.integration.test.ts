import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sha256Hex } from '../../sha256.ts';
import { chunkIds } from '../../testing/chunk-ids.ts';
import { assertAllIntact, FAST_REPAIR, fullyReplicated, randomBytesSeeded, TestCluster, waitFor } from '../../testing/cluster.ts';

const CHUNK = 256 * 1024;
const NODES = ['node1', 'node2', 'node3', 'node4'];

/** Chunks of the files that fewer than `replicas` disk nodes really hold. */
async function shortOnDisk(cluster: TestCluster, files: Map<string, Uint8Array>, replicas: number): Promise<string[]> {
  const copies = await cluster.copiesOnDisk(NODES);
  return [...new Set([...files.values()].flatMap((data) => chunkIds(cluster.dataDir, data, CHUNK)))].filter((hash) => (copies.get(hash) ?? 0) < replicas);
}

test('a node restarted with an older copy of its directory mid-upload: health counts only real copies, repair restores R, every file intact', async () => {
  const cluster = await TestCluster.start({ nodes: 4, gatewayArgs: [...FAST_REPAIR, '--chunk-size', '256KiB'] });
  const snapshot = await mkdtemp(join(tmpdir(), 'shoal-node1-snapshot-'));
  try {
    const files = new Map<string, Uint8Array>();
    const upload = async (name: string, data: Uint8Array) => {
      await cluster.client.upload(name, data);
      files.set(name, data);
    };
    for (let i = 0; i < 3; i++) await upload(`before/${i}.bin`, randomBytesSeeded(4 * CHUNK + i, 1100 + i));
    await cp(cluster.nodeDir('node1'), snapshot, { recursive: true });
    // Files committed after the copy was taken: node1's older directory will lack its share of them.
    for (let i = 0; i < 3; i++) await upload(`after/${i}.bin`, randomBytesSeeded(4 * CHUNK + i, 1200 + i));
    const heldBeforeUpload = (await cluster.chunkFiles('node1')).length;

    // An upload that stops halfway until node1 is back on its older directory. It begins with
    // chunks a file committed after the copy already has, recorded on node1 among others.
    const body = randomBytesSeeded(48 * CHUNK, 1300);
    body.set(files.get('after/0.bin')!.subarray(0, 4 * CHUNK));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === body.length) return controller.close();
        if (sent === body.length / 2) await resumed;
        controller.enqueue(body.subarray(sent, sent + CHUNK));
        sent += CHUNK;
      },
    });
    const inFlight = cluster.client.upload('in-flight.bin', stream);
    await waitFor(async () => (await cluster.chunkFiles('node1')).length > heldBeforeUpload + 2, 60_000, 'node1 to take copies of the upload');

    await cluster.killNode('node1');
    // Gone for the gateway too, so that four online below is node1 back, not its old session.
    await waitFor(async () => (await cluster.nodeStatus('node1')) === 'offline', 60_000, 'node1 offline');
    await rm(cluster.nodeDir('node1'), { recursive: true, force: true });
    await cp(snapshot, cluster.nodeDir('node1'), { recursive: true });
    cluster.startNode('node1');
    await cluster.waitForOnline(4);
    resume();
    assert.equal((await inFlight).sha256, sha256Hex(body));
    files.set('in-flight.bin', body);

    // Repair only ever adds copies, to disk before the record: health read first never counts fewer than the disk then shows.
    const health = await cluster.client.health();
    const short = await shortOnDisk(cluster, files, 2);
    assert.ok(health.underReplicatedChunks >= short.length, `health counts ${health.underReplicatedChunks} chunks short of 2 copies; the disks show ${short.length}`);

    await waitFor(() => fullyReplicated(cluster), 60_000, 'repair to restore 2 copies');
    assert.deepEqual(await shortOnDisk(cluster, files, 2), [], 'chunks with fewer than 2 real copies once health says every chunk has them');
    await assertAllIntact(cluster, new Map([...files].map(([name, data]) => [name, sha256Hex(data)])));
  } finally {
    await cluster.stop();
    await rm(snapshot, { recursive: true, force: true });
  }
});
